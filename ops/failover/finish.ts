/** The last steps: (planned) the old primary becomes the standby and writes are synchronous again; then verify. */
import { uwsgiHealthCheck } from "../../roles/checks";
import { DB, PATHS, PORTS } from "../../roles/context";
import { FAILOVER_NO_STANDBY_CONF } from "../../roles/guard";
import { UserError } from "../../model/errors";
import type { InventoryNode } from "../../model";
import { runCheck } from "../bootstrap/commands";
import { valueOf } from "./commands/program";
import { restoreSync } from "./commands/promotion";
import { asStandby } from "./commands/demotion";
import { execOf, type FailoverContext, pgStatusOf, sleep, step } from "./context";
import { must } from "./must";
import { othersOf } from "./promote";

/** The "old-primary" step (planned): the old primary follows the new one, then both converge on their new roles. */
export function oldPrimaryStep(ctx: FailoverContext): Promise<void> {
  const { o, from, to, newNode } = ctx;
  return step(ctx, "old-primary", async () => {
    const oldEx = ctx.execs.get(from);
    if (!oldEx)
      throw new UserError(
        `${from} is unreachable (${ctx.unreachable[from]}): it cannot become the standby now. When it is back, run: npm run failover -- --stack ${o.stack} --planned (the journal resumes here).`,
      );
    const conninfo = `host=${newNode.privateAddress} port=${PORTS.postgres} user=${DB.replicationUser} application_name=${DB.applicationName}`;
    await must(oldEx, asStandby({ pgData: PATHS.pgData, conninfo, slot: DB.slot }), "configuring the standby");
    if (!o.converge) throw new Error("planned failover without a converge function");
    const r = await o.converge(ctx.target, [to, from]);
    if (!r.ok) throw new UserError(`The bootstrap of ${to} and ${from} with their new roles failed:\n${r.text}`);
    return [
      `${from}: standby of ${to} (standby.signal, primary_conninfo host=${newNode.privateAddress}, slot ${DB.slot}); bootstrap of both with their new roles:`,
      ...r.text.split("\n"),
    ];
  });
}

/** The "sync" step (planned): once the old primary streams, synchronous replication again. */
export function syncStep(ctx: FailoverContext): Promise<void> {
  const { from, to } = ctx;
  return step(ctx, "sync", async () => {
    const newEx = execOf(ctx, to);
    for (let i = 0; ; i++) {
      const s = await pgStatusOf(newEx);
      const replica = s.replicas.find((r) => r.name === DB.applicationName);
      if (replica?.state === "streaming") break;
      if (i === 150)
        throw new UserError(
          `${from} does not stream from ${to} after 30 s: writes stay asynchronous (the override ${FAILOVER_NO_STANDBY_CONF} stays). Check ${from}'s PostgreSQL log, then run again.`,
        );
      await sleep(200);
    }
    const out = await must(newEx, restoreSync(FAILOVER_NO_STANDBY_CONF), "restoring synchronous replication");
    return [`${from} streams from ${to}; synchronous_standby_names = '${valueOf(out, "sync_names")}'`];
  });
}

/** Wait until the app on one child answers its health check (until `until`); an unhealthy child is noted. */
async function childHealthy(ctx: FailoverContext, n: InventoryNode, until: number): Promise<string> {
  const check = uwsgiHealthCheck(ctx.o.inventory.recordFqdn).script;
  let last = "";
  while (Date.now() < until) {
    const r = await execOf(ctx, n.name).run(runCheck(check), { timeoutMs: 15_000 });
    if (r.code === 0) return `${n.name}: app /health/ ok`;
    last = (r.stderr || r.stdout).trim().split("\n").pop() ?? "";
    await sleep(300);
  }
  ctx.unreachable[n.name] = `app not healthy: ${last}`;
  return `${n.name}: app NOT healthy (${last})`;
}

/** The "verify" step: a writable primary, and the app healthy on every reachable child. */
export function verifyStep(ctx: FailoverContext): Promise<void> {
  const { to } = ctx;
  return step(ctx, "verify", async () => {
    const s = await pgStatusOf(execOf(ctx, to));
    if (!s.up || s.recovery !== false)
      throw new UserError(`${to} is not a writable primary after the promotion (${s.up ? "in recovery" : s.error}).`);
    const children = othersOf(ctx).filter((n) => n.role === "child" && !ctx.unreachable[n.name]);
    const until = Date.now() + (ctx.o.verifyTimeoutMs ?? 20_000);
    return [
      `${to}: PostgreSQL primary, timeline ${s.timeline}, synchronous_standby_names '${s.syncNames}'`,
      ...(await Promise.all(children.map((n) => childHealthy(ctx, n, until)))),
    ];
  });
}
