/**
 * The projects the lab deploys besides the sample app (app/), as a stack would name them in django-ha:app, and the
 * sources of the lab's local Python index (wheels/, lab/pyindex.ts). docs/your-project.md describes the keys.
 */
import * as path from "node:path";
import { labPythonIndexUrl } from "../../lab/pyindex";
import { parseAppConfig, type AppSpec } from "../../model/app";

/**
 * test/projects/ledger: a layout unlike app/'s — settings in a package (ledger_site.settings.cluster), a WSGI
 * callable named `app`, a Celery app attribute, requirements in requirements/cluster.txt naming ledgerfmt (only
 * in the lab's index), a health view at /-/health/, an extra Debian package, its own env and one secret.
 */
export const LEDGER_CONFIG = {
  path: path.join(__dirname, "ledger"),
  wsgiModule: "ledger_site.wsgi:app",
  settingsModule: "ledger_site.settings.cluster",
  requirements: "requirements/cluster.txt",
  celeryApp: "ledger_site.worker:queue_app",
  healthPath: "/-/health/",
  debianPackages: ["python3-markdown"],
  pythonIndexUrl: labPythonIndexUrl(),
  env: { LEDGER_CURRENCY: "EUR" },
  secretKeys: ["LEDGER_SIGNING_KEY"],
} as const;

/** The ledger project as the validated django-ha:app of a lab stack. */
export function ledgerApp(): AppSpec {
  return parseAppConfig(LEDGER_CONFIG, "test/projects/index.ts");
}
