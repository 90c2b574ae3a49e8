/** maintenance: the site's mode (normal, maintenance, read-only) as flags on the share, then proof that every child's nginx answers in it. */
import { APP_USER, PORTS } from "../../roles/context";
import { RELEASE_PATHS } from "../../roles/release";
import { TLS_PATHS } from "../../roles/tls";
import { UserError } from "../../model/errors";
import { modeProbe, type ModeAnswer, parseModeProbe, setFlags } from "./commands/maintenance";
import { childrenAndWorker, MINUTE, Nodes, type ReleaseRunBase, seconds } from "./nodes";

export type SiteMode = "normal" | "maintenance" | "read-only";

export interface MaintenanceOptions extends ReleaseRunBase {
  mode: SiteMode;
  dryRun?: boolean;
  confirm: (question: string) => Promise<boolean>;
  /** Seconds every child gets to show the mode. Defaults to 60. */
  timeoutSeconds?: number;
}

/** A path no app serves on purpose: the probe only looks at whether nginx answers it itself. */
export const MODE_PROBE_PATH = "/.django-ha/mode-probe";

/** What a child's answers must be in a mode. Pure. */
export function modeShown(mode: SiteMode, a: ModeAnswer): boolean {
  switch (mode) {
    case "normal":
      return a.get.mode === "app" && a.post.mode === "app";
    case "maintenance":
      return a.get.status === "503" && a.get.mode === "maintenance" && a.post.mode === "maintenance";
    case "read-only":
      return a.get.mode === "app" && a.post.status === "503" && a.post.mode === "read-only";
    default: {
      const never: never = mode;
      throw new Error(`unknown mode ${String(never)}`);
    }
  }
}

/** Set the flags on the share, then wait until every child's nginx answers in the mode; per-child time. */
export async function setMaintenance(
  o: MaintenanceOptions,
): Promise<{ ok: boolean; childMs: Record<string, number>; failures: string[]; totalMs: number }> {
  const started = Date.now();
  const { children, worker } = childrenAndWorker(o.inventory);
  const flags = { maintenance: o.mode === "maintenance", readOnly: o.mode === "read-only" };
  const nodes = new Nodes(o);
  try {
    if (o.dryRun) {
      o.log(
        "plan",
        `${RELEASE_PATHS.maintenanceFlag}: ${flags.maintenance ? "present" : "absent"}; ${RELEASE_PATHS.readOnlyFlag}: ${flags.readOnly ? "present" : "absent"} (set from ${worker.name})`,
      );
      for (const c of children) o.log("plan", `${c.name}: wait until nginx answers in ${o.mode} mode`);
      return { ok: true, childMs: {}, failures: [], totalMs: 0 };
    }
    if (
      o.mode !== "normal" &&
      !(await o.confirm(
        `Put cluster ${o.inventory.cluster} in ${o.mode} mode (${o.mode === "maintenance" ? "every request but health and ACME answered 503" : "writes answered 503"})?`,
      ))
    ) {
      throw new UserError("Not confirmed: nothing was changed.");
    }
    const out = await nodes.run(worker, "set the flags on the share", setFlags(RELEASE_PATHS.flags, APP_USER.name, flags), MINUTE);
    o.log(worker.name, out.trim().split("\n").join(", "));
    const t0 = Date.now();
    const timeout = (o.timeoutSeconds ?? 60) * 1000;
    const childMs: Record<string, number> = {};
    const failures: string[] = [];
    await Promise.all(
      children.map(async (c) => {
        let last: ModeAnswer | undefined;
        while (Date.now() - t0 < timeout) {
          last = parseModeProbe(
            await nodes.run(
              c,
              "probe nginx",
              modeProbe({
                fqdn: o.inventory.recordFqdn,
                httpsPort: PORTS.https,
                fullchain: TLS_PATHS.fullchain,
                selfSigned: TLS_PATHS.selfSigned,
                probePath: MODE_PROBE_PATH,
                header: "X-Django-HA-Mode",
              }),
              MINUTE,
            ),
          );
          if (modeShown(o.mode, last)) {
            childMs[c.name] = Date.now() - t0;
            o.log(c.name, `${o.mode} (${seconds(childMs[c.name])})`);
            return;
          }
          await new Promise((r) => setTimeout(r, 250));
        }
        failures.push(
          `${c.name}: nginx does not answer in ${o.mode} mode after ${timeout / 1000} s (GET ${last?.get.status} ${last?.get.mode}, POST ${last?.post.status} ${last?.post.mode}); is the share mounted there (ls ${RELEASE_PATHS.flags})?`,
        );
        o.log(c.name, `NOT in ${o.mode} mode`);
      }),
    );
    return { ok: failures.length === 0, childMs, failures, totalMs: Date.now() - started };
  } finally {
    await nodes.close();
  }
}
