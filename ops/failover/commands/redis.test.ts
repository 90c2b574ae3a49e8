import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { redisPause, redisReplicaOffset } from "./redis";
import { assertProgramsPassShellcheck } from "../../../test/shellcheck";

const programs = {
  redisPause: redisPause("/etc/redis/redis.conf", 6379, 60000),
  redisReplicaOffset: redisReplicaOffset("/etc/redis/redis.conf", 6379),
};

describe("failover commands: Redis in a planned switchover", () => {
  it("every fixed bash program passes shellcheck", () => assertProgramsPassShellcheck(programs));

  it("data travels as positional arguments, never inside the program text", () => {
    assert.deepEqual(programs.redisPause.slice(3), ["django-ha-failover", "/etc/redis/redis.conf", "6379", "60000"]);
    assert.deepEqual(programs.redisReplicaOffset.slice(3), ["django-ha-failover", "/etc/redis/redis.conf", "6379"]);
    for (const argv of Object.values(programs)) assert.ok(!/redis\.conf|6379/.test(argv[2]), argv[2].slice(0, 80));
  });
});
