/** child (app): nginx → uWSGI → Django, the share from the primary, migrations and static files. */
import { APP_USER, ClusterFacts, PATHS } from "./context";
import { file, started } from "./actions";
import { appConfigActions } from "./app";
import { exportReachableCheck, nginxHealthCheck, shareMountedCheck, uwsgiHealthCheck } from "./checks";
import { MODE_PAGES, renderModePage, renderNginxSite } from "./files/nginx";
import { APP_WATCH, appWatchActions } from "./appwatch";
import { renderUnit, unitPath, UnitFile } from "./files/systemd";
import { renderUwsgiIni } from "./files/uwsgi";
import { removeFilesScript } from "./scripts";
import { releaseFiles, releaseLinkScript, RELEASE_PATHS, WSGI_LOADER_MODULE, type ReleaseAppRoles } from "./release";
import { shareClientActions } from "./share";
import { childTlsActions, TLS_PATHS, tlsSyncTimer } from "./tls";
import type { Action, Check } from "./types";
import type { InventoryNode } from "../model";

export const UWSGI_UNIT = "django-ha-uwsgi.service";
export const NGINX_SITE = "/etc/nginx/sites-enabled/django-ha";

/**
 * Our own emperor-less unit rather than Debian's apps-enabled: Debian's is a sysvinit wrapper that starts
 * every app the same way; ours gives Type=notify readiness, the app's EnvironmentFile, ordering after the
 * share, and `systemctl reload` = chain reload.
 */
export function uwsgiUnit(): UnitFile {
  return {
    name: UWSGI_UNIT,
    sections: [
      [
        "Unit",
        [
          ["Description", "django-ha: the Django app under uWSGI"],
          ["Wants", "network-online.target"],
          ["After", "network-online.target remote-fs.target"],
          ["RequiresMountsFor", PATHS.share],
        ],
      ],
      [
        "Service",
        [
          ["Type", "notify"],
          ["NotifyAccess", "all"],
          ["User", APP_USER.name],
          ["Group", APP_USER.name],
          ["EnvironmentFile", PATHS.appEnv],
          ["EnvironmentFile", PATHS.appSecretsEnv],
          ["RuntimeDirectory", "django-ha-uwsgi"],
          ["RuntimeDirectoryMode", "0750"],
          ["ExecStart", `/usr/bin/uwsgi --ini ${PATHS.uwsgiIni}`],
          // Chain reload: workers are replaced one by one, requests keep being served.
          ["ExecReload", `/usr/bin/touch ${PATHS.uwsgiChainReload}`],
          ["KillSignal", "SIGTERM"],
          ["TimeoutStopSec", 90],
          ["Restart", "on-failure"],
          ["RestartSec", 2],
          ["LimitNOFILE", 65536],
        ],
      ],
      ["Install", [["WantedBy", "multi-user.target"]]],
    ],
  };
}

export function childActions(node: InventoryNode, f: ClusterFacts, app: ReleaseAppRoles): Action[] {
  const ini = file(
    PATHS.uwsgiIni,
    renderUwsgiIni({
      chdir: PATHS.stateDir,
      pythonpath: RELEASE_PATHS.libDir,
      module: `${WSGI_LOADER_MODULE}:application`,
      env: { DJANGO_HA_WSGI: app.wsgiModule },
      statsSocket: RELEASE_PATHS.uwsgiStats,
      socket: PATHS.uwsgiSocket,
      chainReloadFile: PATHS.uwsgiChainReload,
      processes: 4,
      harakiriSeconds: 60,
      maxRequests: 5000,
      reloadOnRssMb: 300,
    }),
  );
  const unit = uwsgiUnit();
  const unitFile = file(unitPath(unit.name), renderUnit(unit));
  const site = file(
    NGINX_SITE,
    renderNginxSite({
      fqdn: f.fqdn,
      tlsDir: TLS_PATHS.dir,
      acmeWebroot: PATHS.acme,
      staticDir: PATHS.static,
      mediaDir: PATHS.media,
      uwsgiSocket: PATHS.uwsgiSocket,
      clientMaxBodySize: "512m",
      healthPath: app.healthPath,
      maintenanceFlag: RELEASE_PATHS.maintenanceFlag,
      readOnlyFlag: RELEASE_PATHS.readOnlyFlag,
      pagesDir: RELEASE_PATHS.pages,
      appUnhealthyFlag: APP_WATCH.flag,
      appWatchPort: APP_WATCH.port,
    }),
  );
  const pages = MODE_PAGES.map((mode) => file(`${RELEASE_PATHS.pages}/${mode}.html`, renderModePage(mode)));
  const removeDefault = removeFilesScript("nginx-default-site-off", ["/etc/nginx/sites-enabled/default"]);
  const appConfig = appConfigActions(node, f);
  const release = releaseFiles();
  return [
    ...shareClientActions(f),
    ...appConfig,
    ...release,
    // The release this node runs: the share's current one for a new node; deploy and rollback move it later.
    releaseLinkScript(),
    ini,
    unitFile,
    started(UWSGI_UNIT, [ini.file.path, unitFile.file.path, PATHS.appEnv, PATHS.appSecretsEnv, ...release.map((r) => r.file.path)]),
    // The link moved (a node whose release was gone): chain reload, no dropped requests.
    started(UWSGI_UNIT, [], { reload: true, restartAfterScripts: ["release-link"] }),
    // TLS before the site that names it: the placeholder until the first certificate, then the synced one.
    ...childTlsActions(f),
    ...pages,
    site,
    removeDefault,
    started("nginx", [site.file.path], { reload: true, restartAfterScripts: [removeDefault.name, "tls-placeholder"] }),
    tlsSyncTimer(),
    ...appWatchActions(f.fqdn, app.healthPath),
  ];
}

export function childChecks(_node: InventoryNode, f: ClusterFacts, app: ReleaseAppRoles): Check[] {
  return [
    shareMountedCheck(),
    exportReachableCheck(`nfs://${f.primaryHostname}${PATHS.share}`),
    uwsgiHealthCheck(f.fqdn, app.healthPath),
    nginxHealthCheck(f.fqdn, TLS_PATHS, app.healthPath),
  ];
}
