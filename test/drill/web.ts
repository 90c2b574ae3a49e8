/**
 * A visitor's requests from the lab's outside namespace (curl, the chain verified against pebble's root:
 * test/lab-tls.ts), pinned to one member of the round-robin record.
 */
import { spawn } from "node:child_process";
import { OUTSIDE_NETNS } from "../../lab/config";
import { curlVerify } from "../lab-tls";

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run a command inside the outside namespace. */
export function outside(args: string[], timeoutMs = 30_000): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn("ip", ["netns", "exec", OUTSIDE_NETNS, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

/** HTTPS to `fqdn` at one member's address; status and body. Throws when curl itself fails (no HTTP answer). */
export async function web(fqdn: string, address: string, urlPath: string, extra: string[] = []): Promise<{ status: number; body: string }> {
  const r = await outside([
    "curl",
    "-s",
    ...curlVerify(),
    "--max-time",
    "20",
    "--resolve",
    `${fqdn}:443:${address}`,
    "-w",
    "\n%{http_code}",
    ...extra,
    `https://${fqdn}${urlPath}`,
  ]);
  if (r.code !== 0) throw new Error(`curl ${urlPath} via ${address} failed (${r.code}): ${r.stderr}`);
  const cut = r.stdout.lastIndexOf("\n");
  return { status: Number(r.stdout.slice(cut + 1)), body: r.stdout.slice(0, cut) };
}
