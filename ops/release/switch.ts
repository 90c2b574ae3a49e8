/** A child's switch to a release (its link, uWSGI's chain reload, health through nginx), with the cluster's paths: deploy and rollback both switch children. */
import { APP_USER, PATHS, PORTS } from "../../roles/context";
import { UWSGI_UNIT } from "../../roles/child";
import { RELEASE_HEADER, RELEASE_PATHS } from "../../roles/release";
import { TLS_PATHS } from "../../roles/tls";
import type { Inventory } from "../../model";
import { switchChild } from "./commands/switch";
import { releaseDir } from "./release";
import type { ReleaseApp } from "./types";

export function switchChildArgv(app: ReleaseApp, inventory: Inventory, id: string, timeout: number): readonly string[] {
  return switchChild({
    link: RELEASE_PATHS.nodeCurrent,
    releaseDir: releaseDir(id),
    id,
    unit: UWSGI_UNIT,
    statsSocket: RELEASE_PATHS.uwsgiStats,
    healthPath: app.healthPath,
    fqdn: inventory.recordFqdn,
    httpsPort: PORTS.https,
    fullchain: TLS_PATHS.fullchain,
    selfSigned: TLS_PATHS.selfSigned,
    timeoutSeconds: timeout,
    header: RELEASE_HEADER,
    staticRoot: PATHS.static,
    user: APP_USER.name,
  });
}
