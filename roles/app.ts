/**
 * What children and the worker share: the app's environment (app.env: the cluster's variables, then the
 * project's django-ha:app.env) and its secrets (app-secrets.env), both 0640 root:django, and the state dirs.
 */
import { APP_USER, ClusterFacts, DB, PATHS, PORTS } from "./context";
import { file } from "./actions";
import { renderAppEnv, renderAppSecretsEnv, renderPipConf } from "./files/appenv";
import { directoriesScript } from "./scripts";
import type { Action } from "./types";
import type { InventoryNode } from "../model";

export function appEnvFor(node: InventoryNode, f: ClusterFacts): string {
  const s = f.ctx.secrets;
  return renderAppEnv({
    settingsModule: f.ctx.app.settingsModule,
    secretKey: s.djangoSecretKey,
    allowedHosts: [...new Set([f.fqdn, ...f.children.flatMap((c) => [c.publicAddress, c.privateAddress]), "localhost", "127.0.0.1"])],
    dbHosts: [f.parent.privateAddress, f.standby.privateAddress],
    dbPort: PORTS.postgres,
    dbName: DB.name,
    dbUser: DB.user,
    dbPassword: s.dbPassword,
    brokerUrl: `redis://:${s.redisPassword}@${f.primaryHostname}:${PORTS.redis}/0`,
    shareRoot: PATHS.share,
    mediaRoot: PATHS.media,
    staticRoot: PATHS.static,
    nodeName: node.name,
    extra: f.ctx.app.env,
  });
}

/**
 * The environment files every app process loads, in order (systemd EnvironmentFile= lines, manage.py runs):
 * a later file wins, so the app's secrets come last. Both always exist (the secrets file may list none).
 */
export const APP_ENV_FILES = [PATHS.appEnv, PATHS.appSecretsEnv] as const;

export function appConfigActions(node: InventoryNode, f: ClusterFacts): Action[] {
  return [
    directoriesScript("app-dirs", [
      { path: "/etc/django-ha", owner: "root", group: APP_USER.name, mode: "0750" },
      { path: PATHS.stateDir, owner: "root", group: "root", mode: "0755" },
    ]),
    file(PATHS.appEnv, appEnvFor(node, f), "0640", "root", APP_USER.name),
    file(PATHS.appSecretsEnv, renderAppSecretsEnv(f.ctx.appSecrets), "0640", "root", APP_USER.name),
    file(PATHS.pipConf, renderPipConf(f.ctx.app.pythonIndexUrl)),
  ];
}
