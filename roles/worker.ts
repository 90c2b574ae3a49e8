/** worker: builds releases; the app's Celery worker on its queues (the sample's `video`), ffmpeg; the share as on the children. */
import { APP_USER, ClusterFacts, PATHS } from "./context";
import { file, started, stopped } from "./actions";
import { appConfigActions } from "./app";
import { celeryPingCheck, exportReachableCheck, shareMountedCheck, unitActiveCheck } from "./checks";
import { renderUnit, unitPath, UnitFile } from "./files/systemd";
import { BOOTSTRAP_SOURCE, firstReleaseScript, releaseFiles, releaseLinkScript, RELEASE_PATHS, type ReleaseAppRoles } from "./release";
import { shareClientActions } from "./share";
import type { Action, Check } from "./types";
import type { InventoryNode } from "../model";

export const CELERY_UNIT = "django-ha-celery.service";
/** Warm shutdown: how long a stop waits for the running job. A longer job is killed and redelivered (acks_late). */
export const CELERY_STOP_TIMEOUT_SECONDS = 3600;

/** The app's Celery worker on the queues django-ha:app.celeryQueues names (validated in model/app.ts). */
export function celeryUnit(app: { celeryApp: string; celeryQueues: readonly string[] }): UnitFile {
  return {
    name: CELERY_UNIT,
    sections: [
      [
        "Unit",
        [
          ["Description", `django-ha: Celery worker (queues ${app.celeryQueues.join(", ")})`],
          ["Wants", "network-online.target"],
          ["After", "network-online.target remote-fs.target"],
          ["RequiresMountsFor", PATHS.share],
        ],
      ],
      [
        "Service",
        [
          ["Type", "simple"],
          ["User", APP_USER.name],
          ["Group", APP_USER.name],
          ["EnvironmentFile", PATHS.appEnv],
          ["EnvironmentFile", PATHS.appSecretsEnv],
          // The launcher resolves this node's release once: its venv's python, its src as the working directory.
          // Without heartbeat/gossip/mingle: Celery 5.2 (Debian 12) stopped consuming after the broker restarted
          // (celery/celery#8030, reproduced in the lab by restarting Redis). Kept on 5.5: one worker needs none.
          [
            "ExecStart",
            `${RELEASE_PATHS.python} -m celery -A ${app.celeryApp} worker -Q ${app.celeryQueues.join(",")} --concurrency 1 --prefetch-multiplier 1 --hostname worker@%H --loglevel INFO --without-heartbeat --without-gossip --without-mingle`,
          ],
          // Warm shutdown: SIGTERM to the main process only; it finishes the running job, then exits.
          ["KillSignal", "SIGTERM"],
          ["KillMode", "mixed"],
          ["TimeoutStopSec", CELERY_STOP_TIMEOUT_SECONDS],
          ["Restart", "always"],
          ["RestartSec", 5],
        ],
      ],
      ["Install", [["WantedBy", "multi-user.target"]]],
    ],
  };
}

/**
 * The worker builds releases (venv, pip, collectstatic: same Debian and Python as the children), the first one
 * in the bootstrap from the uploaded project, and runs the app's Celery worker when the app has one.
 */
export function workerActions(node: InventoryNode, f: ClusterFacts, app: ReleaseAppRoles, appDir: string): Action[] {
  const release = releaseFiles();
  const celery = app.celeryApp
    ? (() => {
        const unit = celeryUnit({ celeryApp: app.celeryApp, celeryQueues: app.celeryQueues });
        const unitFile = file(unitPath(unit.name), renderUnit(unit));
        return [
          unitFile,
          started(CELERY_UNIT, [unitFile.file.path, PATHS.appEnv, PATHS.appSecretsEnv, ...release.map((r) => r.file.path)], {
            restartAfterScripts: ["release-link"],
          }),
        ];
      })()
    : [stopped(CELERY_UNIT)];
  return [
    ...shareClientActions(f),
    ...appConfigActions(node, f),
    ...release,
    { kind: "upload", name: "app-source", localDir: appDir, remoteDir: BOOTSTRAP_SOURCE, owner: "root", group: "root" },
    firstReleaseScript(app, APP_USER.name, PATHS.static),
    releaseLinkScript(),
    ...celery,
  ];
}

export function workerChecks(_node: InventoryNode, f: ClusterFacts, app: ReleaseAppRoles): Check[] {
  return [
    shareMountedCheck(),
    exportReachableCheck(`nfs://${f.primaryHostname}${PATHS.share}`),
    ...(app.celeryApp ? [unitActiveCheck(CELERY_UNIT), celeryPingCheck(app.celeryApp)] : []),
  ];
}
