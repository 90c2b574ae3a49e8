/**
 * The size rules of issue 13 as eslint enforces them (eslint.config.mjs): a production function over 80 lines,
 * with more than 5 parameters or with a non-null assertion is reported; the same code in a test file is not. `npm run lint` checks the tree.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { ESLint } from "eslint";

const ROOT = path.resolve(__dirname, "..");
const body = (lines: number) => Array.from({ length: lines }, (_, i) => `  total += ${i};`).join("\n");
const longFunction = (lines: number) => `export function f(): number {\n  let total = 0;\n${body(lines)}\n  return total;\n}\n`;
const params = (n: number) =>
  `export function g(${Array.from({ length: n }, (_, i) => `a${i}: number`).join(", ")}): number {\n  return a0;\n}\n`;

describe("size rules (eslint)", () => {
  let eslint: ESLint;
  const rulesHit = async (filePath: string, code: string) => {
    const [result] = await eslint.lintText(code, { filePath: path.join(ROOT, filePath) });
    return result.messages.map((m) => m.ruleId);
  };
  before(() => {
    eslint = new ESLint({ cwd: ROOT });
  });

  it("a production function of 81 counted lines is refused; 80 pass", async () => {
    assert.ok((await rulesHit("ops/size-probe.ts", longFunction(77))).includes("max-lines-per-function"));
    assert.ok(!(await rulesHit("ops/size-probe.ts", longFunction(76))).includes("max-lines-per-function"));
  });

  it("blank lines and comments do not count", async () => {
    const padded = longFunction(70).replace("  let total = 0;\n", `  let total = 0;\n${"\n  // why\n".repeat(20)}`);
    assert.ok(!(await rulesHit("roles/size-probe.ts", padded)).includes("max-lines-per-function"));
  });

  it("six parameters are refused, five pass", async () => {
    assert.ok((await rulesHit("model/size-probe.ts", params(6))).includes("max-params"));
    assert.ok(!(await rulesHit("model/size-probe.ts", params(5))).includes("max-params"));
  });

  it("a non-null assertion in production code is refused", async () => {
    const code = "export const first = (xs: number[]): number => xs.find((x) => x > 0)!;\n";
    assert.ok((await rulesHit("ops/size-probe.ts", code)).includes("@typescript-eslint/no-non-null-assertion"));
    assert.ok(!(await rulesHit("ops/size-probe.test.ts", code)).includes("@typescript-eslint/no-non-null-assertion"));
  });

  it("tests and benches are exempt", async () => {
    for (const file of ["ops/size-probe.test.ts", "test/size-probe.ts", "bench/size-probe.ts"]) {
      const hit = [...(await rulesHit(file, longFunction(100))), ...(await rulesHit(file, params(7)))];
      assert.ok(!hit.includes("max-lines-per-function") && !hit.includes("max-params"), file);
    }
  });
});
