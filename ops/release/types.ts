/**
 * What releases need of the stack's app (spec/app.ts AppSpec, the contract of issue 12): the same field names,
 * so an AppSpec is passed as it is.
 */
export type ReleaseSource = { kind: "dir"; path: string } | { kind: "git"; url: string; ref: string };

export interface ReleaseApp {
  source: ReleaseSource;
  /** "djangoha_app.wsgi:application". */
  wsgiModule: string;
  /** "djangoha_app.settings". */
  settingsModule: string;
  /** Path inside the project, e.g. "requirements.txt". Defaults to none. */
  requirements?: string;
  /** The Celery app ("djangoha_app"). Defaults to none: the worker runs no app queue. */
  celeryApp?: string;
  /** "/health/": 200 = healthy. */
  healthPath: string;
  pythonIndexUrl: string;
}
