import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import * as cmd from "./commands";
import { assertProgramsPassShellcheck } from "../../test/shellcheck";

const programs = {
  pgStatus: cmd.pgStatus(),
  peerPostgres: cmd.peerPostgres("10.0.0.5", 5432),
  promote: cmd.promote(),
  newPrimaryServices: cmd.newPrimaryServices({
    overrideFile: "/etc/postgresql/17/main/conf.d/zz.conf",
    slot: "standby",
    redisConf: "/etc/redis/redis.conf",
    redisPort: 6379,
  }),
  reconnectChild: cmd.reconnectChild("/srv/share", "django-ha-uwsgi.service", "/etc/django-ha/app.env", ["10.0.0.6", "10.0.0.5"]),
  reconnectWorker: cmd.reconnectWorker("/srv/share", "django-ha-celery.service", "/etc/django-ha/app.env", ["10.0.0.6", "10.0.0.5"]),
  stopOldPrimary: cmd.stopOldPrimary({
    unit: "postgresql@17-main",
    pgBin: "/usr/lib/postgresql/17/bin",
    pgData: "/var/lib/postgresql/17/main",
  }),
  redisPause: cmd.redisPause("/etc/redis/redis.conf", 6379, 60000),
  redisReplicaOffset: cmd.redisReplicaOffset("/etc/redis/redis.conf", 6379),
  shareHandover: cmd.shareHandover({
    share: "/srv/share",
    target: "root@10.0.0.6",
    sshPort: 22,
    key: "/root/.ssh/k",
    syncUnit: "django-ha-share-sync.service",
  }),
  asStandby: cmd.asStandby({ pgData: "/var/lib/postgresql/17/main", conninfo: "host=10.0.0.6 port=5432", slot: "standby" }),
  restoreSync: cmd.restoreSync("/etc/postgresql/17/main/conf.d/zz.conf"),
};

