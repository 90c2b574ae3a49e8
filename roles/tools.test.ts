/**
 * Real tools on the rendered files. shellcheck runs on this host (it checks bash, not the nodes' Debian);
 * everything the nodes themselves run comes from the lab's baked image (test/image-node.ts: a throw-away
 * node booted from it, so the tools are the nodes' Debian release and packages): nginx -t with Debian's
 * nginx.conf, systemd-analyze verify against the image's units, PostgreSQL (postgres -C and
 * pg_hba_file_rules on a throw-away cluster), nft -c, sshd -t/-T with Debian's sshd_config, redis-server.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { renderDnsNodeFirewall } from "../lab/render";
import { bootImageNode, IMAGE_NODE_TIMEOUT_MS, type ImageNode } from "../test/image-node";
import { NGINX_SITE } from "./child";
import { SSHD_DROP_IN } from "./common";
import { PATHS } from "./context";
import { POSTGRES_UNIT } from "./db";
import { fixtureContext, fixtureInventory, fixtureInventoryWithVolumes } from "./fixtures";
import { renderClusterPlans } from "./plan";
import { renderPostgresConf } from "./files/postgres";
import { renderRedisConf } from "./files/redis";
import { TLS_PATHS } from "./tls";
import type { Action, NodePlan, RoleContext } from "./types";
import { dataVolumes, renderVolumeMountUnit } from "./volumes";

const contexts: [string, RoleContext][] = [
  ["strict+nfs", fixtureContext()],
  ["degrade+lab-bind", fixtureContext({ shareMount: "lab-bind", inventory: fixtureInventory({ syncReplication: "degrade-to-async" }) })],
];
/** Parent and standby with data volumes, children and worker on the lab's share device. */
const volumePlans: [string, NodePlan][] = renderClusterPlans(
  fixtureContext({ shareMount: "lab-device", inventory: fixtureInventoryWithVolumes() }),
).map((p): [string, NodePlan] => [`volumes+lab-device/${p.node.name}`, p]);
const plans: [string, NodePlan][] = contexts.flatMap(([label, ctx]) =>
  renderClusterPlans(ctx).map((p): [string, NodePlan] => [`${label}/${p.node.name}`, p]),
);
const files = (p: NodePlan) => p.actions.filter((a): a is Extract<Action, { kind: "file" }> => a.kind === "file").map((a) => a.file);
const planOf = (labelPrefix: string, role: NodePlan["role"]) => plans.find(([l, p]) => l.startsWith(labelPrefix) && p.role === role)![1];

let node: ImageNode;
before(
  async () => {
    node = await bootImageNode();
  },
  { timeout: IMAGE_NODE_TIMEOUT_MS },
);
after(() => node?.stop());

describe("shellcheck: every script action, check and rendered script file", () => {
  const seen = new Set<string>();
  for (const [label, plan] of [...plans, ...volumePlans]) {
    const scripts: [string, string][] = [
      ...plan.actions.flatMap((a): [string, string][] => (a.kind === "script" ? [[`script ${a.name}`, a.script]] : [])),
      ...plan.checks.map((c): [string, string] => [`check ${c.name}`, c.script]),
      ...files(plan)
        .filter((f) => f.content.startsWith("#!/usr/bin/env bash"))
        .map((f): [string, string] => [`file ${f.path}`, f.content]),
    ];
    for (const [what, text] of scripts) {
      if (seen.has(text)) continue;
      seen.add(text);
      it(`${label}: ${what}`, () => {
        const r = spawnSync("shellcheck", ["--shell=bash", "--severity=style", "-"], { input: text, encoding: "utf8" });
        if (r.error) throw new Error(`shellcheck could not run (${r.error.message}): install it (test/host-packages.txt)`);
        assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
      });
    }
  }
});

