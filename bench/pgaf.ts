/**
 * pg_auto_failover beside django-ha's failover, in the same lab run (bench/failover.bench.ts): Debian 13's
 * `pg-auto-failover-cli` and `postgresql-17-auto-failover` (2.2) with their default timings, a monitor on the
 * worker and two data nodes on the two database machines (a second PostgreSQL 17 each, port 5433, beside the
 * cluster's own on 5432), the children's app repointed to them through the same multi-host DB_HOSTS string.
 *
 * The lab image does not carry the packages (adding them would change every lab user's image): the host
 * downloads them once from the Debian mirror it already uses (trixie, a private apt state under .lab/pgaf/apt)
 * and copies them into the three nodes, which have no route to the mirror.
 * Benchmark code only: nothing in the product uses pg_auto_failover.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { labPaths, labSsh } from "../lab";
import { readState } from "../lab/state";
import { DB, PATHS } from "../roles/context";
import { UWSGI_UNIT } from "../roles/child";
import { RELEASE_PATHS } from "../roles/release";
import { DEBIAN_SUITE, POSTGRES_MAJOR } from "../model/debian";
import type { Inventory } from "../model";

/** What pg_auto_failover needs on top of the lab image (its other dependencies are in the image). */
export const PGAF_PACKAGES = ["pg-auto-failover-cli", `postgresql-${POSTGRES_MAJOR}-auto-failover`, "libncurses6"];
export const PGAF_PORT = 5433;
export const MONITOR_PORT = 5440;
const PGDATA = "/var/lib/postgresql/pgaf";
const MONITOR_PGDATA = "/var/lib/postgresql/pgaf-monitor";
const UNIT = "pgautofailover-bench.service";

