import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import type { Argv } from "../../../roles/shell";
import { applyRejoin, keyValues, observeNode, observePrimary, preparePrimary, restoreSynchronous, waitStreaming } from "./rejoin";

describe("rejoin: remote programs", () => {
  it("are fixed bash programs with their data as arguments, shellcheck-clean", () => {
    const programs: Argv[] = [
      observePrimary(),
      observeNode("10.0.0.1", "0/5000000"),
      applyRejoin("rewind", "10.0.0.1"),
      preparePrimary(),
      waitStreaming("10.0.0.1", 60),
      restoreSynchronous("/etc/x.conf"),
    ];
    for (const argv of programs) {
      assert.equal(argv[0], "bash");
      assert.equal(argv[1], "-c");
      assert.doesNotMatch(argv[2], /10\.0\.0\.1/, "no data inside the program text");
      const r = spawnSync("shellcheck", ["--shell=bash", "--severity=style", "-"], {
        input: `#!/usr/bin/env bash\n${argv[2]}\n`,
        encoding: "utf8",
      });
      assert.equal(r.status, 0, r.stdout + r.stderr);
    }
    assert.deepEqual(applyRejoin("follow", "10.0.0.1").slice(4, 6), ["follow", "/var/lib/postgresql/17/main"]);
    assert.equal(applyRejoin("follow", "10.0.0.1")[6], "host=10.0.0.1 port=5432 user=replicator application_name=standby");
  });
});

describe("rejoin: what the programs print", () => {
  it("reads key=value lines (lower-case keys; the value may hold '=')", () => {
    assert.deepEqual(keyValues("method=rewind\nnoise\nsync_names=FIRST 1 (standby)\nconninfo=a=b\nX=1\n"), {
      method: "rewind",
      sync_names: "FIRST 1 (standby)",
      conninfo: "a=b",
    });
  });
});