describe("nginx -t (the image's nginx, Debian's nginx.conf) on the child's site", () => {
  it("accepts the site the child plan writes, with a real (test) certificate; refuses a broken one", () => {
    const child = planOf("strict", "child");
    const site = files(child).find((f) => f.path === NGINX_SITE)!.content;
    const tls = TLS_PATHS.dir;
    const mk = node.bash(`mkdir -p ${tls} ${PATHS.acme} ${PATHS.static} ${PATHS.media}
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=www.lab.test -keyout ${tls}/privkey.pem -out ${tls}/fullchain.pem 2>/dev/null
rm -f /etc/nginx/sites-enabled/default`);
    assert.equal(mk.status, 0, mk.out);
    node.write(NGINX_SITE, site);
    const r = node.run(["nginx", "-t", "-q"]);
    assert.equal(r.status, 0, r.out);
    // And it must fail when the site is broken (the check can fail).
    node.write(NGINX_SITE, site.replace("uwsgi_pass django_ha_uwsgi;", "uwsgi_pass;"));
    assert.notEqual(node.run(["nginx", "-t", "-q"]).status, 0);
    node.write(NGINX_SITE, site);
  });
});

describe("systemd-analyze verify (the image's systemd) on every rendered unit", () => {
  const units = new Map<string, string>();
  for (const [, plan] of plans)
    for (const f of files(plan))
      if (/^\/etc\/systemd\/system\/[^/]+\.(service|mount|automount|timer)$/.test(f.path)) units.set(f.path, f.content);

  it("finds the units of every role", () => {
    assert.deepEqual([...units.keys()].map((p) => path.basename(p)).sort(), [
      "django-ha-acme.service",
      "django-ha-acme.timer",
      "django-ha-app-watch.service",
      "django-ha-boot-guard.service",
      "django-ha-celery.service",
      "django-ha-health.service",
      "django-ha-share-sync.service",
      "django-ha-sync-watchdog.service",
      "django-ha-sync-watchdog.timer",
      "django-ha-tls-sync.service",
      "django-ha-tls-sync.timer",
      "django-ha-uwsgi.service",
      "srv-share.automount",
      "srv-share.mount",
    ]);
  });

  it("verifies them next to the image's own units (executables the plans install are placeholders)", () => {
    for (const [p, content] of units) {
      node.write(p, content);
      for (const m of content.matchAll(/^Exec\w+=[-@:+!]*(\S+)/gm)) if (!node.exists(m[1])) node.write(m[1], "#!/bin/sh\n", 0o755);
    }
    const names = [...units.keys()].map((p) => path.basename(p));
    const r = node.run(["systemd-analyze", "verify", ...names]);
    const ours = r.out.split("\n").filter((l) => names.some((n) => l.includes(n)));
    assert.equal(r.status, 0, r.out);
    assert.deepEqual(ours, [], r.out);
    // A broken key is reported (the verification can fail).
    node.write(
      "/etc/systemd/system/django-ha-uwsgi.service",
      units.get("/etc/systemd/system/django-ha-uwsgi.service")!.replace("KillSignal=", "KilSignal="),
    );
    assert.match(node.run(["systemd-analyze", "verify", "django-ha-uwsgi.service"]).out, /Unknown key 'KilSignal'/);
    node.write("/etc/systemd/system/django-ha-uwsgi.service", units.get("/etc/systemd/system/django-ha-uwsgi.service")!);
  });

  it("verifies the drop-ins with the Debian units they extend (from the image's packages)", () => {
    const dropIns = new Map<string, string>();
    for (const [, plan] of plans)
      for (const f of files(plan))
        if (/^\/etc\/systemd\/system\/[^/]+\.service\.d\/django-ha(-guard)?\.conf$/.test(f.path)) dropIns.set(f.path, f.content);
    assert.deepEqual([...dropIns.keys()].sort(), [
      "/etc/systemd/system/django-ha-share-sync.service.d/django-ha-guard.conf",
      "/etc/systemd/system/nfs-ganesha.service.d/django-ha-guard.conf",
      "/etc/systemd/system/nfs-ganesha.service.d/django-ha.conf",
      "/etc/systemd/system/postgresql@.service.d/django-ha-guard.conf",
      "/etc/systemd/system/postgresql@.service.d/django-ha.conf",
      "/etc/systemd/system/redis-server.service.d/django-ha-guard.conf",
      "/etc/systemd/system/redis-server.service.d/django-ha.conf",
    ]);
    for (const [p, content] of dropIns) node.write(p, content);
    const extended = [`${POSTGRES_UNIT}.service`, "redis-server.service", "nfs-ganesha.service"];
    const r = node.run(["systemd-analyze", "verify", ...extended]);
    const ours = r.out.split("\n").filter((l) => /django-ha(-guard)?\.conf/.test(l));
    assert.deepEqual(ours, [], r.out);
    assert.equal(node.run(["systemctl", "daemon-reload"]).status, 0);
    for (const unit of extended) {
      const shown = node.run(["systemctl", "show", "-p", "DropInPaths", unit]);
      assert.match(shown.out, /django-ha\.conf/, `${unit}: ${shown.out}`);
      assert.match(shown.out, /django-ha-guard\.conf/, `${unit}: ${shown.out}`);
    }
    assert.match(node.run(["systemctl", "show", "-p", "After", "redis-server.service"]).out, /network-online\.target/);
    // The boot guard: PostgreSQL requires its decision; the gated units ask it first.
    assert.match(node.run(["systemctl", "show", "-p", "Requires", `${POSTGRES_UNIT}.service`]).out, /django-ha-boot-guard\.service/);
    assert.match(
      node.run(["systemctl", "cat", "redis-server.service"]).out,
      /^ExecCondition=\+\/usr\/local\/sbin\/django-ha-boot-guard gate redis-server$/m,
    );
  });
});

