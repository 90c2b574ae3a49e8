/**
 * The failover's decisions, pure: is the primary really gone (evidence from several vantage points), may the
 * standby be promoted (what it holds, what could be lost), how the old primary is fenced, which steps run.
 */
import { UserError } from "../../model/errors";
import type { Inventory } from "../../model";
import type { PgStatus } from "./commands/database";

export type FailoverKind = "emergency" | "planned";

/** One observation of the primary, by whom, and what it says. */
export interface Observation {
  /** "operator" (this machine) or a cluster member's node name. */
  from: string;
  /** What was checked. */
  check: string;
  /** True when it saw the primary alive. */
  alive: boolean;
  detail: string;
}

export interface PrimaryProbes {
  primary: string;
  /** The power adapter's view: running or not; undefined when there is no power adapter. */
  powerRunning?: boolean;
  /** SSH from this machine to the primary and its local PostgreSQL; undefined status = no SSH. */
  operatorSsh: { reachable: boolean; error?: string; pg?: PgStatus };
  /** Cluster members asked whether the primary's PostgreSQL answers (from inside the private network). */
  members: { node: string; answers: boolean; detail: string }[];
}

export type PrimaryVerdict = "healthy" | "down" | "disputed";

export interface Assessment {
  verdict: PrimaryVerdict;
  observations: Observation[];
}

/** What every vantage point saw, and the verdict. Pure. */
export function assessPrimary(p: PrimaryProbes): Assessment {
  const obs: Observation[] = [];
  if (p.powerRunning !== undefined)
    obs.push({
      from: "operator",
      check: "power state (provider API)",
      alive: p.powerRunning,
      detail: p.powerRunning ? "running" : "powered off",
    });
  const ssh = p.operatorSsh;
  if (!ssh.reachable) obs.push({ from: "operator", check: "SSH to the primary", alive: false, detail: ssh.error ?? "unreachable" });
  else {
    const pg = ssh.pg;
    const writable = !!pg?.up && pg.recovery === false && !pg.readOnly;
    const detail = !pg?.up
      ? `PostgreSQL down (${pg?.error ?? "no answer"})`
      : pg.recovery
        ? "PostgreSQL is in recovery (a standby, not a primary)"
        : pg.readOnly
          ? "PostgreSQL is up but read-only"
          : "PostgreSQL accepts writes";
    obs.push({ from: "operator", check: "SSH to the primary, its PostgreSQL", alive: writable, detail });
  }
  for (const m of p.members)
    obs.push({ from: m.node, check: "the primary's PostgreSQL port", alive: m.answers, detail: m.answers ? "answers" : m.detail });
  const operatorSaysWritable = obs.some((o) => o.from === "operator" && o.check.startsWith("SSH") && o.alive);
  const membersAlive = p.members.filter((m) => m.answers).length;
  let verdict: PrimaryVerdict;
  if (p.powerRunning === false) verdict = "down";
  else if (operatorSaysWritable && p.members.length > 0 && membersAlive === p.members.length) verdict = "healthy";
  else if (!operatorSaysWritable && membersAlive === 0) verdict = "down";
  else verdict = "disputed";
  return { verdict, observations: obs };
}

export function formatObservations(a: Assessment): string[] {
  return a.observations.map((o) => `${o.alive ? "alive" : "DOWN "}  from ${o.from}: ${o.check}: ${o.detail}`);
}

/**
 * May an emergency failover go on? A healthy primary (this machine and every member see it accept) is
 * refused with the evidence; without any member's view the situation is not established.
 */
export function emergencyAllowed(a: Assessment, primary: string, stack: string): void {
  const members = new Set(a.observations.filter((o) => o.from !== "operator").map((o) => o.from));
  const evidence = formatObservations(a)
    .map((l) => `  ${l}`)
    .join("\n");
  if (members.size === 0) {
    throw new UserError(
      `Cannot establish the situation of ${primary} from inside the cluster: no cluster member could be asked (all unreachable over SSH). Evidence:\n${evidence}\nFix SSH to at least the standby, then run again.`,
    );
  }
  if (a.verdict === "healthy") {
    throw new UserError(
      `Refusing an emergency failover: the primary ${primary} is healthy.\n${evidence}\n` +
        `To move the primary while both are healthy (zero data loss), run a switchover: npm run failover -- --stack ${stack} --planned`,
    );
  }
}

