/**
 * A child whose app hangs answers at once instead of making visitors wait (issue 11): a watchdog on every child
 * asks the app's health path through a loopback-only nginx server every second; after 3 times without an answer
 * (or without a uWSGI behind the socket) it raises a flag on which the public site answers 503 with Retry-After
 * right away (no app involved), and after 2 answers it lowers it. An answer with an error status counts as an
 * answer: the app is alive (e.g. it answers reads while the database primary is away). A stopped uWSGI already fails fast (nginx: 502 in milliseconds); a hung one would
 * otherwise hold every request for uwsgi_read_timeout. The health agent then sees the 503 and takes the child
 * out of the record like a dead one.
 */
import { file, started } from "./actions";
import { renderUnit, unitPath, type UnitFile } from "./files/systemd";
import type { Action } from "./types";

export const APP_WATCH = {
  script: "/usr/local/sbin/django-ha-app-watch",
  /** tmpfs: a reboot starts without the flag; the unit removes it when it stops. */
  flagDir: "/run/django-ha-app",
  flag: "/run/django-ha-app/unhealthy",
  /** nginx's loopback-only server that passes straight to uWSGI (the public site checks the flag first). */
  port: 8089,
  everySeconds: 1,
  timeoutSeconds: 3,
  failuresToFlag: 3,
  successesToClear: 2,
} as const;
export const APP_WATCH_SERVICE = "django-ha-app-watch.service";

/** The watchdog loop: one line in the journal per change of the flag, with the last answer. */
export function renderAppWatch(fqdn: string, healthPath: string): string {
  const w = APP_WATCH;
  return `#!/usr/bin/env bash
# django-ha: raise ${w.flag} (nginx answers 503 at once) while the app does not answer ${healthPath} at all.
# Any answer of the app counts as alive, errors included: with the database primary away the app answers 503
# and must go on serving reads (docs/reads-during-failover.md). No answer within the limit (000), or nginx
# finding no uWSGI behind the socket (502, 504), does not.
set -uo pipefail
flag=${w.flag}
url=http://127.0.0.1:${w.port}${healthPath}
fails=0
oks=0
while :; do
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time ${w.timeoutSeconds} -H 'Host: ${fqdn}' "$url" 2>/dev/null) || true
  case "\${code:-000}" in
    000 | 502 | 504)
      fails=$((fails + 1)); oks=0
      if [ ! -e "$flag" ] && [ "$fails" -ge ${w.failuresToFlag} ]; then
        : > "$flag"
        echo "the app did not answer ${healthPath} ${w.failuresToFlag} times in a row (last: \${code:-000}, ${w.timeoutSeconds} s limit): nginx answers 503 at once until it does"
      fi
      ;;
    *)
      oks=$((oks + 1)); fails=0
      if [ -e "$flag" ] && [ "$oks" -ge ${w.successesToClear} ]; then
        rm -f "$flag"
        echo "the app answers ${healthPath} again (HTTP $code): requests go to it again"
      fi
      ;;
  esac
  sleep ${w.everySeconds}
done
`;
}

export function appWatchUnit(): UnitFile {
  return {
    name: APP_WATCH_SERVICE,
    sections: [
      [
        "Unit",
        [
          ["Description", "django-ha: answer 503 at once while the app hangs"],
          ["After", "nginx.service django-ha-uwsgi.service"],
        ],
      ],
      [
        "Service",
        [
          ["Type", "simple"],
          ["ExecStart", APP_WATCH.script],
          ["RuntimeDirectory", "django-ha-app"],
          ["RuntimeDirectoryMode", "0755"],
          // A watchdog that is not watching must not leave visitors on a 503.
          ["ExecStopPost", `/bin/rm -f ${APP_WATCH.flag}`],
          ["Restart", "always"],
          ["RestartSec", 2],
        ],
      ],
      ["Install", [["WantedBy", "multi-user.target"]]],
    ],
  };
}

export function appWatchActions(fqdn: string, healthPath: string): Action[] {
  const script = file(APP_WATCH.script, renderAppWatch(fqdn, healthPath), "0755");
  const unit = appWatchUnit();
  const unitFile = file(unitPath(unit.name), renderUnit(unit));
  return [script, unitFile, started(APP_WATCH_SERVICE, [script.file.path, unitFile.file.path])];
}
