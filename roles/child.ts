/** child (app): nginx → uWSGI → Django, the share from the primary, migrations and static files. */
import { APP_USER, ClusterFacts, PATHS } from "./context";
import { file, started } from "./actions";
import { appConfigActions } from "./app";
import { exportReachableCheck, nginxHealthCheck, shareMountedCheck, uwsgiHealthCheck } from "./checks";
import { renderNginxSite } from "./files/nginx";
import { renderUnit, unitPath, UnitFile } from "./files/systemd";
import { renderUwsgiIni } from "./files/uwsgi";
import { collectstaticScript, migrateScript, releaseStateScript, removeFilesScript } from "./scripts";
import { shareClientActions } from "./share";
import { childTlsActions, TLS_PATHS, tlsSyncTimer } from "./tls";
import type { Action, Check } from "./types";
import type { InventoryNode } from "../spec";

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

export function childActions(node: InventoryNode, f: ClusterFacts): Action[] {
  const ini = file(
    PATHS.uwsgiIni,
    renderUwsgiIni({
      chdir: PATHS.current,
      module: "djangoha_app.wsgi:application",
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
    }),
  );
  const removeDefault = removeFilesScript("nginx-default-site-off", ["/etc/nginx/sites-enabled/default"]);
  const appConfig = appConfigActions(node, f);
  return [
    ...shareClientActions(f),
    ...appConfig,
    ini,
    unitFile,
    releaseStateScript(),
    migrateScript(),
    collectstaticScript(),
    started(UWSGI_UNIT, [ini.file.path, unitFile.file.path, PATHS.appEnv, PATHS.appSecretsEnv]),
    // A new release: chain reload, no dropped requests.
    started(UWSGI_UNIT, [], { reload: true, restartAfterScripts: ["release-state"] }),
    // TLS before the site that names it: the placeholder until the first certificate, then the synced one.
    ...childTlsActions(f),
    site,
    removeDefault,
    started("nginx", [site.file.path], { reload: true, restartAfterScripts: [removeDefault.name, "tls-placeholder"] }),
    tlsSyncTimer(),
  ];
}

export function childChecks(_node: InventoryNode, f: ClusterFacts): Check[] {
  return [shareMountedCheck(), exportReachableCheck(`nfs://${f.primaryHostname}${PATHS.share}`), uwsgiHealthCheck(f.fqdn), nginxHealthCheck(f.fqdn, TLS_PATHS)];
}