// ----------------------------------------------------------------------------------------------- standby

export interface StandbyReadiness {
  /** The standby was promoted already (an earlier, interrupted run). */
  alreadyPrimary: boolean;
  lines: string[];
}

/**
 * What the standby holds and whether it may be promoted. Strict synchronous replication: every acknowledged
 * commit was flushed on the standby. degrade-to-async: commits acknowledged while the standby was away exist
 * only on the old primary; refused unless the operator accepts that loss. Throws UserError when refused.
 */
export function standbyReadiness(o: {
  standby: string;
  status?: PgStatus;
  sshError?: string;
  policy: Inventory["syncReplication"];
  acceptDataLoss: boolean;
  stack: string;
  graceSeconds: number;
}): StandbyReadiness {
  const s = o.status;
  if (!s)
    throw new UserError(
      `The standby ${o.standby} is unreachable over SSH (${o.sshError ?? "no answer"}): there is nothing to promote. Bring it back (or fix SSH to it) and run again.`,
    );
  if (!s.up)
    throw new UserError(
      `PostgreSQL on the standby ${o.standby} does not answer (${s.error ?? "down"}): there is nothing to promote. Start it (systemctl start postgresql@…) and run again.`,
    );
  if (s.recovery === false)
    return { alreadyPrimary: true, lines: [`${o.standby} is already a primary (promoted by an earlier run); timeline ${s.timeline}`] };
  const lines = [
    `${o.standby} is a standby: WAL received up to ${s.receiveLsn ?? "?"}, replayed up to ${s.replayLsn ?? "?"}; its receiver is ${s.receiver ?? "?"}` +
      (s.receiptAgeSeconds !== undefined ? `, last message from the primary ${s.receiptAgeSeconds} s ago` : ""),
  ];
  switch (o.policy) {
    case "strict":
      lines.push("synchronous replication (strict): every commit the primary acknowledged was flushed here; promoting loses none");
      return { alreadyPrimary: false, lines };
    case "degrade-to-async":
      lines.push(
        `degrade-to-async: the primary stops waiting for the standby after ${o.graceSeconds} s without it. If the standby was away that long before the primary failed, ` +
          "commits acknowledged since then exist only on the old primary and are lost by promoting.",
      );
      if (!o.acceptDataLoss) {
        throw new UserError(
          `Refusing to promote ${o.standby} without your acceptance of a possible loss:\n${lines.map((l) => `  ${l}`).join("\n")}\n` +
            `If the old primary can be brought back, do that instead. Otherwise run again with --accept-data-loss: npm run failover -- --stack ${o.stack} --accept-data-loss`,
        );
      }
      lines.push("possible loss accepted (--accept-data-loss)");
      return { alreadyPrimary: false, lines };
    default: {
      const never: never = o.policy;
      throw new Error(`unknown syncReplication ${String(never)}`);
    }
  }
}

// ------------------------------------------------------------------------------------------------- fence

export type FenceMethod =
  { kind: "power"; describe: string } | { kind: "command"; command: string } | { kind: "operator"; node: string } | { kind: "none" };

export interface FenceChoice {
  /** Provider power operations exist for this stack. */
  power?: string;
  /** --fence-command: a command this machine runs to power the node off (hosts). */
  fenceCommand?: string;
  /** --operator-fenced <node>: the operator powered it off (typed confirmation for automation). */
  operatorFenced?: string;
  /** --skip-fence-risking-two-primaries. */
  skipFence?: boolean;
  /** A terminal is there to ask the operator to type the node's name. */
  interactive: boolean;
}

