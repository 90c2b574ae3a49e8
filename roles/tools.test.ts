/**
 * Real tools on the rendered files: shellcheck (every script and check), nginx -t, systemd-analyze verify,
 * PostgreSQL (postgres -C and pg_hba_file_rules on a throw-away cluster), nft -c, sshd -t, and redis-server
 * when installed. Each tool must be on the machine (test/host-packages.txt): a missing tool fails the test.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { fixtureContext, fixtureInventory } from "./fixtures";
import { renderClusterPlans } from "./plan";
import { renderNginxSite } from "./files/nginx";
import { renderPostgresConf } from "./files/postgres";
import { renderRedisConf } from "./files/redis";
import type { Action, NodePlan, RoleContext } from "./types";

const contexts: [string, RoleContext][] = [
  ["strict+nfs", fixtureContext()],
  ["degrade+lab-bind", fixtureContext({ shareMount: "lab-bind", inventory: fixtureInventory({ syncReplication: "degrade-to-async" }) })],
];
const plans: [string, NodePlan][] = contexts.flatMap(([label, ctx]) => renderClusterPlans(ctx).map((p): [string, NodePlan] => [`${label}/${p.node.name}`, p]));
const files = (p: NodePlan) => p.actions.filter((a): a is Extract<Action, { kind: "file" }> => a.kind === "file").map((a) => a.file);

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), "django-ha-roles-"));
after(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

function run(cmd: string, args: string[], opts: { input?: string; cwd?: string } = {}): { status: number; out: string } {
  const r = spawnSync(cmd, args, { input: opts.input, cwd: opts.cwd, encoding: "utf8" });
  if (r.error) throw new Error(`${cmd} could not run (${r.error.message}): install it (test/host-packages.txt)`);
  return { status: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

describe("shellcheck: every script action, check and rendered script file", () => {
  const seen = new Set<string>();
  for (const [label, plan] of plans) {
    const scripts: [string, string][] = [
      ...plan.actions.flatMap((a): [string, string][] => (a.kind === "script" ? [[`script ${a.name}`, a.script]] : [])),
      ...plan.checks.map((c): [string, string] => [`check ${c.name}`, c.script]),
      ...files(plan).filter((f) => f.content.startsWith("#!/usr/bin/env bash")).map((f): [string, string] => [`file ${f.path}`, f.content]),
    ];
    for (const [what, text] of scripts) {
      if (seen.has(text)) continue;
      seen.add(text);
      it(`${label}: ${what}`, () => {
        const r = run("shellcheck", ["--shell=bash", "--severity=style", "-"], { input: text });
        assert.equal(r.status, 0, r.out);
      });
    }
  }
});

describe("nginx -t on the child's site", () => {
  it("accepts the rendered site with a real (test) certificate", () => {
    const dir = fs.mkdtempSync(path.join(tmpRoot, "nginx-"));
    const tls = path.join(dir, "tls");
    fs.mkdirSync(tls);
    for (const d of ["acme", "static", "media", "logs"]) fs.mkdirSync(path.join(dir, d));
    execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=www.lab.test", "-keyout", path.join(tls, "privkey.pem"), "-out", path.join(tls, "fullchain.pem")], { stdio: "ignore" });
    fs.copyFileSync("/etc/nginx/uwsgi_params", path.join(dir, "uwsgi_params"));
    fs.copyFileSync("/etc/nginx/mime.types", path.join(dir, "mime.types"));
    const site = renderNginxSite({ fqdn: "www.lab.test", tlsDir: tls, acmeWebroot: path.join(dir, "acme"), staticDir: path.join(dir, "static"), mediaDir: path.join(dir, "media"), uwsgiSocket: path.join(dir, "app.sock"), clientMaxBodySize: "512m" });
    // The production site is what the child plan carries: the same renderer with the production paths.
    const child = plans.find(([, p]) => p.role === "child")![1];
    assert.ok(files(child).some((f) => f.path === "/etc/nginx/sites-enabled/django-ha" && f.content === renderNginxSite({ fqdn: "www.lab.test", tlsDir: "/srv/share/tls/www.lab.test", acmeWebroot: "/srv/share/acme", staticDir: "/srv/share/static", mediaDir: "/srv/share/media", uwsgiSocket: "/run/django-ha-uwsgi/app.sock", clientMaxBodySize: "512m" })));
    fs.writeFileSync(path.join(dir, "site.conf"), site);
    fs.writeFileSync(path.join(dir, "nginx.conf"), `pid ${dir}/nginx.pid;\nerror_log ${dir}/logs/error.log;\nevents {}\nhttp {\n  include mime.types;\n  access_log off;\n  client_body_temp_path ${dir}/body;\n  proxy_temp_path ${dir}/proxy;\n  fastcgi_temp_path ${dir}/fastcgi;\n  uwsgi_temp_path ${dir}/uwsgi;\n  scgi_temp_path ${dir}/scgi;\n  include site.conf;\n}\n`);
    const r = run("nginx", ["-t", "-q", "-p", dir, "-c", path.join(dir, "nginx.conf")]);
    assert.equal(r.status, 0, r.out);
    // And it must fail when the site is broken (the check can fail).
    fs.writeFileSync(path.join(dir, "site.conf"), site.replace("uwsgi_pass django_ha_uwsgi;", "uwsgi_pass;"));
    assert.notEqual(run("nginx", ["-t", "-q", "-p", dir, "-c", path.join(dir, "nginx.conf")]).status, 0);
  });
});

describe("systemd-analyze verify on every rendered unit", () => {
  const units = new Map<string, string>();
  for (const [, plan] of plans) for (const f of files(plan)) if (/^\/etc\/systemd\/system\/[^/]+\.(service|mount|automount|timer)$/.test(f.path)) units.set(f.path, f.content);

  it("finds the units of every role", () => {
    assert.deepEqual([...units.keys()].map((p) => path.basename(p)).sort(), ["django-ha-celery.service", "django-ha-share-sync.service", "django-ha-sync-watchdog.service", "django-ha-sync-watchdog.timer", "django-ha-uwsgi.service", "srv-share.automount", "srv-share.mount"]);
  });

  it("verifies them in a root with the host's system units (executables missing on this host are placeholders)", () => {
    const root = fs.mkdtempSync(path.join(tmpRoot, "systemd-"));
    fs.mkdirSync(path.join(root, "usr/lib/systemd"), { recursive: true });
    fs.cpSync("/usr/lib/systemd/system", path.join(root, "usr/lib/systemd/system"), { recursive: true, verbatimSymlinks: true });
    fs.mkdirSync(path.join(root, "etc/systemd/system"), { recursive: true });
    for (const [p, content] of units) {
      fs.writeFileSync(path.join(root, p), content);
      for (const m of content.matchAll(/^Exec\w+=(\S+)/gm)) {
        const exe = path.join(root, m[1]);
        fs.mkdirSync(path.dirname(exe), { recursive: true });
        if (!fs.existsSync(exe)) fs.writeFileSync(exe, "#!/bin/sh\n", { mode: 0o755 });
      }
    }
    const names = [...units.keys()].map((p) => path.basename(p));
    const r = run("systemd-analyze", ["verify", `--root=${root}`, ...names]);
    const ours = r.out.split("\n").filter((l) => names.some((n) => l.includes(n)));
    assert.equal(r.status, 0, r.out);
    assert.deepEqual(ours, [], r.out);
    // A broken key is reported (the verification can fail).
    fs.writeFileSync(path.join(root, "etc/systemd/system/django-ha-uwsgi.service"), units.get("/etc/systemd/system/django-ha-uwsgi.service")!.replace("KillSignal=", "KilSignal="));
    assert.match(run("systemd-analyze", ["verify", `--root=${root}`, "django-ha-uwsgi.service"]).out, /Unknown key 'KilSignal'/);
  });

  it("verifies the drop-ins with the Debian units they extend (those installed on this host)", () => {
    const dropIns = new Map<string, string>();
    for (const [, plan] of plans) for (const f of files(plan)) if (/^\/etc\/systemd\/system\/[^/]+\.service\.d\/django-ha\.conf$/.test(f.path)) dropIns.set(f.path, f.content);
    assert.deepEqual([...dropIns.keys()].sort(), ["/etc/systemd/system/nfs-ganesha.service.d/django-ha.conf", "/etc/systemd/system/postgresql@.service.d/django-ha.conf", "/etc/systemd/system/redis-server.service.d/django-ha.conf"]);
    const root = fs.mkdtempSync(path.join(tmpRoot, "dropins-"));
    fs.mkdirSync(path.join(root, "usr/lib/systemd"), { recursive: true });
    fs.cpSync("/usr/lib/systemd/system", path.join(root, "usr/lib/systemd/system"), { recursive: true, verbatimSymlinks: true });
    for (const [p, content] of dropIns) {
      fs.mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
      fs.writeFileSync(path.join(root, p), content);
    }
    // The Debian units these extend come from postgresql-15 and redis-server (test/host-packages.txt).
    const units = ["postgresql@15-main.service", "redis-server.service"];
    const r = run("systemd-analyze", ["verify", `--root=${root}`, ...units]);
    const ours = r.out.split("\n").filter((l) => l.includes("django-ha.conf"));
    assert.deepEqual(ours, [], r.out);
    const show = run("systemd-analyze", ["cat-config", `--root=${root}`, "systemd/system/redis-server.service"]);
    assert.match(show.out, /After=network-online\.target/);
  });
});

describe("PostgreSQL 15 accepts the rendered configuration", () => {
  const pgBin = "/usr/lib/postgresql/15/bin";
  it("postgres -C reads the conf.d fragment and pg_hba_file_rules has no error", { timeout: 120_000 }, () => {
    const dir = fs.mkdtempSync(path.join(tmpRoot, "pg-"));
    fs.chmodSync(tmpRoot, 0o755);
    fs.chmodSync(dir, 0o755);
    const data = path.join(dir, "data");
    const sock = path.join(dir, "sock");
    fs.mkdirSync(sock);
    execFileSync("chown", ["postgres:postgres", sock, dir]);
    const asPg = (args: string[]) => run("runuser", ["-u", "postgres", "--", ...args], { cwd: dir });
    const init = asPg([`${pgBin}/initdb`, "-D", data, "-A", "peer", "--no-sync"]);
    assert.equal(init.status, 0, init.out);
    const parent = plans.find(([l, p]) => l.startsWith("strict") && p.role === "parent")![1];
    const conf = files(parent).find((f) => f.path.endsWith("conf.d/django-ha.conf"))!.content;
    const hba = files(parent).find((f) => f.path.endsWith("pg_hba.conf"))!.content;
    fs.mkdirSync(path.join(data, "conf.d"));
    // listen on the socket only: the test must not bind the lab addresses.
    fs.writeFileSync(path.join(data, "conf.d", "django-ha.conf"), conf);
    fs.appendFileSync(path.join(data, "postgresql.conf"), "\ninclude_dir = 'conf.d'\n");
    fs.writeFileSync(path.join(data, "pg_hba.conf"), hba);
    execFileSync("chown", ["-R", "postgres:postgres", data]);
    for (const [name, want] of [["synchronous_standby_names", "FIRST 1 (standby)"], ["wal_level", "replica"], ["wal_log_hints", "on"], ["max_slot_wal_keep_size", "8192"], ["password_encryption", "scram-sha-256"]]) {
      const r = asPg([`${pgBin}/postgres`, "-D", data, "-C", name]);
      assert.equal(r.status, 0, r.out);
      assert.equal(r.out.trim(), want, name);
    }
    const start = asPg([`${pgBin}/pg_ctl`, "-D", data, "-w", "-o", `-c listen_addresses='' -k ${sock}`, "-l", path.join(dir, "log"), "start"]);
    assert.equal(start.status, 0, start.out + fs.readFileSync(path.join(dir, "log"), "utf8"));
    try {
      const rules = asPg([`${pgBin}/psql`, "-h", sock, "-XAtq", "-d", "postgres", "-c", "select line_number, coalesce(error, 'ok') from pg_hba_file_rules"]);
      assert.equal(rules.status, 0, rules.out);
      const lines = rules.out.trim().split("\n");
      assert.ok(lines.length >= 6, rules.out);
      assert.ok(lines.every((l) => l.endsWith("|ok")), rules.out);
    } finally {
      asPg([`${pgBin}/pg_ctl`, "-D", data, "-m", "fast", "stop"]);
    }
    // A bad value is refused (the check can fail).
    fs.writeFileSync(path.join(data, "conf.d", "django-ha.conf"), renderPostgresConf({ listenAddresses: ["localhost"], port: 5432, synchronousStandbyNames: "", maxSlotWalKeepSize: "lots" }));
    assert.notEqual(asPg([`${pgBin}/postgres`, "-D", data, "-C", "max_slot_wal_keep_size"]).status, 0);
  });
});

describe("nftables: nft -c accepts every node's ruleset", () => {
  for (const [label, plan] of plans.filter(([l]) => l.startsWith("strict"))) {
    it(label, () => {
      const conf = files(plan).find((f) => f.path === "/etc/nftables.conf")!.content;
      const file = path.join(tmpRoot, `${plan.node.name}.nft`);
      fs.writeFileSync(file, conf.replace("delete table inet django_ha\n", ""));
      const r = run("nft", ["-c", "-f", file]);
      assert.equal(r.status, 0, r.out);
    });
  }
});

describe("sshd -t accepts the drop-in", () => {
  it("with Debian's sshd_config layout", () => {
    const plan = plans[0][1];
    const dropIn = files(plan).find((f) => f.path === "/etc/ssh/sshd_config.d/django-ha.conf")!.content;
    const dir = fs.mkdtempSync(path.join(tmpRoot, "sshd-"));
    fs.writeFileSync(path.join(dir, "django-ha.conf"), dropIn);
    const key = path.join(dir, "host_key");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", key]);
    fs.writeFileSync(path.join(dir, "sshd_config"), `Include ${dir}/*.conf\nHostKey ${key}\nUsePAM yes\n`);
    const r = run("/usr/sbin/sshd", ["-t", "-f", path.join(dir, "sshd_config")]);
    assert.equal(r.status, 0, r.out);
    const eff = run("/usr/sbin/sshd", ["-T", "-f", path.join(dir, "sshd_config"), "-C", "user=root,host=x,addr=10.0.0.1"]);
    assert.match(eff.out, /^permitrootlogin without-password$/m);
    assert.match(eff.out, /^passwordauthentication no$/m);
  });
});

describe("redis-server accepts the rendered redis.conf", () => {
  it("starts with it (socket only) and reports the settings", { timeout: 60_000 }, () => {
    const dir = fs.mkdtempSync(path.join(tmpRoot, "redis-"));
    const conf = renderRedisConf({ bind: ["127.0.0.1"], port: 6379, password: "fixturepass", replicaOf: { host: "127.0.0.1", port: 1 } })
      .replace(/^(pidfile|logfile|dir) .*$/gm, (_, k: string) => (k === "dir" ? `dir ${dir}` : k === "pidfile" ? `pidfile ${dir}/redis.pid` : `logfile ${dir}/redis.log`))
      .replace(/^port .*$/m, "port 0")
      .concat(`unixsocket ${dir}/redis.sock\n`);
    fs.writeFileSync(path.join(dir, "redis.conf"), conf);
    const r = run("redis-server", [path.join(dir, "redis.conf"), "--daemonize", "yes"]);
    assert.equal(r.status, 0, r.out);
    try {
      let info = "";
      for (let i = 0; i < 50 && !info.includes("appendonly"); i++) {
        info = run("redis-cli", ["-s", `${dir}/redis.sock`, "--no-auth-warning", "-a", "fixturepass", "config", "get", "appendonly"]).out;
        if (!info.includes("appendonly")) execFileSync("sleep", ["0.1"]);
      }
      assert.match(info, /appendonly\nyes/);
      assert.match(run("redis-cli", ["-s", `${dir}/redis.sock`, "ping"]).out, /NOAUTH/);
    } finally {
      run("redis-cli", ["-s", `${dir}/redis.sock`, "--no-auth-warning", "-a", "fixturepass", "shutdown", "nosave"]);
    }
  });
});
