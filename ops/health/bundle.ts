/** The health agent as one file for the database machines (ops/bundle: esbuild, node20, readable, deterministic). */
import * as path from "node:path";
import { bundleForNodes } from "../bundle";

/** The bundle's text (starts with `#!/usr/bin/env node`). */
export function bundleHealthAgent(): Promise<string> {
  return bundleForNodes(path.join("ops", "health", "agent.ts"), "the health agent");
}
