/**
 * The boot guard of the database nodes: never two writable primaries (issue 9).
 *
 * A database node whose PostgreSQL would start as a primary (no standby.signal) first asks its peer database
 * node, over the replication protocol (IDENTIFY_SYSTEM, SHOW in_hot_standby: the replication user and the
 * pg_hba lines the pair already has), whether the peer took over. `decide` is the whole policy, a pure function
 * of the facts; the node's script (`renderBootGuard`) only gathers the facts and looks the answer up in a table
 * rendered from `decide` for every combination, so what the unit tests prove is what the machine runs.
 *
 * Fenced means: PostgreSQL starts in recovery (a standby.signal the guard marks as its own), so not a single
 * write is accepted — not from the app, not from a client that still has the address, not with
 * `SET transaction_read_write`; the NFS export, share replication (lsyncd, whose rsync --delete would overwrite
 * the new primary's share) and a Redis master do not start (their gate asks the local PostgreSQL whether it is
 * a primary). The reason goes to the journal and to a state file that status and rejoin show.
 *
 * The peer cannot be asked (down, booting, unreachable): at boot the guard waits a bounded time (a peer booting
 * at the same time — a whole-cluster power cut — answers within seconds: its standby accepts read-only
 * connections before it reaches any primary), then fails closed (fenced) with a journal message that names the
 * operator's override. During a bootstrap the stack record names this node the primary, so an unset-up peer does
 * not block it; a node that was fenced before stays fenced until `recheck` (the peer answers) or `override`.
 */
import { PATHS, PORTS } from "../context";
import { POSTGRES_UNIT } from "../db";
import { file, FileAction } from "../actions";
import { renderUnit, unitPath, UnitEntry, UnitFile } from "../files/systemd";
import { bashScript, shellQuote as q } from "../shell";
import type { ScriptAction } from "../scripts";
import {
  BOOT_GUARD_BOOTSTRAP_FLAG,
  BOOT_GUARD_SCRIPT,
  BOOT_GUARD_STATE,
  BOOT_GUARD_UNIT,
  BOOT_GUARD_WAIT_SECONDS,
  GATED_UNITS,
  GUARD_SIGNAL_MARK,
  renderBootGuard,
} from "./script";

export * from "./policy";
export * from "./script";

/** The guard's unit: once per boot, after the network and the db volume, before PostgreSQL and the gated units. Pure. */
export function bootGuardUnit(dbMount: UnitEntry[]): UnitFile {
  return {
    name: BOOT_GUARD_UNIT,
    sections: [
      [
        "Unit",
        [
          ["Description", "django-ha: may this database node start as the primary? (asks the peer database node)"],
          ["Wants", "network-online.target"],
          ["After", "network-online.target"],
          ...dbMount,
          ["Before", [`${POSTGRES_UNIT}.service`, ...GATED_UNITS].join(" ")],
        ],
      ],
      [
        "Service",
        [
          ["Type", "oneshot"],
          ["RemainAfterExit", true],
          ["ExecStart", `${BOOT_GUARD_SCRIPT} decide`],
          ["TimeoutStartSec", BOOT_GUARD_WAIT_SECONDS + 60],
        ],
      ],
      ["Install", [["WantedBy", "multi-user.target"]]],
    ],
  };
}

const dropInPath = (unit: string) => `/etc/systemd/system/${unit}.d/django-ha-guard.conf`;

/** PostgreSQL requires the guard's decision (no decision, no start); the gated units ask the gate. Pure. */
export function guardDropIns(): FileAction[] {
  const pg = file(
    dropInPath("postgresql@.service"),
    renderUnit({
      name: "postgresql@.service.d/django-ha-guard.conf",
      sections: [
        [
          "Unit",
          [
            ["Requires", BOOT_GUARD_UNIT],
            ["After", BOOT_GUARD_UNIT],
          ],
        ],
      ],
    }),
  );
  const gates = GATED_UNITS.map((u) =>
    file(
      dropInPath(u),
      renderUnit({
        name: `${u}.d/django-ha-guard.conf`,
        sections: [
          ["Unit", [["After", `${BOOT_GUARD_UNIT} ${POSTGRES_UNIT}.service`]]],
          ["Service", [["ExecCondition", `+${BOOT_GUARD_SCRIPT} gate ${u.replace(/\.service$/, "")}`]]],
        ],
      }),
    ),
  );
  return [pg, ...gates];
}

