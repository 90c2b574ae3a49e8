/**
 * The ACME agent as ONE CommonJS file for the nodes (Debian 13's nodejs 20, no npm there): ops/bundle bundles
 * ops/acme/agent.ts with acme-client and every other dependency, readable and the same from any checkout.
 */
import * as path from "node:path";
import { bundleForNodes } from "../bundle";

/** The bundle's text (starts with `#!/usr/bin/env node`). */
export function bundleAgent(): Promise<string> {
  return bundleForNodes(path.join("ops", "acme", "agent.ts"), "the ACME agent");
}
