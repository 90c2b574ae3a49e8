/** What releases need of the stack's app: spec/app.ts AppSpec (django-ha:app), the fields deploy and rollback use. */
import type { AppSource, AppSpec } from "../../spec/app";

export type ReleaseSource = AppSource;
export type ReleaseApp = Pick<AppSpec, "source" | "wsgiModule" | "settingsModule" | "requirements" | "celeryApp" | "healthPath" | "pythonIndexUrl">;
