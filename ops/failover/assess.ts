/** The steps before the point of no return: the situation of the primary, and what the standby holds. Read only. */
import { DB, PORTS } from "../../roles/context";
import { UserError } from "../../model/errors";
import { parsePeerPostgres, peerPostgres, type PgStatus } from "./commands/database";
import { execOf, type FailoverContext, pgStatusOf, step } from "./context";
import { assessPrimary, emergencyAllowed, formatObservations, standbyReadiness } from "./decide";

/** degrade-to-async grace (roles/parent.ts DEGRADE_AFTER_SECONDS), for the message only. */
const DEGRADE_GRACE_SECONDS = 10;

type SshView = { reachable: boolean; error?: string; pg?: PgStatus };

/** This machine's view of the old primary: the provider's power state, and unless that says "off", SSH (one short attempt). */
async function operatorView(ctx: FailoverContext): Promise<{ powerRunning?: boolean; ssh: SshView }> {
  const { o, from } = ctx;
  const powerRunning = o.power ? await o.power.isRunning(from).catch(() => undefined) : undefined;
  if (powerRunning === false) return { powerRunning, ssh: { reachable: false, error: "not tried: powered off" } };
  try {
    const ex = await o.connect(ctx.oldNode, true);
    ctx.execs.set(from, ex);
    return {
      powerRunning,
      ssh: { reachable: true, pg: await pgStatusOf(ex).catch((e: Error) => ({ up: false, error: e.message, replicas: [] })) },
    };
  } catch (e) {
    ctx.unreachable[from] = (e as Error).message.split("\n")[0];
    return { powerRunning, ssh: { reachable: false, error: ctx.unreachable[from] } };
  }
}

/** The views of up to three cluster members (the standby first): does the old primary's PostgreSQL answer them? */
async function memberViews(ctx: FailoverContext) {
  const probers = [
    ctx.to,
    ...ctx.members.filter((n) => n.name !== ctx.to && (n.role === "child" || n.role === "worker")).map((n) => n.name),
  ]
    .filter((n) => ctx.execs.has(n))
    .slice(0, 3);
  return Promise.all(
    probers.map(async (n) => {
      const r = await execOf(ctx, n).run(peerPostgres(ctx.oldNode.privateAddress, PORTS.postgres, 2), { timeoutMs: 10_000 });
      const p = parsePeerPostgres(r.stdout);
      return { node: n, answers: p.answers, detail: p.detail };
    }),
  );
}

/** Emergency: is the primary really gone? Refuses (UserError) unless the observations allow a failover. */
async function emergencySituation(ctx: FailoverContext): Promise<string[]> {
  const [{ powerRunning, ssh }, members] = await Promise.all([operatorView(ctx), memberViews(ctx)]);
  const assessment = assessPrimary({ primary: ctx.from, powerRunning, operatorSsh: ssh, members });
  emergencyAllowed(assessment, ctx.from, ctx.o.stack);
  return [`verdict: ${assessment.verdict}`, ...formatObservations(assessment)];
}

/** Planned: both database machines healthy, the standby streaming. Refuses (UserError) otherwise. */
async function plannedSituation(ctx: FailoverContext): Promise<string[]> {
  const { from, to, o } = ctx;
  const oldEx = ctx.execs.get(from);
  const newEx = ctx.execs.get(to);
  if (!oldEx || !newEx)
    throw new UserError(
      `A switchover needs both database machines: ${[from, to]
        .filter((n) => !ctx.execs.has(n))
        .map((n) => `${n} is unreachable (${ctx.unreachable[n]})`)
        .join("; ")}. If the primary is gone, run an emergency failover: npm run failover -- --stack ${o.stack}`,
    );
  const [a, b] = await Promise.all([pgStatusOf(oldEx), pgStatusOf(newEx)]);
  const problems: string[] = [];
  if (!a.up || a.recovery !== false) problems.push(`${from} is not a running primary (${a.up ? "in recovery" : (a.error ?? "down")})`);
  if (!b.up || b.recovery !== true) problems.push(`${to} is not a running standby (${b.up ? "not in recovery" : (b.error ?? "down")})`);
  const replica = a.replicas.find((r) => r.name === DB.applicationName);
  if (a.up && (!replica || replica.state !== "streaming"))
    problems.push(`${from} has no streaming standby "${DB.applicationName}" (${replica ? replica.state : "none connected"})`);
  if (problems.length || !replica)
    throw new UserError(
      `Not both healthy, so no switchover:\n${problems.map((p) => `  - ${p}`).join("\n")}\nFix replication first (npm run bootstrap -- --stack ${o.stack}), or for a dead primary run an emergency failover.`,
    );
  return [`${from}: primary at ${a.currentLsn}; ${to}: streaming (${replica.syncState}), replayed ${b.replayLsn}`];
}

/** The "situation" step of either kind. */
export function situationStep(ctx: FailoverContext): Promise<void> {
  return step(ctx, "situation", () => (ctx.o.kind === "emergency" ? emergencySituation(ctx) : plannedSituation(ctx)));
}

/** The "standby" step: what the standby holds, and whether promoting it may lose writes (refused unless accepted). */
export async function standbyStep(ctx: FailoverContext): Promise<void> {
  const { o, to } = ctx;
  await step(ctx, "standby", async () => {
    const newEx = ctx.execs.get(to);
    const status = newEx ? await pgStatusOf(newEx).catch(() => undefined) : undefined;
    const r = standbyReadiness({
      standby: to,
      status,
      sshError: ctx.unreachable[to],
      policy: o.inventory.syncReplication,
      acceptDataLoss: !!o.acceptDataLoss,
      stack: o.stack,
      graceSeconds: DEGRADE_GRACE_SECONDS,
    });
    ctx.alreadyPrimary = r.alreadyPrimary;
    return r.lines;
  });
  if (!ctx.execs.has(to))
    throw new UserError(
      `The standby ${to} is unreachable over SSH (${ctx.unreachable[to]}): nothing can be promoted. Fix SSH to it and run again.`,
    );
}
