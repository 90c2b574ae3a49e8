/**
 * The agent as ONE CommonJS file for the nodes (Debian 13's nodejs 20, no npm there): esbuild bundles
 * ops/acme/agent.ts with acme-client and every other dependency. No minification (an operator can read
 * what runs as root); paths in the output are relative to the repository, so the text is the same from
 * any checkout (the bootstrap's content hash stays stable).
 */
import { isBuiltin } from "node:module";
import * as path from "node:path";
import { build } from "esbuild";

const REPO = path.resolve(__dirname, "..", "..");

/** The bundle's text (starts with `#!/usr/bin/env node`). */
export async function bundleAgent(): Promise<string> {
  const result = await build({
    absWorkingDir: REPO,
    entryPoints: [path.join("ops", "acme", "agent.ts")],
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
  if (result.errors.length > 0) throw new Error(`bundling the ACME agent failed: ${result.errors.map((e) => e.text).join("; ")}`);
  const [out] = result.outputFiles;
  if (!out) throw new Error("bundling the ACME agent produced no output");
  // Nothing may be left to resolve on the node but node's own modules.
  const left = Object.values(result.metafile.outputs).flatMap((o) => o.imports.filter((i) => i.external && !isBuiltin(i.path)).map((i) => i.path));
  if (left.length > 0) throw new Error(`the agent bundle still needs ${[...new Set(left)].join(", ")} at run time: the nodes have no node_modules`);
  return out.text;
}
