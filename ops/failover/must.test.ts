import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { UserError } from "../../model/errors";
import type { RemoteExecutor, RunOptions, RunResult } from "../ssh/executor";
import { must } from "./must";

/** An executor that answers every command with `result` and remembers the options it was given. */
function answering(result: RunResult): RemoteExecutor & { options: (RunOptions | undefined)[] } {
  const options: (RunOptions | undefined)[] = [];
  return {
    node: "db-2",
    options,
    run: async (_argv, o) => {
      options.push(o);
      return result;
    },
    putFile: async () => {},
    close: async () => {},
  };
}

describe("must: a remote command that has to succeed", () => {
  it("returns stdout, with 90 s unless the caller names a limit", async () => {
    const ex = answering({ code: 0, stdout: "promoted=1\n", stderr: "", truncated: false });
    assert.equal(await must(ex, ["true"], "promoting"), "promoted=1\n");
    assert.equal(await must(ex, ["true"], "rejoin", 30 * 60_000), "promoted=1\n");
    assert.deepEqual(ex.options, [{ timeoutMs: 90_000 }, { timeoutMs: 30 * 60_000 }]);
  });

  it("a non-zero exit is a UserError with the node, the step, the exit code and the last 8 lines (stderr, else stdout)", async () => {
    const lines = Array.from({ length: 12 }, (_, i) => `line ${i + 1}`).join("\n");
    await assert.rejects(
      must(answering({ code: 3, stdout: "ignored", stderr: `${lines}\n`, truncated: false }), ["false"], "promoting"),
      (e: Error) => {
        assert.ok(e instanceof UserError);
        assert.equal(e.message, `db-2: promoting failed (exit 3): ${lines.split("\n").slice(-8).join("\n")}`);
        return true;
      },
    );
    await assert.rejects(
      must(answering({ code: 1, stdout: "only stdout\n", stderr: "", truncated: false }), ["false"], "x"),
      /^UserError: db-2: x failed \(exit 1\): only stdout$/,
    );
  });
});
