/**
 * The steps that make the old primary stop writing: fence it (emergency) or drain it (planned: Redis,
 * PostgreSQL and the share handed over with nothing missing).
 */
import { PATHS, PORTS } from "../../roles/context";
import { POSTGRES_UNIT, REDIS_CONF } from "../../roles/db";
import { SHARE_SYNC_UNIT } from "../../roles/parent";
import { UserError } from "../../model/errors";
import type { RemoteExecutor } from "../ssh/executor";
import { valueOf } from "./commands/program";
import { lsnBytes, parsePeerPostgres, peerPostgres } from "./commands/database";
import { stopOldPrimary } from "./commands/demotion";
import { redisPause, redisReplicaOffset } from "./commands/redis";
import { shareHandover } from "./commands/share";
import { execOf, type FailoverContext, pgStatusOf, sleep, step } from "./context";
import { must } from "./must";

/** Up to two reachable members other than the old primary: they check from inside the cluster. */
const memberProbers = (ctx: FailoverContext) => ctx.members.filter((n) => n.name !== ctx.from).slice(0, 2);

/** The member that still reaches the old primary's PostgreSQL, if any. */
async function primaryStillAnswers(ctx: FailoverContext): Promise<string | undefined> {
  for (const n of memberProbers(ctx)) {
    const r = await execOf(ctx, n.name).run(peerPostgres(ctx.oldNode.privateAddress, PORTS.postgres, 1), { timeoutMs: 10_000 });
    if (parsePeerPostgres(r.stdout).answers) return n.name;
  }
  return undefined;
}

/** Fence the old primary by the chosen method. Returns what was done; `verify` false = nothing to verify (not fenced). */
async function fenceBy(ctx: FailoverContext): Promise<{ line: string; verify: boolean }> {
  const { o, from } = ctx;
  switch (o.fence.kind) {
    case "power": {
      if (!o.power) throw new Error("fence by power without power operations");
      await o.power.fence(from);
      if (await o.power.isRunning(from))
        throw new UserError(
          `${from} still runs after the power-off through ${o.power.describe}: not fenced, nothing promoted. Power it off by hand and run again with --operator-fenced ${from}.`,
        );
      return { line: `${o.power.describe}: ${from} is off`, verify: true };
    }
    case "command":
      if (!o.runFenceCommand) throw new Error("fence by command without a command runner");
      await o.runFenceCommand(o.fence.command, ctx.oldNode);
      return { line: `fence command done`, verify: true };
    case "operator":
      if (!(await (o.operatorConfirmsFenced?.(from) ?? Promise.resolve(true))))
        throw new UserError(`${from} was not confirmed as powered off: nothing promoted.`);
      return { line: `the operator confirmed ${from} is powered off`, verify: true };
    case "none":
      return {
        line: `NOT FENCED (--skip-fence-risking-two-primaries): if ${from} runs, it accepts writes from anyone who reaches it`,
        verify: false,
      };
    default: {
      const never: never = o.fence;
      throw new Error(`unknown fence ${JSON.stringify(never)}`);
    }
  }
}

/** The "fence" step (emergency): fenced, then verified from inside the cluster (nothing answers on the old primary's port). */
export function fenceStep(ctx: FailoverContext): Promise<void> {
  return step(ctx, "fence", async () => {
    const fenced = await fenceBy(ctx);
    if (!fenced.verify) return [fenced.line];
    let answering: string | undefined;
    for (let i = 0; i < 10; i++) {
      answering = await primaryStillAnswers(ctx);
      if (!answering) break;
      await sleep(500);
    }
    if (answering)
      throw new UserError(
        `${ctx.from}'s PostgreSQL still answers (seen from ${answering}) after the fence: it is NOT fenced, nothing was promoted. Make sure it is off, then run again.`,
      );
    const probers = memberProbers(ctx)
      .map((n) => n.name)
      .join(", ");
    return [fenced.line, `verified: ${ctx.from}'s PostgreSQL no longer answers (from ${probers})`];
  });
}

/** Broker first: pause writes on the old Redis, wait until the replica has all of it. */
async function drainRedis(ctx: FailoverContext, oldEx: RemoteExecutor, newEx: RemoteExecutor): Promise<string> {
  const offset = valueOf(await must(oldEx, redisPause(REDIS_CONF, PORTS.redis, 60_000), "pausing Redis writes"), "offset");
  for (let i = 0; i < 50; i++) {
    const out = await must(newEx, redisReplicaOffset(REDIS_CONF, PORTS.redis), "reading the Redis replica offset");
    if (offset && Number(valueOf(out, "offset")) >= Number(offset)) break;
    if (i === 49)
      throw new UserError(
        `${ctx.to}'s Redis replica did not catch up with ${ctx.from} (offset ${valueOf(out, "offset")} < ${offset}, link ${valueOf(out, "link")}); nothing promoted. Check redis on both, then run again.`,
      );
    await sleep(100);
  }
  return `Redis: writes paused on ${ctx.from}, replica caught up at offset ${offset}`;
}

/** Stop the old PostgreSQL cleanly and wait until the standby received its shutdown checkpoint. */
async function drainPostgres(ctx: FailoverContext, oldEx: RemoteExecutor, newEx: RemoteExecutor): Promise<string> {
  const { from, to } = ctx;
  const stopped = await must(
    oldEx,
    stopOldPrimary({ unit: POSTGRES_UNIT, pgBin: PATHS.pgBin, pgData: PATHS.pgData }),
    "stopping PostgreSQL cleanly",
  );
  const checkpoint = valueOf(stopped, "checkpoint_lsn");
  if (!checkpoint) throw new UserError(`${from}: stopping PostgreSQL printed no shutdown checkpoint: ${stopped.trim()}`);
  for (let i = 0; ; i++) {
    const s = await pgStatusOf(newEx);
    if (s.receiveLsn && lsnBytes(s.receiveLsn) > lsnBytes(checkpoint))
      return `PostgreSQL: ${from} stopped cleanly (shutdown checkpoint ${checkpoint}); ${to} received up to ${s.receiveLsn}: nothing is missing`;
    if (i === 100)
      throw new UserError(
        `${to} did not receive ${from}'s shutdown checkpoint ${checkpoint} (received ${s.receiveLsn}); nothing promoted. Start ${from} again (systemctl start ${POSTGRES_UNIT}) and check replication.`,
      );
    await sleep(100);
  }
}

/** The "drain" step (planned): Redis, then PostgreSQL, then the share, each with nothing missing on the standby. */
export function drainStep(ctx: FailoverContext): Promise<void> {
  const { o, from } = ctx;
  return step(ctx, "drain", async () => {
    const oldEx = ctx.execs.get(from);
    if (!oldEx)
      throw new UserError(
        `${from} became unreachable during the switchover (${ctx.unreachable[from]}); run again (the journal resumes), or if it is gone: move ${o.journalFile} away and run an emergency failover.`,
      );
    const newEx = execOf(ctx, ctx.to);
    const lines = [await drainRedis(ctx, oldEx, newEx), await drainPostgres(ctx, oldEx, newEx)];
    const handover = shareHandover({
      share: PATHS.share,
      target: `root@${ctx.newNode.privateAddress}`,
      sshPort: o.inventory.ssh.port,
      key: PATHS.shareSyncKey,
      syncUnit: SHARE_SYNC_UNIT,
    });
    await must(oldEx, handover, "handing the share over", 10 * 60_000);
    lines.push(`share: NFS export and replication stopped on ${from}, last changes copied to ${ctx.to}`);
    return lines;
  });
}
