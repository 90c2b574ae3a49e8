/** Fixed bash programs built as argv (`bash -c <program> …`) pass shellcheck: one assertion for every command module's tests. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";

export function assertProgramsPassShellcheck(programs: Record<string, readonly string[]>): void {
  for (const [name, argv] of Object.entries(programs)) {
    assert.deepEqual(argv.slice(0, 2), ["bash", "-c"], name);
    const r = spawnSync("shellcheck", ["-s", "bash", "-"], { input: argv[2], encoding: "utf8" });
    if (r.error) throw new Error(`shellcheck could not run (${r.error.message}): install it (test/host-packages.txt)`);
    assert.equal(r.status, 0, `shellcheck ${name}:\n${r.stdout}\n--- program:\n${argv[2]}`);
  }
}
