/**
 * The failover runbook: emergency (the primary is gone) and planned (switchover while both are healthy).
 * Every step prints live with the run's elapsed time; the journal makes a re-run finish an interrupted
 * failover; targeted SSH commands run in parallel (no full bootstrap on the fast path).
 */
import pLimit from "p-limit";
import { renderHostsBlock } from "../../roles/files/hosts";
import { hostsBlockScript } from "../../roles/scripts";
import { uwsgiHealthCheck } from "../../roles/checks";
import { DB, PATHS, PORTS } from "../../roles/context";
import { POSTGRES_UNIT, REDIS_CONF } from "../../roles/db";
import { UWSGI_UNIT } from "../../roles/child";
import { FAILOVER_NO_STANDBY_CONF } from "../../roles/guard";
import { CELERY_UNIT } from "../../roles/worker";
import { SHARE_SYNC_UNIT } from "../../roles/parent";
import { CHANGED_MARKER } from "../../roles/types";
import { UserError } from "../../model/errors";
import { withPrimary, type Inventory, type InventoryNode } from "../../model";
import type { PowerOperations } from "../power/types";
import type { RemoteExecutor } from "../ssh/executor";
import { runCheck } from "../bootstrap/commands";
import * as cmd from "./commands";
import {
  assessPrimary,
  emergencyAllowed,
  failoverSteps,
  FailoverKind,
  FenceMethod,
  formatObservations,
  standbyReadiness,
  StepInfo,
} from "./decide";
import { Journal } from "./journal";

/**
 * The conf.d file the failover writes on a new primary without a standby (sorts after the bootstrap's
 * django-ha.conf); the boot guard reads it as "the peer was fenced by this failover" (roles/guard.ts).
 */
export const NO_STANDBY_OVERRIDE = FAILOVER_NO_STANDBY_CONF;
/** degrade-to-async grace (roles/parent.ts DEGRADE_AFTER_SECONDS), for the message only. */
const DEGRADE_GRACE_SECONDS = 10;

export interface FailoverOptions {
  stack: string;
  kind: FailoverKind;
  /** The stack's inventory as resolved now (after an interrupted run it may already name the new primary). */
  inventory: Inventory;
  journalFile: string;
  /** SSH to a node. `quick`: one short attempt (a machine that may be dead). */
  connect: (node: InventoryNode, quick: boolean) => Promise<RemoteExecutor>;
  /** Provider power operations, when the stack has them. */
  power?: PowerOperations;
  fence: FenceMethod;
  /** Runs --fence-command for the node (hosts). */
  runFenceCommand?: (command: string, node: InventoryNode) => Promise<void>;
  /** Typed confirmation that the operator powered the node off; false = not confirmed. */
  operatorConfirmsFenced?: (node: string) => Promise<boolean>;
  /** Record the new primary in the stack; returns what was done. Throws when it could not. */
  record: (primary: string) => Promise<string>;
  /** Planned: converge these nodes with the roles of the new inventory (a bootstrap without taking the stack lock again). */
  converge?: (inventory: Inventory, nodes: string[]) => Promise<{ ok: boolean; text: string }>;
  /** Ask before the destructive part. */
  confirm: (question: string) => Promise<boolean>;
  acceptDataLoss?: boolean;
  /** Print the plan and stop before anything changes. */
  dryRun?: boolean;
  log?: (line: string) => void;
  /** The command that makes the old primary the new standby, for the summary. Defaults to none (not built). */
  rejoinCommand?: string;
  /** How long the app check on the children may take. Defaults to 20 s. */
  verifyTimeoutMs?: number;
}

