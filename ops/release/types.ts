/** What releases need of the stack's app: model/app.ts AppSpec (django-ha:app), the fields deploy and rollback use. */
import type { AppSource, AppSpec } from "../../model/app";

export type ReleaseSource = AppSource;
export type ReleaseApp = Pick<
  AppSpec,
  "source" | "wsgiModule" | "settingsModule" | "requirements" | "celeryApp" | "healthPath" | "pythonIndexUrl"
>;
