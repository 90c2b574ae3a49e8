import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { renderRedisConf } from "../../../roles/files/redis";
import { newPrimaryServices, promote, restoreSync } from "./promotion";
import { assertProgramsPassShellcheck } from "../../../test/shellcheck";

const programs = {
  promote: promote(),
  newPrimaryServices: newPrimaryServices({
    overrideFile: "/etc/postgresql/17/main/conf.d/zz.conf",
    slot: "standby",
    redisConf: "/etc/redis/redis.conf",
    redisPort: 6379,
  }),
  restoreSync: restoreSync("/etc/postgresql/17/main/conf.d/zz.conf"),
};

describe("failover commands: the promotion", () => {
  it("every fixed bash program passes shellcheck", () => assertProgramsPassShellcheck(programs));

  it("data travels as positional arguments, never inside the program text", () => {
    assert.deepEqual(programs.newPrimaryServices.slice(3), [
      "django-ha-failover",
      "/etc/postgresql/17/main/conf.d/zz.conf",
      "standby",
      "/etc/redis/redis.conf",
      "6379",
    ]);
    assert.deepEqual(programs.restoreSync.slice(3), ["django-ha-failover", "/etc/postgresql/17/main/conf.d/zz.conf"]);
    for (const argv of Object.values(programs)) assert.ok(!argv[2].includes("/etc/"), argv[2].slice(0, 80));
  });

  it("the Redis promotion removes exactly the replica lines the roles render, so the file equals a primary's", () => {
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
    fs.rmSync(dir, { recursive: true });
  });
});
