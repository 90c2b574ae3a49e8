/** worker: Celery for the `video` queue with ffmpeg, the share as on the children. */
import { APP_USER, ClusterFacts, PATHS } from "./context";
import { file, started } from "./actions";
import { appConfigActions } from "./app";
import { celeryPingCheck, exportReachableCheck, shareMountedCheck, unitActiveCheck } from "./checks";
import { renderUnit, unitPath, UnitFile } from "./files/systemd";
import { releaseStateScript } from "./scripts";
import { shareClientActions } from "./share";
import type { Action, Check } from "./types";
import type { InventoryNode } from "../spec";

export const CELERY_UNIT = "django-ha-celery.service";
/** Warm shutdown: how long a stop waits for the running job. A longer job is killed and redelivered (acks_late). */
export const CELERY_STOP_TIMEOUT_SECONDS = 3600;

export function celeryUnit(): UnitFile {
  return {
    name: CELERY_UNIT,
    sections: [
      [
        "Unit",
        [
          ["Description", "django-ha: Celery worker for the video queue"],
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
          ["WorkingDirectory", PATHS.current],
          // Without heartbeat/gossip/mingle: Celery 5.2 (Debian 12) stopped consuming after the broker restarted
          // (celery/celery#8030, reproduced in the lab by restarting Redis). Kept on 5.5: one worker needs none.
          ["ExecStart", "/usr/bin/python3 -m celery -A djangoha_app worker -Q video --concurrency 1 --prefetch-multiplier 1 --hostname worker@%H --loglevel INFO --without-heartbeat --without-gossip --without-mingle"],
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

export function workerActions(node: InventoryNode, f: ClusterFacts): Action[] {
  const unit = celeryUnit();
  const unitFile = file(unitPath(unit.name), renderUnit(unit));
  return [
    ...shareClientActions(f),
    ...appConfigActions(node, f),
    unitFile,
    releaseStateScript(),
    started(CELERY_UNIT, [unitFile.file.path, PATHS.appEnv, PATHS.appSecretsEnv], { restartAfterScripts: ["release-state"] }),
  ];
}

export function workerChecks(_node: InventoryNode, f: ClusterFacts): Check[] {
  return [shareMountedCheck(), exportReachableCheck(`nfs://${f.primaryHostname}${PATHS.share}`), unitActiveCheck(CELERY_UNIT), celeryPingCheck()];
}