export interface PgafCluster {
  monitor: { node: string; address: string };
  /** The two data nodes, in creation order (the first starts as primary). */
  nodes: { node: string; address: string }[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function onNode(node: string, script: string, args: string[] = [], timeoutMs = 300_000): Promise<string> {
  const r = await labSsh(node, ["bash", "-euo", "pipefail", "-c", script, "pgaf", ...args], { timeoutMs });
  if (r.code !== 0)
    throw new Error(`${node}: pg_auto_failover step failed (${r.code}):\n${script.split("\n")[0]}…\n${r.stderr || r.stdout}`);
  return r.stdout.trim();
}

/** The Debian mirror the host's apt uses (never a hard-coded host name). */
function hostMirror(): string {
  for (const file of ["/etc/apt/sources.list.d/debian.sources", "/etc/apt/sources.list"]) {
    if (!fs.existsSync(file)) continue;
    const m =
      /^URIs:\s*(\S+)/m.exec(fs.readFileSync(file, "utf8")) ?? /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)/m.exec(fs.readFileSync(file, "utf8"));
    if (m) return m[1];
  }
  throw new Error("no Debian mirror found in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list");
}

/** Download the packages (once) into .lab/pgaf/debs with a private apt state; returns the .deb files. */
export function downloadPackages(log: (l: string) => void): string[] {
  const root = path.join(labPaths().root, "pgaf");
  const debs = path.join(root, "debs");
  const have = fs.existsSync(debs) ? fs.readdirSync(debs).filter((f) => f.endsWith(".deb")) : [];
  if (PGAF_PACKAGES.every((p) => have.some((f) => f.startsWith(`${p}_`)))) return have.map((f) => path.join(debs, f));
  const apt = path.join(root, "apt");
  for (const d of ["lists/partial", "cache/archives/partial", "sources"]) fs.mkdirSync(path.join(apt, d), { recursive: true });
  fs.mkdirSync(debs, { recursive: true });
  fs.writeFileSync(
    path.join(apt, "sources", "trixie.sources"),
    `Types: deb\nURIs: ${hostMirror()}\nSuites: ${DEBIAN_SUITE}\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n`,
  );
  const opts = [
    "-o",
    "Dir::Etc::SourceList=/dev/null",
    "-o",
    `Dir::Etc::SourceParts=${path.join(apt, "sources")}`,
    "-o",
    `Dir::State::Lists=${path.join(apt, "lists")}`,
    "-o",
    `Dir::Cache=${path.join(apt, "cache")}`,
  ];
  log(`pg_auto_failover: downloading ${PGAF_PACKAGES.join(", ")} (${DEBIAN_SUITE}) from ${hostMirror()}`);
  execFileSync("apt-get", [...opts, "-q", "update"], { stdio: "ignore" });
  execFileSync("apt-get", [...opts, "download", ...PGAF_PACKAGES], { cwd: debs, stdio: "ignore" });
  return fs
    .readdirSync(debs)
    .filter((f) => f.endsWith(".deb"))
    .map((f) => path.join(debs, f));
}

/** Copy the .debs into a running node's root (its overlay is mounted on the host) and install them. */
async function install(node: string, debs: string[]): Promise<void> {
  const state = readState(labPaths());
  const root = state?.nodes[node]?.root;
  if (!root) throw new Error(`no running lab node ${node}`);
  const dir = path.join(root, "var/tmp/pgaf-debs");
  fs.mkdirSync(dir, { recursive: true });
  for (const d of debs) fs.copyFileSync(d, path.join(dir, path.basename(d)));
  await onNode(node, `dpkg -i /var/tmp/pgaf-debs/*.deb >/dev/null && command -v pg_autoctl >/dev/null`);
}

/** Let the bench's ports through the node's firewall (its `inet django_ha` table drops everything else); lost at a reboot. */
async function openPorts(node: string, cidr: string): Promise<void> {
  await onNode(node, `nft insert rule inet django_ha input ip saddr "$1" tcp dport '{ ${PGAF_PORT}, ${MONITOR_PORT} }' accept`, [cidr]);
}

/** A systemd unit that runs the node's keeper (or the monitor) at every boot, as pg_autoctl's own `show systemd` does. */
function unitFile(pgdata: string): string {
  return `[Unit]
Description=pg_auto_failover keeper (django-ha benchmark)
After=network-online.target
[Service]
User=postgres
Environment=PGDATA=${pgdata}
ExecStart=/usr/bin/pg_autoctl run
Restart=always
RestartSec=1
[Install]
WantedBy=multi-user.target
`;
}

async function enableUnit(node: string, pgdata: string): Promise<void> {
  await onNode(
    node,
    `cat > /etc/systemd/system/${UNIT} <<'UNIT'\n${unitFile(pgdata)}UNIT\nsystemctl daemon-reload && systemctl enable --now ${UNIT} >/dev/null 2>&1`,
  );
}

const monitorUri = (address: string) => `postgres://autoctl_node@${address}:${MONITOR_PORT}/pg_auto_failover?sslmode=disable`;

/** The monitor's view: host → reported and goal state. */
export async function pgafStates(c: PgafCluster): Promise<{ host: string; reported: string; goal: string }[]> {
  const out = await onNode(
    c.monitor.node,
    `runuser -u postgres -- psql -p ${MONITOR_PORT} -d pg_auto_failover -AtXc "select nodehost, reportedstate, goalstate from pgautofailover.node order by nodeid"`,
  );
  return out
    .split("\n")
    .filter(Boolean)
    .map((l) => {
      const [host, reported, goal] = l.split("|");
      return { host, reported, goal };
    });
}

/** Wait until the monitor reports one primary and one secondary, both settled (reported = goal); returns the primary's node. */
export async function waitSettled(c: PgafCluster, timeoutMs = 300_000): Promise<string> {
  const until = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < until) {
    const states = await pgafStates(c).catch((e) => ((last = String(e)), []));
    if (states.length === 2) last = JSON.stringify(states);
    const settled = states.length === 2 && states.every((s) => s.reported === s.goal);
    const primary = states.find((s) => s.reported === "primary");
    if (settled && primary && states.some((s) => s.reported === "secondary")) return c.nodes.find((n) => n.address === primary.host)!.node;
    await sleep(1000);
  }
  throw new Error(`pg_auto_failover did not settle as primary + secondary within ${timeoutMs / 1000} s: ${last}`);
}

/**
 * Build the pg_auto_failover formation: monitor on the worker, data nodes on the two database machines.
 * Defaults everywhere (timings, synchronous replication with one standby); trust auth inside the lab's /24.
 */
