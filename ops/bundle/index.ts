/**
 * An agent as ONE CommonJS file for the database machines (Debian 13's nodejs 20, no npm there): esbuild bundles
 * the entry point with every dependency. No minification (an operator can read what runs as root); paths in the
 * output are relative to the repository, so the text is the same from any checkout (the bootstrap's content hash
 * stays stable). Used by the ACME agent (ops/acme/bundle.ts) and the health agent (ops/health/bundle.ts).
 */
import { isBuiltin } from "node:module";
import * as path from "node:path";
import { build } from "esbuild";

const REPO = path.resolve(__dirname, "..", "..");

/** The bundle's text of `entry` (a path relative to the repository), which must start with `#!/usr/bin/env node`. */
export async function bundleForNodes(entry: string, label: string): Promise<string> {
  const result = await build({
    absWorkingDir: REPO,
    entryPoints: [entry],
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
  if (result.errors.length > 0) throw new Error(`bundling ${label} failed: ${result.errors.map((e) => e.text).join("; ")}`);
  const [out] = result.outputFiles;
  if (!out) throw new Error(`bundling ${label} produced no output`);
  // Nothing may be left to resolve on the node but node's own modules.
  const left = Object.values(result.metafile.outputs).flatMap((o) =>
    o.imports.filter((i) => i.external && !isBuiltin(i.path)).map((i) => i.path),
  );
  if (left.length > 0)
    throw new Error(`the ${label} bundle still needs ${[...new Set(left)].join(", ")} at run time: the nodes have no node_modules`);
  return out.text;
}
