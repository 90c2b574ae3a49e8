import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { changesOf, fixed, valueOf } from "./program";

describe("failover commands: how programs are built and read", () => {
  it("a fixed program is bash -c with a fixed $0 and its data as positional arguments", () => {
    assert.deepEqual(fixed('echo "$1"', "a b", ""), ["bash", "-c", 'echo "$1"', "django-ha-failover", "a b", ""]);
  });

  it("reads changed= and key= lines", () => {
    assert.deepEqual(changesOf("noise\nchanged=slot\nchanged=redis-role\n"), ["slot", "redis-role"]);
    assert.equal(valueOf("a=1\ncheckpoint_lsn=0/5000028\n", "checkpoint_lsn"), "0/5000028");
    assert.equal(valueOf("a=1\n", "b"), undefined);
  });
});