export async function createPgaf(inv: Inventory, log: (l: string) => void): Promise<PgafCluster> {
  const debs = downloadPackages(log);
  const worker = inv.nodes.find((n) => n.role === "worker");
  if (!worker) throw new Error("the lab inventory has no worker node for the pg_auto_failover monitor");
  const dbNodes = [inv.primary, inv.standby].map((name) => inv.nodes.find((n) => n.name === name)!);
  const c: PgafCluster = {
    monitor: { node: worker.name, address: worker.privateAddress },
    nodes: dbNodes.map((n) => ({ node: n.name, address: n.privateAddress })),
  };
  const cidr = `${worker.privateAddress.split(".").slice(0, 3).join(".")}.0/24`;
  const pgctl = `${PATHS.pgBin}/pg_ctl`;
  for (const n of [c.monitor, ...c.nodes]) {
    await install(n.node, debs);
    await openPorts(n.node, cidr);
  }
  log(`pg_auto_failover: installed on ${[c.monitor, ...c.nodes].map((n) => n.node).join(", ")}`);
  await onNode(
    c.monitor.node,
    `runuser -u postgres -- pg_autoctl create monitor --pgdata "$1" --pgport "$2" --hostname "$3" --auth trust --no-ssl --pgctl "$4" >/dev/null 2>&1
printf 'host all all %s trust\\n' "$5" >> "$1/pg_hba.conf"`,
    [MONITOR_PGDATA, String(MONITOR_PORT), c.monitor.address, pgctl, cidr],
  );
  await enableUnit(c.monitor.node, MONITOR_PGDATA);
  for (const [i, n] of c.nodes.entries()) {
    await onNode(
      n.node,
      `runuser -u postgres -- pg_autoctl create postgres --pgdata "$1" --pgport "$2" --hostname "$3" --name "$4" --monitor "$5" --auth trust --no-ssl --dbname "$6" --pgctl "$7" >/tmp/pgaf-create.log 2>&1 || { tail -30 /tmp/pgaf-create.log >&2; exit 1; }`,
      [PGDATA, String(PGAF_PORT), n.address, n.node, monitorUri(c.monitor.address), DB.name, pgctl],
    );
    if (i === 0) {
      // The app connects from the children with a password; the lab's /24 only (copied to the secondary by its base backup).
      await onNode(n.node, `printf 'host all all %s trust\\n' "$2" >> "$1/pg_hba.conf"`, [PGDATA, cidr]);
    }
    await enableUnit(n.node, PGDATA);
    if (i === 0) {
      await waitFor(`${n.node} primary (single)`, async () => (await pgafStates(c)).some((s) => s.reported === "single"));
      await onNode(n.node, `runuser -u postgres -- psql -p "$1" -d postgres -qAtXc "create role $2 login; alter database $3 owner to $2"`, [
        String(PGAF_PORT),
        DB.user,
        DB.name,
      ]);
    }
  }
  const primary = await waitSettled(c);
  log(`pg_auto_failover: formation up, primary ${primary}`);
  return c;
}

async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs = 180_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await probe().catch(() => false)) return;
    await sleep(1000);
  }
  throw new Error(`pg_auto_failover: timed out waiting for ${what}`);
}

/**
 * Point every child's app at the formation (DB_HOSTS both data nodes, DB_PORT 5433; DATABASE_URL removed, so the
 * sample app reads DB_*), migrate once, restart uWSGI.
 */
export async function repointApp(inv: Inventory, c: PgafCluster): Promise<void> {
  const hosts = c.nodes.map((n) => n.address).join(",");
  const children = inv.nodes.filter((n) => n.role === "child");
  for (const child of children) {
    await onNode(
      child.name,
      `sed -i -e "s/^DB_HOSTS=.*/DB_HOSTS=$1/" -e "s/^DB_PORT=.*/DB_PORT=$2/" -e "/^DATABASE_URL=/d" ${PATHS.appEnv}`,
      [hosts, String(PGAF_PORT)],
    );
  }
  await onNode(
    children[0].name,
    `set -a; . ${PATHS.appEnv}; set +a; runuser -u django -- ${RELEASE_PATHS.python} manage.py migrate --noinput >/dev/null`,
  );
  for (const child of children) await onNode(child.name, `systemctl restart ${UWSGI_UNIT}`);
}

/** After a drill: start the killed node, open its ports again, wait until it is the secondary. */
export async function restoreNode(c: PgafCluster, node: string, start: (node: string) => Promise<void>, cidr: string): Promise<void> {
  await start(node);
  await openPorts(node, cidr);
  await waitSettled(c);
}

export { PGDATA as PGAF_PGDATA };
