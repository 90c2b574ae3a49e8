/**
 * The rendered scripts run for real where that needs no machine of its own: /etc/hosts in a private mount
 * namespace and the directories script on this host (plain bash and coreutils); the PostgreSQL scripts, the
 * degrade-to-async watchdog inside a
 * throw-away node booted from the lab's baked image (test/image-node.ts), so they meet the nodes' own
 * PostgreSQL, uWSGI and Python. Each is run twice: the second run must change nothing (no CHANGED_MARKER).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { bootImageNode, IMAGE_NODE_TIMEOUT_MS, type ImageNode } from "../test/image-node";
import { PATHS } from "./context";
import { debianReleaseScript, hostsBlockScript, pgRolesScript, replicationSlotScript, directoriesScript } from "./scripts";
import { DEBIAN_RELEASE } from "../model/debian";
import { renderHostsBlock } from "./files/hosts";
import { CHANGED_MARKER } from "./types";
import { renderSyncWatchdog } from "./watchdog";

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), "django-ha-scripts-"));
fs.chmodSync(tmpRoot, 0o755);
after(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

function bash(script: string, env: Record<string, string> = {}): { status: number; out: string; changed: boolean } {
  const r = spawnSync("bash", ["-euo", "pipefail", "-s"], { input: script, encoding: "utf8", env: { ...process.env, ...env } });
  const out = `${r.stdout}${r.stderr}`;
  return { status: r.status ?? -1, out, changed: r.stdout.split("\n").includes(CHANGED_MARKER) };
}

let node: ImageNode;
before(
  async () => {
    node = await bootImageNode();
  },
  { timeout: IMAGE_NODE_TIMEOUT_MS },
);
after(() => node?.stop());

/** A script inside the image node; CHANGED_MARKER on its own line means it changed something. */
function nodeBash(script: string, env: Record<string, string> = {}): { status: number; out: string; changed: boolean } {
  const r = node.bash(script, { env });
  return { ...r, changed: r.out.split("\n").includes(CHANGED_MARKER) };
}

describe("hosts-block rewrites only its block (private mount namespace over /etc/hosts)", () => {
  it("adds, keeps, then moves the block; other lines survive", () => {
    const hosts = path.join(tmpRoot, "hosts");
    fs.writeFileSync(hosts, "127.0.0.1\tlocalhost\n10.0.0.9\tother\n");
    const runIn = (address: string) => {
      const script = hostsBlockScript(renderHostsBlock({ entries: [{ address, names: ["primary.lab.internal"] }] })).script;
      const file = path.join(tmpRoot, "hosts.sh");
      fs.writeFileSync(file, script);
      const r = spawnSync("unshare", ["-m", "sh", "-c", `mount --bind ${hosts} /etc/hosts && bash -euo pipefail ${file}`], {
        encoding: "utf8",
      });
      assert.equal(r.status, 0, r.stderr);
      return r.stdout.split("\n").includes(CHANGED_MARKER);
    };
    assert.equal(runIn("10.231.0.11"), true);
    assert.equal(runIn("10.231.0.11"), false);
    assert.equal(runIn("10.231.0.12"), true);
    const text = fs.readFileSync(hosts, "utf8");
    assert.equal(
      text,
      "127.0.0.1\tlocalhost\n10.0.0.9\tother\n# BEGIN django-ha\n# Managed by django-ha (bootstrap, failover): edits inside this block are overwritten.\n10.231.0.12\tprimary.lab.internal\n# END django-ha\n",
    );
  });
});

describe("debian-release refuses any other system before anything is changed", () => {
  it("passes on the image (the nodes' release), changing nothing", () => {
    const r = nodeBash(debianReleaseScript().script);
    assert.equal(r.status, 0, r.out);
    assert.equal(r.changed, false);
  });
  const others: [string, string][] = [
    ["Debian 12", 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n'],
    ["Ubuntu 24.04", 'PRETTY_NAME="Ubuntu 24.04.1 LTS"\nID=ubuntu\nID_LIKE=debian\nVERSION_ID="24.04"\n'],
    ["Debian testing (no VERSION_ID)", 'PRETTY_NAME="Debian GNU/Linux forky/sid"\nID=debian\n'],
  ];
  for (const [what, osRelease] of others) {
    it(what, () => {
      const fake = path.join(tmpRoot, "os-release");
      fs.writeFileSync(fake, osRelease);
      const file = path.join(tmpRoot, "release.sh");
      fs.writeFileSync(file, debianReleaseScript().script);
      const r = spawnSync("unshare", ["-m", "sh", "-c", `mount --bind ${fake} /etc/os-release && bash ${file}`], { encoding: "utf8" });
      assert.equal(r.status, 1, r.stdout + r.stderr);
      const pretty = /PRETTY_NAME="([^"]+)"/.exec(osRelease)![1];
      assert.ok(
        r.stderr.includes(`this machine runs ${pretty} (/etc/os-release), but django-ha's roles are written for Debian ${DEBIAN_RELEASE}`),
        r.stderr,
      );
      assert.doesNotMatch(r.stdout, /django-ha: changed/);
    });
  }
});