export interface FailoverResult {
  kind: FailoverKind;
  from: string;
  to: string;
  /** The run did everything (unreachable nodes excepted: see `unreachable`). */
  complete: boolean;
  /** Seconds from the start of the run to the promotion. */
  promotedAfter?: number;
  seconds: number;
  unreachable: Record<string, string>;
  summary: string[];
  journal?: string;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class Run {
  readonly t0 = Date.now();
  readonly log: (line: string) => void;
  constructor(log: (line: string) => void) {
    this.log = (line) => log(`[${seconds(Date.now() - this.t0).padStart(7)}] ${line}`);
  }
}

async function must(ex: RemoteExecutor, argv: readonly string[], what: string, timeoutMs = 90_000): Promise<string> {
  const r = await ex.run(argv, { timeoutMs });
  if (r.code !== 0)
    throw new UserError(`${ex.node}: ${what} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim().split("\n").slice(-8).join("\n")}`);
  return r.stdout;
}

async function pgStatusOf(ex: RemoteExecutor): Promise<cmd.PgStatus> {
  return cmd.parsePgStatus(await must(ex, cmd.pgStatus(), "reading the PostgreSQL status", 15_000));
}

/** Run a failover (or print its plan with dryRun). */
export async function runFailover(o: FailoverOptions): Promise<FailoverResult> {
  const run = new Run(o.log ?? ((l) => process.stdout.write(`${l}\n`)));
  const log = run.log;
  const existing = Journal.open(o.journalFile);
  if (existing && existing.data.kind !== o.kind) {
    throw new UserError(
      `An ${existing.data.kind} failover of stack ${o.stack} (${existing.data.from} → ${existing.data.to}, started ${existing.data.startedAt}) did not finish: ` +
        `finish it first with npm run failover -- --stack ${o.stack}${existing.data.kind === "planned" ? " --planned" : ""}. Journal: ${o.journalFile}`,
    );
  }
  const from = existing?.data.from ?? o.inventory.primary;
  const to = existing?.data.to ?? o.inventory.standby;
  const byName = new Map(o.inventory.nodes.map((n) => [n.name, n]));
  const oldNode = byName.get(from);
  const newNode = byName.get(to);
  if (!oldNode || !newNode)
    throw new UserError(
      `The journal names ${from} → ${to}, but the inventory of stack ${o.stack} has ${[...byName.keys()].join(", ")}. Move ${o.journalFile} away if it belongs to another cluster.`,
    );
  const target = withPrimary(o.inventory, to);
  const steps = failoverSteps(o.kind, from, to, o.fence);

  log(
    `${o.kind} failover of stack ${o.stack}: ${from} → ${to}${existing ? ` (resuming the run of ${existing.data.startedAt}; done: ${Object.keys(existing.data.done).join(", ") || "nothing"})` : ""}`,
  );
  if (o.dryRun) {
    steps.forEach((s, i) => log(`  ${i + 1}. ${s.title}${existing?.isDone(s.name) ? "  (done)" : ""}`));
    log("dry run: nothing was contacted or changed");
    return { kind: o.kind, from, to, complete: false, seconds: (Date.now() - run.t0) / 1000, unreachable: {}, summary: [] };
  }

  // Connections: everyone but the old primary normally (a few attempts), the old primary with one short attempt.
  const execs = new Map<string, RemoteExecutor>();
  const unreachable: Record<string, string> = { ...(existing?.data.unreachable ?? {}) };
  await Promise.all(
    o.inventory.nodes.map(async (n) => {
      // Emergency: the old primary is tried in the situation step, without holding up everyone else here.
      if (n.name === from && o.kind === "emergency") return;
      try {
        execs.set(n.name, await o.connect(n, false));
        delete unreachable[n.name];
      } catch (e) {
        unreachable[n.name] = (e as Error).message.split("\n")[0];
      }
    }),
  );
  const members = o.inventory.nodes.filter((n) => n.name !== from && execs.has(n.name));
  log(
    `connected to ${[...execs.keys()].join(", ") || "no node"}${
      Object.keys(unreachable).length
        ? `; unreachable: ${Object.entries(unreachable)
            .map(([n, e]) => `${n} (${e})`)
            .join("; ")}`
        : ""
    }`,
  );

  let journal = existing;
  const summary: string[] = [];
  let promotedAfter: number | undefined;
  let recorded = true;
  const step = async (info: StepInfo | undefined, fn: () => Promise<string[] | void>) => {
    if (!info) return;
    if (journal?.isDone(info.name)) {
      log(`= ${info.name}: done by the earlier run`);
      return;
    }
    const s = Date.now();
    log(`▶ ${info.name}: ${info.title}`);
    const lines = (await fn()) ?? [];
    for (const l of lines) log(`    ${l}`);
    journal?.markDone(info.name);
    log(`✓ ${info.name} (${seconds(Date.now() - s)})`);
  };
  const stepNamed = (name: string) => steps.find((s) => s.name === name);

  try {
    const newEx = execs.get(to);
    // ---------------------------------------------------------------- situation and what the standby holds
    if (o.kind === "emergency") {
      await step(stepNamed("situation"), async () => {
        const probers = [to, ...members.filter((n) => n.name !== to && (n.role === "child" || n.role === "worker")).map((n) => n.name)]
          .filter((n) => execs.has(n))
          .slice(0, 3);
        // This machine's view: the provider's power state, and unless that says "off", SSH (one short attempt).
        const operatorView = async (): Promise<{
          powerRunning?: boolean;
          ssh: { reachable: boolean; error?: string; pg?: cmd.PgStatus };
        }> => {
          const powerRunning = o.power ? await o.power.isRunning(from).catch(() => undefined) : undefined;
          if (powerRunning === false) return { powerRunning, ssh: { reachable: false, error: "not tried: powered off" } };
          try {
            const ex = await o.connect(oldNode, true);
            execs.set(from, ex);
            return {
              powerRunning,
              ssh: { reachable: true, pg: await pgStatusOf(ex).catch((e: Error) => ({ up: false, error: e.message, replicas: [] })) },
            };
          } catch (e) {
            unreachable[from] = (e as Error).message.split("\n")[0];
            return { powerRunning, ssh: { reachable: false, error: unreachable[from] } };
          }
        };
        const [{ powerRunning, ssh: operatorPg }, memberViews] = await Promise.all([
          operatorView(),
          Promise.all(
            probers.map(async (n) => {
              const r = await execs.get(n)!.run(cmd.peerPostgres(oldNode.privateAddress, PORTS.postgres, 2), { timeoutMs: 10_000 });
              const p = cmd.parsePeerPostgres(r.stdout);
              return { node: n, answers: p.answers, detail: p.detail };
            }),
          ),
        ]);
        const assessment = assessPrimary({ primary: from, powerRunning, operatorSsh: operatorPg, members: memberViews });
        emergencyAllowed(assessment, from, o.stack);
        return [`verdict: ${assessment.verdict}`, ...formatObservations(assessment)];
      });
    } else {
      await step(stepNamed("situation"), async () => {
        const oldEx = execs.get(from);
        if (!oldEx || !newEx)
          throw new UserError(
            `A switchover needs both database machines: ${[from, to]
              .filter((n) => !execs.has(n))
              .map((n) => `${n} is unreachable (${unreachable[n]})`)
              .join("; ")}. If the primary is gone, run an emergency failover: npm run failover -- --stack ${o.stack}`,
          );
        const [a, b] = await Promise.all([pgStatusOf(oldEx), pgStatusOf(newEx)]);
        const problems: string[] = [];
        if (!a.up || a.recovery !== false)
          problems.push(`${from} is not a running primary (${a.up ? "in recovery" : (a.error ?? "down")})`);
        if (!b.up || b.recovery !== true)
          problems.push(`${to} is not a running standby (${b.up ? "not in recovery" : (b.error ?? "down")})`);
        const replica = a.replicas.find((r) => r.name === DB.applicationName);
        if (a.up && (!replica || replica.state !== "streaming"))
          problems.push(`${from} has no streaming standby "${DB.applicationName}" (${replica ? replica.state : "none connected"})`);
        if (problems.length)
          throw new UserError(
            `Not both healthy, so no switchover:\n${problems.map((p) => `  - ${p}`).join("\n")}\nFix replication first (npm run bootstrap -- --stack ${o.stack}), or for a dead primary run an emergency failover.`,
          );
        return [`${from}: primary at ${a.currentLsn}; ${to}: streaming (${replica!.syncState}), replayed ${b.replayLsn}`];
      });
    }
    let alreadyPrimary = false;
    await step(stepNamed("standby"), async () => {
      const status = newEx ? await pgStatusOf(newEx).catch(() => undefined) : undefined;
      const r = standbyReadiness({
        standby: to,
        status,
        sshError: unreachable[to],
        policy: o.inventory.syncReplication,
        acceptDataLoss: !!o.acceptDataLoss,
        stack: o.stack,
        graceSeconds: DEGRADE_GRACE_SECONDS,
      });
      alreadyPrimary = r.alreadyPrimary;
      return r.lines;
    });
    if (!newEx)
      throw new UserError(
        `The standby ${to} is unreachable over SSH (${unreachable[to]}): nothing can be promoted. Fix SSH to it and run again.`,
      );

    // ---------------------------------------------------------------- the point of no return: ask, then journal
    if (!journal) {
      const question =
        o.kind === "emergency"
          ? `Fence ${from} (${stepNamed("fence")!.title}) and promote ${to} to primary of stack ${o.stack}?`
          : `Switch the primary of stack ${o.stack} from ${from} to ${to} (writes stop for a few seconds; ${from} becomes the standby)?`;
      if (!(await o.confirm(question))) throw new UserError("Nothing changed.");
      journal = Journal.start(o.journalFile, { kind: o.kind, stack: o.stack, from, to });
      log(`journal ${o.journalFile}`);
    }
    for (const [n, why] of Object.entries(unreachable)) journal.noteUnreachable(n, why);

    // ---------------------------------------------------------------- fence (emergency) / drain (planned)
    const memberProbers = () => members.filter((n) => n.name !== from).slice(0, 2);
    const primaryStillAnswers = async (): Promise<string | undefined> => {
      for (const n of memberProbers()) {
        const r = await execs.get(n.name)!.run(cmd.peerPostgres(oldNode.privateAddress, PORTS.postgres, 1), { timeoutMs: 10_000 });
        const p = cmd.parsePeerPostgres(r.stdout);
        if (p.answers) return n.name;
      }
      return undefined;
    };
    await step(stepNamed("fence"), async () => {
      const lines: string[] = [];
      switch (o.fence.kind) {
        case "power": {
          if (!o.power) throw new Error("fence by power without power operations");
          await o.power.fence(from);
          if (await o.power.isRunning(from))
            throw new UserError(
              `${from} still runs after the power-off through ${o.power.describe}: not fenced, nothing promoted. Power it off by hand and run again with --operator-fenced ${from}.`,
            );
          lines.push(`${o.power.describe}: ${from} is off`);
          break;
        }
        case "command":
          await o.runFenceCommand!(o.fence.command, oldNode);
          lines.push(`fence command done`);
          break;
        case "operator":
          if (!(await (o.operatorConfirmsFenced?.(from) ?? Promise.resolve(true))))
            throw new UserError(`${from} was not confirmed as powered off: nothing promoted.`);
          lines.push(`the operator confirmed ${from} is powered off`);
          break;
        case "none":
          lines.push(`NOT FENCED (--skip-fence-risking-two-primaries): if ${from} runs, it accepts writes from anyone who reaches it`);
          return lines;
        default: {
          const never: never = o.fence;
          throw new Error(`unknown fence ${JSON.stringify(never)}`);
        }
      }
      // Verified from inside the cluster: nothing may still answer on the old primary's PostgreSQL port.
      let answering: string | undefined;
      for (let i = 0; i < 10; i++) {
        answering = await primaryStillAnswers();
        if (!answering) break;
        await sleep(500);
      }
      if (answering)
        throw new UserError(
          `${from}'s PostgreSQL still answers (seen from ${answering}) after the fence: it is NOT fenced, nothing was promoted. Make sure it is off, then run again.`,
        );
      lines.push(
        `verified: ${from}'s PostgreSQL no longer answers (from ${memberProbers()
          .map((n) => n.name)
          .join(", ")})`,
      );
      return lines;
    });
    await step(stepNamed("drain"), async () => {
      const oldEx = execs.get(from);
      if (!oldEx)
        throw new UserError(
          `${from} became unreachable during the switchover (${unreachable[from]}); run again (the journal resumes), or if it is gone: move ${o.journalFile} away and run an emergency failover.`,
        );
      const lines: string[] = [];
      // Broker first: pause writes on the old Redis, wait until the replica has all of it.
      const offset = cmd.valueOf(await must(oldEx, cmd.redisPause(REDIS_CONF, PORTS.redis, 60_000), "pausing Redis writes"), "offset");
      for (let i = 0; i < 50; i++) {
        const out = await must(newEx, cmd.redisReplicaOffset(REDIS_CONF, PORTS.redis), "reading the Redis replica offset");
        if (offset && Number(cmd.valueOf(out, "offset")) >= Number(offset)) break;
        if (i === 49)
          throw new UserError(
            `${to}'s Redis replica did not catch up with ${from} (offset ${cmd.valueOf(out, "offset")} < ${offset}, link ${cmd.valueOf(out, "link")}); nothing promoted. Check redis on both, then run again.`,
          );
        await sleep(100);
      }
      lines.push(`Redis: writes paused on ${from}, replica caught up at offset ${offset}`);
      const stopped = await must(
        oldEx,
        cmd.stopOldPrimary({ unit: POSTGRES_UNIT, pgBin: PATHS.pgBin, pgData: PATHS.pgData }),
        "stopping PostgreSQL cleanly",
      );
      const checkpoint = cmd.valueOf(stopped, "checkpoint_lsn")!;
      for (let i = 0; ; i++) {
        const s = await pgStatusOf(newEx);
        if (s.receiveLsn && cmd.lsnBytes(s.receiveLsn) > cmd.lsnBytes(checkpoint)) {
          lines.push(
            `PostgreSQL: ${from} stopped cleanly (shutdown checkpoint ${checkpoint}); ${to} received up to ${s.receiveLsn}: nothing is missing`,
          );
          break;
        }
        if (i === 100)
          throw new UserError(
            `${to} did not receive ${from}'s shutdown checkpoint ${checkpoint} (received ${s.receiveLsn}); nothing promoted. Start ${from} again (systemctl start ${POSTGRES_UNIT}) and check replication.`,
          );
        await sleep(100);
      }
      await must(
        oldEx,
        cmd.shareHandover({
          share: PATHS.share,
          target: `root@${newNode.privateAddress}`,
          sshPort: o.inventory.ssh.port,
          key: PATHS.shareSyncKey,
          syncUnit: SHARE_SYNC_UNIT,
        }),
        "handing the share over",
        10 * 60_000,
      );
      lines.push(`share: NFS export and replication stopped on ${from}, last changes copied to ${to}`);
      return lines;
    });

    // ---------------------------------------------------------------- promote and record
    await step(stepNamed("promote"), async () => {
      const out = await must(newEx, cmd.promote(), "promoting");
      promotedAfter = (Date.now() - run.t0) / 1000;
      return [
        /already=1/.test(out) || alreadyPrimary
          ? `${to} was already the primary`
          : `${to} is the primary (${seconds(Date.now() - run.t0)} after the start)`,
      ];
    });
    await step(stepNamed("record"), async () => {
      try {
        return [await o.record(to)];
      } catch (e) {
        recorded = false;
        throw e;
      }
    }).catch((e: Error) => {
      // Not recording must not stop the repointing: the cluster comes first, the record is retried by a re-run.
      log(`✗ record: ${e.message}`);
      summary.push(`NOT RECORDED: ${e.message}`);
    });

    // ---------------------------------------------------------------- the new primary's services and the name, in parallel
    const others = o.inventory.nodes.filter((n) => n.name !== from && execs.has(n.name));
    const block = renderHostsBlock({ entries: [{ address: newNode.privateAddress, names: [o.inventory.primaryHostname] }] });
    const limit = pLimit(16);
    await Promise.all([
      step(stepNamed("new-primary"), async () => {
        const out = await must(
          newEx,
          cmd.newPrimaryServices({ overrideFile: NO_STANDBY_OVERRIDE, slot: DB.slot, redisConf: REDIS_CONF, redisPort: PORTS.redis }),
          "starting the primary's services",
        );
        const changes = cmd.changesOf(out);
        return [changes.length ? `changed: ${changes.join(", ")}` : "already in place"];
      }),
      step(stepNamed("repoint"), async () => {
        const results = await Promise.all(
          others.map((n) =>
            limit(async () => {
              try {
                const r = await execs.get(n.name)!.run(cmd.runRendered(hostsBlockScript(block).script), { timeoutMs: 20_000 });
                if (r.code !== 0) throw new Error((r.stderr || r.stdout).trim().split("\n").pop());
                return `${n.name}: ${o.inventory.primaryHostname} → ${newNode.privateAddress}${r.stdout.split("\n").includes(CHANGED_MARKER) ? "" : " (already)"}`;
              } catch (e) {
                unreachable[n.name] = (e as Error).message;
                journal!.noteUnreachable(n.name, (e as Error).message);
                return `${n.name}: FAILED (${(e as Error).message})`;
              }
            }),
          ),
        );
        return results;
      }),
    ]);
    await step(stepNamed("reconnect"), async () =>
      Promise.all(
        others
          .filter((n) => n.role === "child" || n.role === "worker")
          .map(async (n) => {
            const dbHosts = [newNode.privateAddress, oldNode.privateAddress];
            const argv =
              n.role === "child"
                ? cmd.reconnectChild(PATHS.share, UWSGI_UNIT, PATHS.appEnv, dbHosts)
                : cmd.reconnectWorker(PATHS.share, CELERY_UNIT, PATHS.appEnv, dbHosts);
            const r = await execs
              .get(n.name)!
              .run(argv, { timeoutMs: 30_000 })
              .catch((e: Error) => ({ code: -1, stdout: "", stderr: e.message }));
            if (r.code !== 0) {
              unreachable[n.name] = r.stderr.trim().split("\n").pop() ?? "failed";
              return `${n.name}: FAILED (${unreachable[n.name]})`;
            }
            const changes = cmd.changesOf(r.stdout);
            return `${n.name}: ${changes.join(", ") || "nothing running to reconnect"}`;
          }),
      ),
    );

    // ---------------------------------------------------------------- planned: the old primary becomes the standby
    await step(stepNamed("old-primary"), async () => {
      const oldEx = execs.get(from);
      if (!oldEx)
        throw new UserError(
          `${from} is unreachable (${unreachable[from]}): it cannot become the standby now. When it is back, run: npm run failover -- --stack ${o.stack} --planned (the journal resumes here).`,
        );
      const conninfo = `host=${newNode.privateAddress} port=${PORTS.postgres} user=${DB.replicationUser} application_name=${DB.applicationName}`;
      await must(oldEx, cmd.asStandby({ pgData: PATHS.pgData, conninfo, slot: DB.slot }), "configuring the standby");
      if (!o.converge) throw new Error("planned failover without a converge function");
      const r = await o.converge(target, [to, from]);
      if (!r.ok) throw new UserError(`The bootstrap of ${to} and ${from} with their new roles failed:\n${r.text}`);
      return [
        `${from}: standby of ${to} (standby.signal, primary_conninfo host=${newNode.privateAddress}, slot ${DB.slot}); bootstrap of both with their new roles:`,
        ...r.text.split("\n"),
      ];
    });
    await step(stepNamed("sync"), async () => {
      for (let i = 0; ; i++) {
        const s = await pgStatusOf(newEx);
        const replica = s.replicas.find((r) => r.name === DB.applicationName);
        if (replica?.state === "streaming") break;
        if (i === 150)
          throw new UserError(
            `${from} does not stream from ${to} after 30 s: writes stay asynchronous (the override ${NO_STANDBY_OVERRIDE} stays). Check ${from}'s PostgreSQL log, then run again.`,
          );
        await sleep(200);
      }
      const out = await must(newEx, cmd.restoreSync(NO_STANDBY_OVERRIDE), "restoring synchronous replication");
      return [`${from} streams from ${to}; synchronous_standby_names = '${cmd.valueOf(out, "sync_names")}'`];
    });

    // ---------------------------------------------------------------- verify
    await step(stepNamed("verify"), async () => {
      const lines: string[] = [];
      const s = await pgStatusOf(newEx);
      if (!s.up || s.recovery !== false)
        throw new UserError(`${to} is not a writable primary after the promotion (${s.up ? "in recovery" : s.error}).`);
      lines.push(`${to}: PostgreSQL primary, timeline ${s.timeline}, synchronous_standby_names '${s.syncNames}'`);
      const check = uwsgiHealthCheck(o.inventory.recordFqdn).script;
      const children = others.filter((n) => n.role === "child" && !unreachable[n.name]);
      const until = Date.now() + (o.verifyTimeoutMs ?? 20_000);
      lines.push(
        ...(await Promise.all(
          children.map(async (n) => {
            let last = "";
            while (Date.now() < until) {
              const r = await execs.get(n.name)!.run(runCheck(check), { timeoutMs: 15_000 });
              if (r.code === 0) return `${n.name}: app /health/ ok`;
              last = (r.stderr || r.stdout).trim().split("\n").pop() ?? "";
              await sleep(300);
            }
            unreachable[n.name] = `app not healthy: ${last}`;
            return `${n.name}: app NOT healthy (${last})`;
          }),
        )),
      );
      return lines;
    });
  } finally {
    await Promise.all([...execs.values()].map((e) => e.close().catch(() => {})));
  }

  const total = (Date.now() - run.t0) / 1000;
  const reachLater = Object.keys(unreachable).filter((n) => n !== from);
  summary.unshift(
    `${o.kind} failover of stack ${o.stack}: ${to} is the primary${o.kind === "planned" ? `, ${from} its standby` : `; ${from} is ${o.fence.kind === "none" ? "NOT fenced" : "fenced"}`}` +
      (promotedAfter !== undefined ? `; promoted ${promotedAfter.toFixed(1)} s after the start` : ""),
  );
  if (o.kind === "emergency")
    summary.push(
      `No standby now: commits are on ${to} only (synchronous_standby_names is empty through ${NO_STANDBY_OVERRIDE}). ` +
        (o.rejoinCommand
          ? `Make ${from} the new standby when it can be started: ${o.rejoinCommand}`
          : `Making ${from} the new standby (rejoin) is not built into this version yet: keep ${from} off; docs/failover.md says what to do by hand.`),
    );
  if (reachLater.length)
    summary.push(
      `Not done on ${reachLater.map((n) => `${n} (${unreachable[n]})`).join(", ")}: when they are back, run npm run bootstrap -- --stack ${o.stack} --only ${reachLater.join(",")}`,
    );
  let journalPath: string | undefined;
  if (recorded && journal) journalPath = journal.finish();
  else if (journal) summary.push(`The journal ${o.journalFile} stays: run the same command again to finish (each step is idempotent).`);
  summary.push(`total ${total.toFixed(1)} s`);
  for (const l of summary) log(l);
  return {
    kind: o.kind,
    from,
    to,
    complete: recorded && reachLater.length === 0,
    promotedAfter,
    seconds: total,
    unreachable,
    summary,
    journal: journalPath,
  };
}
