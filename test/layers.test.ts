/**
 * The import boundaries (docs/architecture.md) as eslint enforces them: every forbidden pair of the repository's
 * own config is fed a real import and must be reported; allowed directions must not be. `npm run lint` checks the
 * tree itself; this proves the rule would catch a new upward import, static, dynamic or require().
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { ESLint } from "eslint";

const ROOT = path.resolve(__dirname, "..");
const RULE = "import-x/no-restricted-paths";

/** The first production .ts file under a directory (depth first, sorted): something real to import. */
function firstSource(dir: string): string | undefined {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(dir, entry.name);
    if (entry.isFile() && entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts")) return full;
    if (entry.isDirectory()) {
      const found = firstSource(full);
      if (found) return found;
    }
  }
  return undefined;
}

/** A real production file of a directory (or the file itself), as an import specifier from `fromFile`. */
function specifierOf(dirOrFile: string, fromFile: string): string {
  const abs = path.join(ROOT, dirOrFile);
  const file = fs.statSync(abs).isDirectory() ? firstSource(abs) : abs;
  assert.ok(file, `${dirOrFile} has no production .ts file to import`);
  const rel = path.relative(path.dirname(path.join(ROOT, fromFile)), file).replace(/\.ts$/, "");
  return rel.startsWith(".") ? rel : `./${rel}`;
}

/** A file path inside a zone's target (a directory or a single file). */
const fileIn = (target: string) => (target.endsWith(".ts") ? target : `${target}/layer-probe.ts`);

describe("import boundaries (eslint)", () => {
  let eslint: ESLint;
  let zones: { target: string; from: string[] }[];
  const lint = async (filePath: string, code: string) => {
    const [result] = await eslint.lintText(code, { filePath: path.join(ROOT, filePath) });
    return result.messages.filter((m) => m.ruleId === RULE);
  };

  before(async () => {
    eslint = new ESLint({ cwd: ROOT });
    const config = await eslint.calculateConfigForFile(path.join(ROOT, "ops/layer-probe.ts"));
    zones = config.rules[RULE][1].zones.map((z: { target: string; from: string[] }) => ({ target: z.target, from: [z.from].flat() }));
  });

  it("the config names the layers the architecture fixes", () => {
    const forbidden = Object.fromEntries(zones.map((z) => [z.target, z.from]));
    for (const low of ["model", "roles"])
      for (const high of ["ops", "components", "lab", "scripts", "test", "bench"])
        assert.ok(forbidden[low].includes(high), `${low} ✗ ${high}`);
    for (const mid of ["ops", "components"])
      for (const high of ["lab", "scripts", "test", "bench"]) assert.ok(forbidden[mid].includes(high), `${mid} ✗ ${high}`);
    for (const high of ["scripts", "test", "bench", "components"]) assert.ok(forbidden.lab.includes(high), `lab ✗ ${high}`);
    assert.ok(forbidden.scripts.includes("test"));
  });

  it("reports every forbidden import, static and dynamic", async () => {
    for (const zone of zones) {
      const file = fileIn(zone.target);
      for (const from of zone.from) {
        const spec = specifierOf(from, file);
        const staticImport = await lint(file, `import * as m from "${spec}";\nexport const x = m;\n`);
        assert.equal(staticImport.filter((m) => m.ruleId === RULE).length, 1, `${file} importing ${spec}`);
        const dynamicImport = await lint(file, `export const load = () => import("${spec}");\n`);
        assert.equal(dynamicImport.filter((m) => m.ruleId === RULE).length, 1, `${file} import()ing ${spec}`);
        const required = await lint(file, `export const load = () => require("${spec}");\n`);
        assert.equal(required.filter((m) => m.ruleId === RULE).length, 1, `${file} require()ing ${spec}`);
      }
    }
  });

  it("lets the allowed directions through: lab and components use ops, scripts use lab, tests use test/", async () => {
    for (const [file, target] of [
      ["lab/layer-probe.ts", "ops/lock"],
      ["components/layer-probe.ts", "ops/lock"],
      ["scripts/layer-probe.ts", "lab/config.ts"],
      ["ops/layer-probe.ts", "roles/types.ts"],
      ["ops/bootstrap/layer-probe.test.ts", "test/ssh-server.ts"],
      ["bench/layer-probe.ts", "test/configs.ts"],
    ])
      assert.deepEqual(
        await lint(file, `import * as m from "${specifierOf(target, file)}";\nexport const x = m;\n`),
        [],
        `${file} → ${target}`,
      );
  });

  it("a require() is checked like an import: the providers' factory loads only its stack's own target", async () => {
    assert.deepEqual(await lint("components/providers/layer-probe.ts", 'export const load = () => require("./aws");\n'), []);
    const upward = await lint("components/providers/layer-probe.ts", 'export const load = () => require("../../lab/config");\n');
    assert.equal(upward.length, 1);
  });

  it("node:child_process is imported only by ops/process.ts, the one process runner", async () => {
    const RUNNER_RULES = ["@typescript-eslint/no-restricted-imports", "no-restricted-syntax"];
    const refusals = async (filePath: string, code: string) => {
      const [result] = await eslint.lintText(code, { filePath: path.join(ROOT, filePath) });
      return result.messages.filter((m) => m.ruleId !== null && RUNNER_RULES.includes(m.ruleId) && m.message.includes("ops/process.ts"));
    };
    const imports = [
      'import { spawn } from "node:child_process";\nexport const s = spawn;\n',
      'import * as cp from "child_process";\nexport const s = cp;\n',
      'export { execFile } from "node:child_process";\n',
      'import cp = require("node:child_process");\nexport const s = cp;\n',
      'export const load = () => import("node:child_process");\n',
      'export const cp = require("child_process");\n',
    ];
    for (const file of [
      "ops/acme/process-probe.ts",
      "lab/process-probe.ts",
      "scripts/process-probe.ts",
      "components/process-probe.ts",
      "roles/process-probe.ts",
      "index.ts",
    ])
      for (const code of imports) assert.equal((await refusals(file, code)).length, 1, `${file}: ${code}`);
    for (const file of ["ops/process.ts", "ops/process-probe.test.ts", "test/process-probe.ts", "bench/process-probe.ts"])
      for (const code of imports) assert.deepEqual(await refusals(file, code), [], `${file}: ${code}`);
    // The real runner, as it is in the tree, passes every rule.
    const [real] = await eslint.lintFiles([path.join(ROOT, "ops/process.ts")]);
    assert.deepEqual(real.messages, []);
    assert.match(fs.readFileSync(path.join(ROOT, "ops/process.ts"), "utf8"), /from "node:child_process"/);
  });
});
