import assert from "node:assert/strict";
import { ConfigError, parseClusterSpec } from "../model";

/** parseClusterSpec refuses `config` with a ConfigError naming `key`, its `value` as printed, and a fix matching `fix`, on one line of the message. */
export function assertRefused(config: Record<string, unknown>, c: { key: string; value: string; fix: RegExp }): void {
  assert.throws(
    () => parseClusterSpec(config),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${String(e)}`);
      const issue = e.issues.find((i) => i.key === c.key);
      assert.ok(issue, `no issue for ${c.key} in:\n${e.message}`);
      assert.equal(issue.value, c.value);
      assert.match(issue.fix, c.fix);
      assert.ok(e.message.includes(`${c.key} = ${c.value}: ${issue.fix}`), e.message);
      return true;
    },
  );
}
