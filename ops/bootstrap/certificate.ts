/**
 * The bootstrap's last phase: the first `pulumi up` (or `npm run bootstrap`) ends with a trusted certificate
 * on every child. After every role converged: the renewal agent runs once on the primary (it orders when it
 * must, else does nothing), each child installs what is on the share (django-ha-tls-sync), and each child
 * serves /health/ through the record name with a chain its system trust store verifies — no -k.
 * A failure names the node, the step and the agent's last error; the children keep the certificate they had
 * (the sync installs nothing that fails its checks).
 */
import pLimit from "p-limit";
import { ACME_PATHS, ACME_SERVICE } from "../../roles/acme";
import { shareCertDir, TLS_PATHS } from "../../roles/tls";
import type { Inventory, InventoryNode } from "../../model";
import type { RemoteExecutor } from "../ssh/executor";
import type { Argv } from "../../roles/shell";

const FIXED = (program: string, ...args: string[]): Argv => ["bash", "-c", program, "django-ha", ...args];
const MINUTE = 60_000;

/**
 * Let the timer act from now on (the marker on the share, replicated to the standby), lift any wait after failed
 * orders (django-ha-acme retry: someone is watching), run the agent once
 * through its unit (the same command, environment and lock as the timer's runs; a run the timer started is
 * waited for rather than doubled), then require the certificate on the share. On failure, prints the
 * agent's journal tail and its status (lastError, nextAttemptAt).
 */
const AGENT_RUN = `set -uo pipefail
unit=$1; dir=$2; ready=$3
if [ ! -e "$ready" ]; then
  printf '%s\\n' "django-ha: every node converged; the renewal agent's timer acts from now on" > "$ready.new" && mv -f "$ready.new" "$ready"
fi
# An operator is here: a wait after failed orders (a run the timer started before the children served the
# challenge, or the last bootstrap's failure) is lifted; the agent still orders only when one is due.
lifted=$(django-ha-acme retry 2>&1) || true
if ! systemctl start "$unit"; then
  printf '%s\\n' "$lifted"
  echo "the renewal agent failed; its last lines (journalctl -u $unit):"
  journalctl -u "$unit" -n 15 --no-pager -o cat 2>&1 | tail -n 15
  echo "django-ha-acme status:"
  django-ha-acme status 2>&1 | tail -n 20
  exit 1
fi
if [ ! -s "$dir/fullchain.pem" ] || [ ! -s "$dir/privkey.pem.enc" ]; then
  echo "the renewal agent finished, but $dir holds no certificate; django-ha-acme status:"
  django-ha-acme status 2>&1 | tail -n 20
  exit 1
fi`;

export function agentRun(fqdn: string): Argv {
  return FIXED(AGENT_RUN, ACME_SERVICE, shareCertDir(fqdn), ACME_PATHS.ready);
}

export function tlsSync(): Argv {
  return [TLS_PATHS.sync];
}

/**
 * /health/ through the record name, pinned to this child, verified by the system trust store (no -k, no
 * --cacert): what a visitor's browser checks. Retried briefly while nginx's reload settles.
 */
const TRUSTED_HEALTH = `set -uo pipefail
fqdn=$1; address=$2; health=$3
for attempt in 1 2 3 4 5 6 7 8 9 10; do
  if out=$(curl -fsS --max-time 10 --resolve "$fqdn:443:$address" "https://$fqdn$health" 2>&1); then exit 0; fi
  [ "$attempt" = 10 ] || sleep 1
done
echo "https://$fqdn$health via $address is not trusted or not healthy: $out"
echo "served certificate: $(openssl s_client -connect "$address:443" -servername "$fqdn" </dev/null 2>/dev/null | openssl x509 -noout -subject -issuer -enddate 2>/dev/null | tr '\\n' ' ')"
exit 1`;

export function trustedHealth(fqdn: string, address: string, healthPath = "/health/"): Argv {
  return FIXED(TRUSTED_HEALTH, fqdn, address, healthPath);
}

export interface CertificatePhaseOptions {
  inventory: Inventory;
  connect: (node: InventoryNode) => Promise<RemoteExecutor>;
  log: (node: string, line: string) => void;
  /** Children at once. Defaults to 4. */
  concurrency?: number;
  /** The app's health path (django-ha:app.healthPath): 200 = healthy. Defaults to "/health/". */
  healthPath?: string;
}