describe("directories script", () => {
  it("creates, then corrects mode, then is quiet", () => {
    const d = path.join(tmpRoot, "dirs", "a");
    const s = directoriesScript("t", [{ path: d, owner: "root", group: "root", mode: "0750" }]).script;
    assert.equal(bash(s).changed, true);
    assert.equal(fs.statSync(d).mode & 0o777, 0o750);
    assert.equal(bash(s).changed, false);
    fs.chmodSync(d, 0o777);
    assert.equal(bash(s).changed, true);
    assert.equal(bash(s).changed, false);
  });
});

describe("PostgreSQL scripts against a throw-away cluster in the image node", { timeout: 180_000 }, () => {
  const pgBin = PATHS.pgBin;
  const dir = "/var/tmp/django-ha-pg";
  const data = `${dir}/data`;
  // Not 5432: the image node's own cluster runs there.
  const env = { PGHOST: dir, PGPORT: "15432" };
  const asPg = (argv: string[], extra: Record<string, string> = {}) => node.run(argv, { user: "postgres", env: { ...env, ...extra } });
  const sql = (q: string) => asPg([`${pgBin}/psql`, "-XAtq", "-d", "postgres", "-c", q]).out.trim();

  before(() => {
    assert.equal(node.bash(`mkdir -p ${dir} && chown postgres:postgres ${dir}`).status, 0);
    const init = asPg([`${pgBin}/initdb`, "-D", data, "-A", "peer", "--no-sync"]);
    assert.equal(init.status, 0, init.out);
    node.write(`${data}/pg_hba.conf`, "local all all peer\nhost all all 127.0.0.1/32 scram-sha-256\n");
    // As on the parent: set in a config file, so ALTER SYSTEM (postgresql.auto.conf) can override it.
    assert.equal(
      node.bash(`echo "synchronous_standby_names = 'FIRST 1 (standby)'" >> ${data}/postgresql.conf && chown -R postgres:postgres ${data}`)
        .status,
      0,
    );
    const start = asPg([
      `${pgBin}/pg_ctl`,
      "-D",
      data,
      "-w",
      "-l",
      `${dir}/log`,
      "-o",
      `-c listen_addresses=127.0.0.1 -c port=${env.PGPORT} -k ${dir}`,
      "start",
    ]);
    assert.equal(start.status, 0, start.out);
  });
  after(() => {
    asPg([`${pgBin}/pg_ctl`, "-D", data, "-m", "immediate", "stop"]);
  });

  it("roles and database: created once, password repaired when it stops working; never waits for the missing sync standby", () => {
    const s = pgRolesScript({ app: "pw-app-1", replication: "pw-repl-1" }).script;
    const first = nodeBash(s, env);
    assert.equal(first.status, 0, first.out);
    assert.equal(first.changed, true);
    assert.equal(
      sql("select string_agg(rolname || ':' || rolreplication, ',' order by rolname) from pg_roles where rolname in ('app', 'replicator')"),
      "app:false,replicator:true",
    );
    assert.equal(sql("select pg_get_userbyid(datdba) from pg_database where datname = 'app'"), "app");
    const second = nodeBash(s, env);
    assert.equal(second.status, 0, second.out);
    assert.equal(second.changed, false, second.out);
    const rotated = nodeBash(pgRolesScript({ app: "pw-app-2", replication: "pw-repl-1" }).script, env);
    assert.equal(rotated.changed, true, rotated.out);
    const login = node.run([`${pgBin}/psql`, "-XAtq", "-h", "127.0.0.1", "-U", "app", "-d", "app", "-c", "select current_user"], {
      env: { ...env, PGPASSWORD: "pw-app-2" },
    });
    assert.equal(login.out.trim(), "app", login.out);
  });

  it("replication slot: created once", () => {
    const s = replicationSlotScript().script;
    assert.equal(nodeBash(s, env).changed, true);
    assert.equal(nodeBash(s, env).changed, false);
    assert.equal(sql("select slot_type from pg_replication_slots where slot_name = 'standby'"), "physical");
  });

  it("degrade-to-async watchdog drops synchronous_standby_names after the grace period, loudly", async () => {
    const state = `${dir}/since`;
    const script = renderSyncWatchdog({ graceSeconds: 1, restoreLagBytes: 16 * 1024 * 1024, stateFile: state });
    assert.equal(sql("show synchronous_standby_names"), "FIRST 1 (standby)");
    const first = nodeBash(script, env);
    assert.equal(first.status, 0, first.out);
    assert.ok(node.exists(state), "the first miss starts the clock");
    assert.equal(sql("show synchronous_standby_names"), "FIRST 1 (standby)");
    await new Promise((r) => setTimeout(r, 1200));
    const second = nodeBash(script, env);
    assert.equal(second.status, 0, second.out);
    assert.match(second.out, /DROPPED to async/);
    assert.equal(sql("show synchronous_standby_names"), "");
    assert.match(nodeBash(script, env).out, /ASYNCHRONOUS/);
  });
});