/**
 * The bootstrap's guard step: enable the unit and, when it has not decided since this boot, let it decide now
 * (as the bootstrap: the stack record names this node's role).
 * - parent role: a record that does not say "primary" (made at boot, before a failover promoted the node) is
 *   decided again now; a fenced node is not made a primary: the bootstrap stops here with the guard's reason.
 * - standby role: a fenced node goes on to the standby steps (the base backup replaces only Debian's empty
 *   default cluster, and refuses a data directory with data in it: that one is rejoined by the runbook).
 */
export function bootGuardScript(role: "parent" | "standby"): ScriptAction {
  const fenced =
    role === "parent"
      ? `# The record may be older than this node's role: a boot-time "fenced" or "standby" from before a failover promoted
# it. The bootstrap makes it a primary only on a decision about the present: decide again (as the bootstrap).
if [ "$verdict" != primary ]; then
  touch ${q(BOOT_GUARD_BOOTSTRAP_FLAG)}
  ${BOOT_GUARD_SCRIPT} decide
  verdict=$(sed -n 's/^verdict=//p' ${q(BOOT_GUARD_STATE)})
  echo "boot guard, decided again for the parent role: $verdict"
fi
if [ "$verdict" = fenced ]; then
  echo "this node is fenced by its boot guard and is not made a primary: $(sed -n 's/^reason=//p' ${q(BOOT_GUARD_STATE)})" >&2
  exit 1
fi`
      : `if [ "$verdict" = fenced ]; then echo "fenced: PostgreSQL stays read-only until it is this cluster's standby"; fi`;
  return {
    kind: "script",
    name: "boot-guard",
    script: bashScript(
      `the boot guard decided (${role})`,
      `unit=${BOOT_GUARD_UNIT}
if ! systemctl is-enabled --quiet "$unit"; then systemctl enable --quiet "$unit"; changed; fi
if ! systemctl is-active --quiet "$unit"; then
  touch ${q(BOOT_GUARD_BOOTSTRAP_FLAG)}
  if ! systemctl start "$unit"; then
    echo "the boot guard failed: see journalctl -u $unit" >&2
    exit 1
  fi
  changed
fi
verdict=$(sed -n 's/^verdict=//p' ${q(BOOT_GUARD_STATE)})
echo "boot guard: $verdict"
${fenced}`,
    ),
  };
}

/**
 * After the standby's base backup: a decision recorded before it ("fenced": Debian's default cluster looked like a
 * primary) no longer describes the node; decide again (a standby needs no peer), so status tells the truth.
 */
export function bootGuardRefreshScript(): ScriptAction {
  return {
    kind: "script",
    name: "boot-guard-refresh",
    script: bashScript(
      "the boot guard's record matches the standby the node now is",
      `data=${q(PATHS.pgData)}
if [ "$(sed -n 's/^verdict=//p' ${q(BOOT_GUARD_STATE)} 2>/dev/null)" != standby ] && [ -f "$data/standby.signal" ] && ! grep -qx ${q(GUARD_SIGNAL_MARK)} "$data/standby.signal"; then
  ${BOOT_GUARD_SCRIPT} decide
  changed
fi`,
    ),
  };
}

/** Everything the guard needs on a database node (script, unit, drop-ins), before anything starts PostgreSQL. */
export function bootGuardFiles(peer: { name: string; privateAddress: string }, dbMount: UnitEntry[]): FileAction[] {
  const unit = bootGuardUnit(dbMount);
  return [
    file(
      BOOT_GUARD_SCRIPT,
      renderBootGuard({
        peerName: peer.name,
        peerAddress: peer.privateAddress,
        port: PORTS.postgres,
        waitSeconds: BOOT_GUARD_WAIT_SECONDS,
      }),
      "0755",
    ),
    file(unitPath(unit.name), renderUnit(unit)),
    ...guardDropIns(),
  ];
}