export type CertificatePhaseResult =
  | { ok: true; /** Children that serve a trusted certificate. */ trusted: string[]; durationMs: number }
  | {
      ok: false;
      /** The first failure: node, step, output (the agent's last error for the agent step). */
      failure: { node: string; step: string; output: string };
      trusted: string[];
      durationMs: number;
    };

type StepResult = { ok: true } | { ok: false; step: string; output: string };

async function onNode(o: CertificatePhaseOptions, node: InventoryNode, steps: [string, Argv, number][]): Promise<StepResult> {
  let exec: RemoteExecutor;
  try {
    exec = await o.connect(node);
  } catch (err) {
    return { ok: false, step: "connect", output: (err as Error).message };
  }
  try {
    for (const [step, argv, timeoutMs] of steps) {
      o.log(node.name, `certificate: ${step}`);
      const r = await exec.run(argv, { timeoutMs });
      if (r.code !== 0)
        return { ok: false, step, output: [r.stdout.trimEnd(), r.stderr.trimEnd()].filter(Boolean).join("\n") || `exit ${r.code}` };
    }
    return { ok: true };
  } finally {
    await exec.close().catch(() => {});
  }
}

/** Run the certificate phase over the inventory. Never throws for a node's failure: the result says which. */
export async function runCertificatePhase(o: CertificatePhaseOptions): Promise<CertificatePhaseResult> {
  const started = Date.now();
  const inv = o.inventory;
  const primary = inv.nodes.find((n) => n.name === inv.primary);
  if (!primary)
    return {
      ok: false,
      failure: { node: inv.primary, step: "find the primary", output: `the inventory has no node ${inv.primary}` },
      trusted: [],
      durationMs: 0,
    };
  const agent = await onNode(o, primary, [["django-ha-acme run (order or renew if due)", agentRun(inv.recordFqdn), 15 * MINUTE]]);
  if (!agent.ok) {
    o.log(primary.name, `certificate: FAILED at ${agent.step}`);
    return {
      ok: false,
      failure: { node: primary.name, step: agent.step, output: agent.output },
      trusted: [],
      durationMs: Date.now() - started,
    };
  }
  o.log(primary.name, "certificate: on the share");
  const limit = pLimit(o.concurrency ?? 4);
  const children = inv.nodes.filter((n) => n.role === "child");
  const results = await Promise.all(
    children.map((c) =>
      limit(async () => {
        const r = await onNode(o, c, [
          ["django-ha-tls-sync (install it, reload nginx)", tlsSync(), 2 * MINUTE],
          [
            `https://${inv.recordFqdn}${o.healthPath ?? "/health/"} verified by the system trust store`,
            trustedHealth(inv.recordFqdn, c.publicAddress, o.healthPath),
            2 * MINUTE,
          ],
        ]);
        o.log(c.name, r.ok ? "certificate: trusted" : `certificate: FAILED at ${r.step}`);
        return { node: c.name, r };
      }),
    ),
  );
  const failed = results.find((x) => !x.r.ok);
  const trusted = results.filter((x) => x.r.ok).map((x) => x.node);
  if (failed && !failed.r.ok)
    return {
      ok: false,
      failure: { node: failed.node, step: failed.r.step, output: failed.r.output },
      trusted,
      durationMs: Date.now() - started,
    };
  return { ok: true, trusted, durationMs: Date.now() - started };
}

/** The phase's lines in the end-of-run report. */
export function formatCertificatePhase(r: CertificatePhaseResult): string[] {
  if (r.ok)
    return [
      `certificate  trusted on ${r.trusted.length} child${r.trusted.length === 1 ? "" : "ren"}: ${r.trusted.join(", ")} (${(r.durationMs / 1000).toFixed(1)} s)`,
    ];
  const f = r.failure;
  return [
    `certificate  FAILED on ${f.node} at ${f.step}; the children keep serving the certificate they had:`,
    ...(f.output || "(no output)").split("\n").map((l) => `    | ${l}`),
  ];
}