describe("failover commands", () => {
  it("every fixed bash program passes shellcheck", () => assertProgramsPassShellcheck(programs));

  it("data travels as positional arguments, never inside the program text", () => {
    assert.deepEqual(programs.peerPostgres.slice(3), ["django-ha-failover", "10.0.0.5", "5432", "2"]);
    assert.deepEqual(programs.newPrimaryServices.slice(3), [
      "django-ha-failover",
      "/etc/postgresql/17/main/conf.d/zz.conf",
      "standby",
      "/etc/redis/redis.conf",
      "6379",
    ]);
    assert.deepEqual(programs.asStandby.slice(4), ["/var/lib/postgresql/17/main", "host=10.0.0.6 port=5432", "standby"]);
    for (const argv of Object.values(programs)) assert.ok(!argv[2].includes("10.0.0."), argv[2].slice(0, 80));
  });

  it("the peer probe speaks to a real port: no answer from a closed one (this machine's python3)", () => {
    const r = spawnSync("bash", ["-c", programs.peerPostgres[2], "x", "127.0.0.1", "1", "1"], { encoding: "utf8" });
    const p = cmd.parsePeerPostgres(r.stdout);
    assert.equal(p.answers, false);
    assert.match(p.detail, /^no answer \(ConnectionRefusedError/);
  });

  it("parses the PostgreSQL status of a standby, a primary and a dead server", () => {
    const standby = cmd.parsePgStatus(
      "pg=up\nrecovery=true\nreceive_lsn=0/30A8448\nreplay_lsn=0/30A8400\ncurrent_lsn=\nreceiver=streaming\nreceipt_age=1\nsync_names=\nread_only=off\ntimeline=1\n",
    );
    assert.deepEqual(standby, {
      up: true,
      replicas: [],
      recovery: true,
      receiveLsn: "0/30A8448",
      replayLsn: "0/30A8400",
      currentLsn: undefined,
      receiver: "streaming",
      receiptAgeSeconds: 1,
      syncNames: "",
      readOnly: false,
      timeline: 1,
    });
    const primary = cmd.parsePgStatus(
      "pg=up\nrecovery=false\ncurrent_lsn=1/0\nreceipt_age=\nsync_names=FIRST 1 (standby)\nreplica=standby,streaming,sync,0/FF\n",
    );
    assert.equal(primary.recovery, false);
    assert.equal(primary.receiptAgeSeconds, undefined);
    assert.deepEqual(primary.replicas, [{ name: "standby", state: "streaming", syncState: "sync", replayLsn: "0/FF" }]);
    assert.deepEqual(cmd.parsePgStatus("pg=down\npg_error=psql: error: connection refused \n"), {
      up: false,
      replicas: [],
      error: "psql: error: connection refused",
    });
  });

  it("compares LSNs as 64-bit positions", () => {
    assert.equal(cmd.lsnBytes("0/0"), 0n);
    assert.equal(cmd.lsnBytes("1/0"), 1n << 32n);
    assert.ok(cmd.lsnBytes("16/B374D848") > cmd.lsnBytes("16/B374D847"));
    assert.ok(cmd.lsnBytes("10/0") > cmd.lsnBytes("F/FFFFFFFF"));
    assert.throws(() => cmd.lsnBytes("nope"), /not a PostgreSQL LSN/);
  });

  it("reads changed= and key= lines", () => {
    assert.deepEqual(cmd.changesOf("noise\nchanged=slot\nchanged=redis-role\n"), ["slot", "redis-role"]);
    assert.equal(cmd.valueOf("a=1\ncheckpoint_lsn=0/5000028\n", "checkpoint_lsn"), "0/5000028");
    assert.equal(cmd.valueOf("a=1\n", "b"), undefined);
  });

  it("the Redis promotion removes exactly the replica lines the roles render, so the file equals a primary's", async () => {
    const { renderRedisConf } = await import("../../roles/files/redis");
    const fs = await import("node:fs");
    const os = await import("node:os");
    const path = await import("node:path");
    const cfg = { bind: ["127.0.0.1", "10.0.0.6"], port: 6379, password: "pw" };
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "redis-"));
    const conf = path.join(dir, "redis.conf");
    fs.writeFileSync(conf, renderRedisConf({ ...cfg, replicaOf: { host: "10.0.0.5", port: 6379 } }));
    // Only the redis.conf part of the program: the rest needs PostgreSQL and systemd.
    const part = programs.newPrimaryServices[2].split("\n").filter((l, i, all) => {
      const start = all.findIndex((x) => x.startsWith("if grep -Eq '^(replicaof"));
      return i >= start && i < start + 7;
    });
    const r = spawnSync("bash", ["-c", `set -euo pipefail\nredis_conf=$1\n${part.join("\n")}`, "x", conf], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /changed=redis-conf/);
    assert.equal(fs.readFileSync(conf, "utf8"), renderRedisConf(cfg));
  });
  it("the app's DB_HOSTS and DATABASE_URL become the lines the roles render for the new primary (new first), mode and owner kept, once", async () => {
    const { renderAppEnv } = await import("../../roles/files/appenv");
    const fs = await import("node:fs");
    const os = await import("node:os");
    const path = await import("node:path");
    const env = {
      settingsModule: "shop.settings",
      secretKey: "k",
      allowedHosts: ["www.example.com"],
      dbPort: 5432,
      dbName: "app",
      dbUser: "app",
      dbPassword: "pw",
      brokerUrl: "redis://:pw@primary.x.internal:6379/0",
      shareRoot: "/srv/share",
      mediaRoot: "/srv/share/media",
      staticRoot: "/srv/share/static",
      nodeName: "x-child-1",
      extra: { SHOP_URL: "https://shop.example/a@b/" },
    };
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "appenv-"));
    const file = path.join(dir, "app.env");
    fs.writeFileSync(file, renderAppEnv({ ...env, dbHosts: ["10.0.0.5", "10.0.0.6"] }), { mode: 0o640 });
    // Only the app.env part of the program: the rest needs systemd.
    const part = programs.reconnectChild[2].split("\n").filter((l) => !/findmnt|systemctl/.test(l));
    const run = () =>
      spawnSync("bash", ["-c", part.join("\n"), "x", "/nonexistent", "unit", file, "10.0.0.6,10.0.0.5"], { encoding: "utf8" });
    const first = run();
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stdout, /changed=db-hosts/);
    assert.equal(fs.readFileSync(file, "utf8"), renderAppEnv({ ...env, dbHosts: ["10.0.0.6", "10.0.0.5"] }));
    assert.equal(fs.statSync(file).mode & 0o777, 0o640);
    const second = run();
    assert.equal(second.status, 0, second.stderr);
    assert.doesNotMatch(second.stdout, /changed=/);
    assert.deepEqual(fs.readdirSync(dir), ["app.env"]);
    assert.throws(() => cmd.reconnectChild("/srv/share", "u", file, ["10.0.0.6", "x|rm -rf /"]), /not an IP address/);
  });
  it("IPv6 database addresses: DATABASE_URL gets them in brackets, as the roles render them", async () => {
    const { renderAppEnv } = await import("../../roles/files/appenv");
    const fs = await import("node:fs");
    const os = await import("node:os");
    const path = await import("node:path");
    const env = {
      settingsModule: "s",
      secretKey: "k",
      allowedHosts: ["x"],
      dbPort: 6432,
      dbName: "app",
      dbUser: "app",
      dbPassword: "p@ss/word",
      brokerUrl: "redis://:pw@p:6379/0",
      shareRoot: "/srv/share",
      mediaRoot: "/srv/share/media",
      staticRoot: "/srv/share/static",
      nodeName: "n",
    };
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "appenv6-"));
    const file = path.join(dir, "app.env");
    fs.writeFileSync(file, renderAppEnv({ ...env, dbHosts: ["2001:db8::5", "2001:db8::6"] }), { mode: 0o640 });
    const part = cmd
      .reconnectWorker("/srv/share", "u", file, ["2001:db8::6", "2001:db8::5"])[2]
      .split("\n")
      .filter((l) => !/findmnt|systemctl/.test(l));
    const r = spawnSync("bash", ["-c", part.join("\n"), "x", "/nonexistent", "unit", file, "2001:db8::6,2001:db8::5"], {
      encoding: "utf8",
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(fs.readFileSync(file, "utf8"), renderAppEnv({ ...env, dbHosts: ["2001:db8::6", "2001:db8::5"] }));
    fs.rmSync(dir, { recursive: true });
  });
});