/** How the old primary is fenced; a UserError listing the ways when there is none. Pure. */
export function chooseFence(primary: string, c: FenceChoice): FenceMethod {
  if (c.skipFence) return { kind: "none" };
  if (c.operatorFenced !== undefined) {
    if (c.operatorFenced !== primary)
      throw new UserError(
        `--operator-fenced ${JSON.stringify(c.operatorFenced)} does not name the primary ${primary}: give the machine you powered off, --operator-fenced ${primary}.`,
      );
    return { kind: "operator", node: primary };
  }
  if (c.fenceCommand) return { kind: "command", command: c.fenceCommand };
  if (c.power) return { kind: "power", describe: c.power };
  if (c.interactive) return { kind: "operator", node: primary };
  throw new UserError(
    `No way to fence ${primary}: this stack has no power API. Power it off (or cut its network) yourself, then confirm with --operator-fenced ${primary}; ` +
      `or pass --fence-command '<command>' that does it from here (it gets DJANGO_HA_NODE and DJANGO_HA_ADDRESS). ` +
      `--skip-fence-risking-two-primaries promotes without a fence: if the old primary still runs, two machines accept writes.`,
  );
}

export function describeFence(m: FenceMethod, primary: string): string {
  switch (m.kind) {
    case "power":
      return `power ${primary} off through ${m.describe}, then check it is off and its PostgreSQL no longer answers`;
    case "command":
      return `run the fence command (${m.command}), then check ${primary}'s PostgreSQL no longer answers`;
    case "operator":
      return `the operator confirms ${primary} is powered off; checked: its PostgreSQL no longer answers`;
    case "none":
      return `NO FENCE (--skip-fence-risking-two-primaries): if ${primary} still runs, it keeps accepting writes from anyone who reaches it`;
    default: {
      const never: never = m;
      return String(never);
    }
  }
}

// ------------------------------------------------------------------------------------------------- steps

export interface StepInfo {
  name: string;
  title: string;
}

/** The steps of a run, in order (what --dry-run prints and the journal records). Pure. */
export function failoverSteps(kind: FailoverKind, from: string, to: string, fence: FenceMethod): StepInfo[] {
  const tail: StepInfo[] = [
    { name: "promote", title: `promote ${to} (pg_promote, checked)` },
    { name: "record", title: `record ${to} as the primary in the stack (django-ha:primary)` },
    {
      name: "new-primary",
      title: `${to}: commits stop waiting for a standby, replication slot, Redis primary (runtime and redis.conf), NFS export`,
    },
    { name: "repoint", title: `every reachable node: primary.<cluster>.internal → ${to} (managed /etc/hosts block), in parallel` },
    { name: "reconnect", title: "children: uWSGI chain reload (share remounted if NFS); worker: Celery warm restart" },
  ];
  switch (kind) {
    case "emergency":
      return [
        { name: "situation", title: `establish the situation of ${from} from this machine and from cluster members` },
        { name: "standby", title: `check what ${to} holds (replication state, LSNs, the sync policy)` },
        { name: "fence", title: describeFence(fence, from) },
        ...tail,
        { name: "verify", title: `check ${to} accepts writes and the app answers on every reachable child` },
      ];
    case "planned":
      return [
        { name: "situation", title: `check both are healthy: ${from} primary, ${to} streaming` },
        {
          name: "drain",
          title: `drain ${from}: Redis writes paused until ${to}'s replica has them; PostgreSQL stopped cleanly (sessions end, all WAL sent) and ${to} checked to hold it; NFS export and share replication stopped after a last sync to ${to}`,
        },
        ...tail,
        { name: "old-primary", title: `${from} becomes the standby of ${to} (PostgreSQL streaming, Redis replica, NFS export off)` },
        { name: "sync", title: `synchronous replication again once ${from} streams` },
        { name: "verify", title: `check ${to} accepts writes, ${from} streams, and the app answers on every reachable child` },
      ];
    default: {
      const never: never = kind;
      throw new Error(`unknown failover kind ${String(never)}`);
    }
  }
}
