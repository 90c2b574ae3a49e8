/**
 * The health agent as ONE CommonJS file for the database machines (Debian 13's nodejs 20, no npm there), built
 * the way the ACME agent's is (ops/acme/bundle.ts: esbuild, platform node, target node20, no minification,
 * paths relative to the repository so the text is the same from any checkout).
 */
import { isBuiltin } from "node:module";
import * as path from "node:path";
import { build } from "esbuild";

const REPO = path.resolve(__dirname, "..", "..");

/** The bundle's text (starts with `#!/usr/bin/env node`). */
export async function bundleHealthAgent(): Promise<string> {
  const result = await build({
    absWorkingDir: REPO,
    entryPoints: [path.join("ops", "health", "agent.ts")],
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    minify: false,
    sourcemap: false,
    write: false,
    logLevel: "silent",
    legalComments: "eof",
    charset: "utf8",
    metafile: true,
  });
  if (result.errors.length > 0) throw new Error(`bundling the health agent failed: ${result.errors.map((e) => e.text).join("; ")}`);
  const [out] = result.outputFiles;
  if (!out) throw new Error("bundling the health agent produced no output");
  const left = Object.values(result.metafile.outputs).flatMap((o) => o.imports.filter((i) => i.external && !isBuiltin(i.path)).map((i) => i.path));
  if (left.length > 0) throw new Error(`the health agent bundle still needs ${[...new Set(left)].join(", ")} at run time: the nodes have no node_modules`);
  return out.text;
}