describe("django-ha-tls-sync on the image's nginx and openssl: placeholder, install, idempotence, refusals", () => {
  const child = planOf("strict", "child");
  const fileAt = (p: string) => files(child).find((f) => f.path === p)!;
  const share = "/srv/share/tls/www.lab.test";
  const https = (extra: string) =>
    node.bash(
      `curl -sS -o /dev/null -w '%{http_code}' --max-time 10 --resolve www.lab.test:443:127.0.0.1 ${extra} https://www.lab.test/health/`,
    );
  /** nginx's reload is graceful and asynchronous: old workers finish (and may take a connection) for a moment. */
  const httpsSoon = (extra: string) =>
    node.bash(`for i in $(seq 1 50); do
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 --resolve www.lab.test:443:127.0.0.1 ${extra} https://www.lab.test/health/ || true)
  if [ "$code" = 502 ]; then echo "$code"; exit 0; fi
  sleep 0.1
done
echo "$code"`);
  const serial = () => node.bash(`openssl x509 -in ${TLS_PATHS.fullchain} -noout -serial`).out.trim();
  const TEST_CA_CRT = "/usr/local/share/ca-certificates/django-ha-tools-test-ca.crt";

  it(
    "serves the placeholder, verifiable by itself only; refuses a certificate the trust store does not verify; installs the share's certificate, then does nothing while it is unchanged",
    { timeout: 120_000 },
    () => {
      const placeholder = child.actions.find((a) => a.kind === "script" && a.name === "tls-placeholder");
      assert.ok(placeholder && placeholder.kind === "script");
      node.run(["rm", "-rf", TLS_PATHS.dir, share]);
      assert.equal(node.bash(placeholder.script).status, 0);
      assert.ok(node.exists(TLS_PATHS.selfSigned));
      for (const p of [NGINX_SITE, TLS_PATHS.env, TLS_PATHS.sync]) node.write(p, fileAt(p).content, parseInt(fileAt(p).mode, 8));
      assert.equal(
        node.bash(`mkdir -p ${PATHS.acme} ${PATHS.static} ${PATHS.media}; rm -f /etc/nginx/sites-enabled/default; systemctl restart nginx`)
          .status,
        0,
      );
      // Verified against the placeholder itself; refused against the system trust store (the check can fail).
      assert.equal(https(`--cacert ${TLS_PATHS.fullchain}`).out, "502");
      assert.notEqual(https("").status, 0);
      // Nothing on the share yet: nothing happens.
      assert.equal(node.run([TLS_PATHS.sync]).status, 0);
      assert.ok(node.exists(TLS_PATHS.selfSigned));
      // A CA, and a certificate from it on the share with its key encrypted as the agent writes it.
      const made = node.bash(`set -e; d=/var/tmp/tls-ca; rm -rf $d; mkdir -p $d ${share}; cd $d
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=test-ca -keyout ca.key -out ca.pem 2>/dev/null
mk() { openssl req -newkey rsa:2048 -nodes -subj /CN=www.lab.test -addext subjectAltName=DNS:www.lab.test -keyout $1.key -out $1.csr 2>/dev/null
  openssl x509 -req -in $1.csr -CA \${2:-ca}.pem -CAkey \${2:-ca}.key -CAcreateserial -days 2 -copy_extensions copy -out $1.pem 2>/dev/null
  openssl pkcs8 -topk8 -v2 aes-256-cbc -in $1.key -passout pass:fixtureTlsPassphrase -out $1.key.enc; }
mk one; mk two
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=stranger-ca -keyout stranger-ca.key -out stranger-ca.pem 2>/dev/null
mk stranger stranger-ca
cp stranger.pem ${share}/fullchain.pem; cp stranger.key.enc ${share}/privkey.pem.enc`);
      assert.equal(made.status, 0, made.out);
      // A CA this machine does not trust (a reset root, another directory): refused, the placeholder stays.
      const stranger = node.run([TLS_PATHS.sync]);
      assert.equal(stranger.status, 1, stranger.out);
      assert.match(
        stranger.out,
        /fullchain\.pem \(issuer: CN ?= ?stranger-ca\) does not lead to a root this machine trusts \(error 20 at 0 depth lookup: unable to get local issuer certificate\)/,
      );
      assert.ok(node.exists(TLS_PATHS.selfSigned));
      // The CA in the system trust store, its certificate on the share: installed.
      const trusted = node.bash(`cp /var/tmp/tls-ca/ca.pem ${TEST_CA_CRT} && update-ca-certificates >/dev/null
cp /var/tmp/tls-ca/one.pem ${share}/fullchain.pem; cp /var/tmp/tls-ca/one.key.enc ${share}/privkey.pem.enc`);
      assert.equal(trusted.status, 0, trusted.out);
      const first = node.run([TLS_PATHS.sync]);
      assert.equal(first.status, 0, first.out);
      assert.match(first.out, /installed \/srv\/share\/tls\/www.lab.test\/fullchain.pem \(serial /);
      assert.equal(node.exists(TLS_PATHS.selfSigned), false);
      assert.equal(httpsSoon("--cacert /var/tmp/tls-ca/ca.pem").out.trim(), "502", "nginx serves the new certificate, verified by its CA");
      assert.equal(node.bash(`stat -c '%a' ${TLS_PATHS.privkey}`).out.trim(), "600");
      const installed = serial();
      const again = node.run([TLS_PATHS.sync]);
      assert.equal(again.status, 0, again.out);
      assert.equal(again.out, "", "an unchanged share changes nothing");
      // A key that is not the certificate's, then a wrong passphrase: refused, the installed certificate stays.
      assert.equal(node.bash(`cp /var/tmp/tls-ca/two.key.enc ${share}/privkey.pem.enc`).status, 0);
      const mismatch = node.run([TLS_PATHS.sync]);
      assert.equal(mismatch.status, 1);
      assert.match(mismatch.out, /does not match its certificate/);
      assert.equal(node.bash(`cp /var/tmp/tls-ca/two.pem ${share}/fullchain.pem; sed -i s/=.*/=wrong/ ${TLS_PATHS.env}`).status, 0);
      assert.match(node.run([TLS_PATHS.sync]).out, /cannot decrypt/);
      assert.equal(serial(), installed);
      // The right passphrase again: the renewal is installed.
      node.write(TLS_PATHS.env, fileAt(TLS_PATHS.env).content, 0o600);
      assert.equal(node.run([TLS_PATHS.sync]).status, 0);
      assert.notEqual(serial(), installed);
      assert.equal(httpsSoon("--cacert /var/tmp/tls-ca/ca.pem").out.trim(), "502");
      // A renewal from the stranger CA: refused, the installed certificate stays.
      assert.equal(
        node.bash(`cp /var/tmp/tls-ca/stranger.pem ${share}/fullchain.pem; cp /var/tmp/tls-ca/stranger.key.enc ${share}/privkey.pem.enc`)
          .status,
        0,
      );
      const renewed = serial();
      assert.match(node.run([TLS_PATHS.sync]).out, /does not lead to a root this machine trusts/);
      assert.equal(serial(), renewed);
      node.run(["systemctl", "stop", "nginx"]);
      node.bash(`rm -f ${TEST_CA_CRT} && update-ca-certificates --fresh >/dev/null`);
    },
  );
});

describe("systemd-analyze verify (the image's systemd): data volumes and the services that require them", () => {
  const put = (p: string, content: string) => {
    node.write(p, content);
    for (const m of content.matchAll(/^Exec\w+=[-@:+!]*(\S+)/gm)) if (!node.exists(m[1])) node.write(m[1], "#!/bin/sh\n", 0o755);
  };

  it("parent: the volume mount units (as the script writes them), PostgreSQL, nfs-ganesha and lsyncd requiring them", () => {
    const parent = volumePlans.find(([, p]) => p.role === "parent")![1];
    const volumes = dataVolumes(parent.node);
    assert.deepEqual(
      volumes.map((v) => v.mountUnit),
      ["var-lib-postgresql.mount", "srv-share.mount"],
    );
    for (const v of volumes)
      put(`/etc/systemd/system/${v.mountUnit}`, renderVolumeMountUnit(v, "3c7bc6b7-9307-4f7a-852e-3071c5450aab", "ext4"));
    // (The boot guard's drop-ins are verified above; here the volume ordering.)
    const ours = files(parent).filter(
      (f) =>
        /^\/etc\/systemd\/system\/(postgresql@|nfs-ganesha|django-ha-share-sync)/.test(f.path) && !f.path.endsWith("/django-ha-guard.conf"),
    );
    assert.equal(ours.length, 3, ours.map((f) => f.path).join(", "));
    for (const f of ours) put(f.path, f.content);
    const names = [
      "var-lib-postgresql.mount",
      "srv-share.mount",
      `${POSTGRES_UNIT}.service`,
      "nfs-ganesha.service",
      "django-ha-share-sync.service",
    ];
    const r = node.run(["systemd-analyze", "verify", ...names]);
    const findings = r.out.split("\n").filter((l) => /django-ha|var-lib-postgresql|srv-share/.test(l));
    assert.deepEqual(findings, [], r.out);
    assert.equal(node.run(["systemctl", "daemon-reload"]).status, 0);
    for (const unit of [`${POSTGRES_UNIT}.service`, "nfs-ganesha.service", "django-ha-share-sync.service"]) {
      const mount = unit.startsWith("postgresql") ? "var-lib-postgresql.mount" : "srv-share.mount";
      const where = unit.startsWith("postgresql") ? "/var/lib/postgresql" : "/srv/share";
      const shown = node.run(["systemctl", "show", "-p", "Requires", "-p", "After", unit]).out;
      assert.match(shown, new RegExp(`^Requires=.*${mount.replace(".", "\\.")}`, "m"), `${unit}: ${shown}`);
      assert.match(shown, new RegExp(`^After=.*${mount.replace(".", "\\.")}`, "m"), `${unit}: ${shown}`);
      // systemctl show cannot print conditions ("[unprintable]"): the loaded unit's text as systemctl cat shows it.
      assert.match(node.run(["systemctl", "cat", unit]).out, new RegExp(`^AssertPathIsMountPoint=${where}$`, "m"), unit);
    }
    // RequiresMountsFor= alone would be satisfied by the root filesystem: our files do not rely on it.
    assert.doesNotMatch(ours.map((f) => f.content).join("\n"), /RequiresMountsFor/);
    // A broken mount unit is reported (the verification can fail).
    put(
      "/etc/systemd/system/srv-share.mount",
      renderVolumeMountUnit(volumes[1], "x", "ext4").replace("Where=/srv/share", "Where=/srv/elsewhere"),
    );
    assert.notEqual(node.run(["systemd-analyze", "verify", "srv-share.mount"]).status, 0);
    for (const p of [...volumes.map((v) => `/etc/systemd/system/${v.mountUnit}`), ...ours.map((f) => f.path)]) node.run(["rm", "-f", p]);
    node.run(["systemctl", "daemon-reload"]);
  });

  it("child (lab-device): the mount of the primary's share device", () => {
    const child = volumePlans.find(([, p]) => p.role === "child")![1];
    const unit = files(child).find((f) => f.path === "/etc/systemd/system/srv-share.mount")!;
    assert.match(unit.content, /^What=\/dev\/disk\/by-id\/scsi-0LAB_Volume_lab-db-1-share$/m);
    const before = node.exists(unit.path) ? node.read(unit.path) : undefined;
    put(unit.path, unit.content);
    const r = node.run(["systemd-analyze", "verify", "srv-share.mount"]);
    assert.equal(r.status, 0, r.out);
    assert.deepEqual(
      r.out.split("\n").filter((l) => l.includes("srv-share")),
      [],
      r.out,
    );
    if (before !== undefined) node.write(unit.path, before);
    else node.run(["rm", "-f", unit.path]);
  });
});

describe("PostgreSQL (the image's server) accepts the rendered configuration", () => {
  it("postgres -C reads the conf.d fragment and pg_hba_file_rules has no error", { timeout: 120_000 }, () => {
    const dir = "/var/tmp/django-ha-pg";
    const data = `${dir}/data`;
    const sock = `${dir}/sock`;
    assert.equal(node.bash(`mkdir -p ${sock} && chown -R postgres:postgres ${dir}`).status, 0);
    const asPg = (argv: string[]) => node.run(argv, { user: "postgres" });
    const init = asPg([`${PATHS.pgBin}/initdb`, "-D", data, "-A", "peer", "--no-sync"]);
    assert.equal(init.status, 0, init.out);
    const parent = planOf("strict", "parent");
    const conf = files(parent).find((f) => f.path === PATHS.pgConf)!.content;
    const hba = files(parent).find((f) => f.path === PATHS.pgHba)!.content;
    node.write(`${data}/conf.d/django-ha.conf`, conf);
    node.write(`${data}/pg_hba.conf`, hba);
    assert.equal(node.bash(`echo "include_dir = 'conf.d'" >> ${data}/postgresql.conf && chown -R postgres:postgres ${data}`).status, 0);
    for (const [name, want] of [
      ["synchronous_standby_names", "FIRST 1 (standby)"],
      ["wal_level", "replica"],
      ["wal_log_hints", "on"],
      ["max_slot_wal_keep_size", "8192"],
      ["password_encryption", "scram-sha-256"],
    ]) {
      const r = asPg([`${PATHS.pgBin}/postgres`, "-D", data, "-C", name]);
      assert.equal(r.status, 0, r.out);
      assert.equal(r.out.trim(), want, name);
    }
    // listen on the socket only: the test binds no address.
    const start = asPg([`${PATHS.pgBin}/pg_ctl`, "-D", data, "-w", "-o", `-c listen_addresses='' -k ${sock}`, "-l", `${dir}/log`, "start"]);
    assert.equal(start.status, 0, start.out + node.read(`${dir}/log`));
    try {
      const rules = asPg([
        `${PATHS.pgBin}/psql`,
        "-h",
        sock,
        "-XAtq",
        "-d",
        "postgres",
        "-c",
        "select line_number, coalesce(error, 'ok') from pg_hba_file_rules",
      ]);
      assert.equal(rules.status, 0, rules.out);
      const lines = rules.out.trim().split("\n");
      assert.ok(lines.length >= 6, rules.out);
      assert.ok(
        lines.every((l) => l.endsWith("|ok")),
        rules.out,
      );
    } finally {
      asPg([`${PATHS.pgBin}/pg_ctl`, "-D", data, "-m", "fast", "stop"]);
    }
    // A bad value is refused (the check can fail).
    node.write(
      `${data}/conf.d/django-ha.conf`,
      renderPostgresConf({ listenAddresses: ["localhost"], port: 5432, synchronousStandbyNames: "", maxSlotWalKeepSize: "lots" }),
    );
    assert.notEqual(asPg([`${PATHS.pgBin}/postgres`, "-D", data, "-C", "max_slot_wal_keep_size"]).status, 0);
  });
});

describe("nftables: the image's nft -c accepts every ruleset", () => {
  const rulesets: [string, string][] = [
    ...plans
      .filter(([l]) => l.startsWith("strict"))
      .map(([label, plan]): [string, string] => [label, files(plan).find((f) => f.path === "/etc/nftables.conf")!.content]),
    ["lab DNS node", renderDnsNodeFirewall()],
  ];
  for (const [label, conf] of rulesets) {
    it(label, () => {
      const r = node.run(["nft", "-c", "-f", "-"], { input: conf.replace("delete table inet django_ha\n", "") });
      assert.equal(r.status, 0, r.out);
    });
  }
  it("refuses a broken ruleset (the check can fail)", () => {
    assert.notEqual(node.run(["nft", "-c", "-f", "-"], { input: "table inet x { chain y { tcp dport 22 acept } }\n" }).status, 0);
  });
});

describe("sshd -t accepts the drop-in", () => {
  it("in the image's /etc/ssh/sshd_config.d, read by Debian's sshd_config", () => {
    const dropInFile = files(plans[0][1]).find((f) => f.path === SSHD_DROP_IN)!;
    node.write(dropInFile.path, dropInFile.content);
    const r = node.run(["/usr/sbin/sshd", "-t"]);
    assert.equal(r.status, 0, r.out);
    const eff = node.run(["/usr/sbin/sshd", "-T", "-C", "user=root,host=x,addr=10.0.0.1"]);
    assert.match(eff.out, /^permitrootlogin without-password$/m);
    assert.match(eff.out, /^passwordauthentication no$/m);
    node.write(dropInFile.path, `${dropInFile.content}NoSuchKeyword yes\n`);
    assert.notEqual(node.run(["/usr/sbin/sshd", "-t"]).status, 0, "sshd -t must refuse a bad drop-in");
    node.write(dropInFile.path, dropInFile.content);
  });
});

describe("redis-server (the image's) accepts the rendered redis.conf", () => {
  it("starts with it (socket only) and reports the settings", { timeout: 60_000 }, async () => {
    const dir = "/var/tmp/django-ha-redis";
    const conf = renderRedisConf({ bind: ["127.0.0.1"], port: 6379, password: "fixturepass", replicaOf: { host: "127.0.0.1", port: 1 } })
      .replace(/^(pidfile|logfile|dir) .*$/gm, (_, k: string) =>
        k === "dir" ? `dir ${dir}` : k === "pidfile" ? `pidfile ${dir}/redis.pid` : `logfile ${dir}/redis.log`,
      )
      .replace(/^port .*$/m, "port 0")
      .concat(`unixsocket ${dir}/redis.sock\n`);
    node.write(`${dir}/redis.conf`, conf);
    const cli = (...args: string[]) => node.run(["redis-cli", "-s", `${dir}/redis.sock`, ...args]);
    const r = node.run(["redis-server", `${dir}/redis.conf`, "--daemonize", "yes"]);
    assert.equal(r.status, 0, r.out);
    try {
      let info = "";
      for (let i = 0; i < 50 && !info.includes("appendonly"); i++) {
        info = cli("--no-auth-warning", "-a", "fixturepass", "config", "get", "appendonly").out;
        if (!info.includes("appendonly")) await new Promise((res) => setTimeout(res, 100));
      }
      assert.match(info, /appendonly\nyes/, node.exists(`${dir}/redis.log`) ? node.read(`${dir}/redis.log`) : "");
      assert.match(cli("ping").out, /NOAUTH/);
    } finally {
      cli("--no-auth-warning", "-a", "fixturepass", "shutdown", "nosave");
    }
  });
});
