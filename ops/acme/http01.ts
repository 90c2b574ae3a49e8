/**
 * HTTP-01 through the round robin: the CA (from several vantage points) may reach any child, so the token
 * goes to the webroot on the share that every child's nginx serves, and the agent checks EVERY child
 * answers it (GET on the child's private address with the name as Host) before it tells the CA.
 */
import * as http from "node:http";
import * as fs from "node:fs";
import * as path from "node:path";
import { ensureDir, type Owner, writeFileAtomic } from "./files";

export interface Child {
  name: string;
  address: string;
}

/** The ACME token becomes a file name: only base64url, so a CA's answer can never point outside the webroot. */
export function tokenPath(webroot: string, token: string): string {
  if (!/^[A-Za-z0-9_-]{1,256}$/.test(token))
    throw new Error(`ACME token ${JSON.stringify(token.slice(0, 80))} is not base64url: refusing to use it as a file name`);
  return path.join(webroot, ".well-known", "acme-challenge", token);
}

/** GET one child's challenge URL (Host = the name being validated); the status and body. */
export function getChallenge(
  address: string,
  host: string,
  token: string,
  o: { port?: number; timeoutMs?: number } = {},
): Promise<{ status: number; body: string }> {
  const timeoutMs = o.timeoutMs ?? 3000;
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host: address, port: o.port ?? 80, path: `/.well-known/acme-challenge/${token}`, headers: { Host: host }, timeout: timeoutMs },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => {
          if (body.length < 4096) body += c;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", reject);
  });
}

export interface SelfCheckOptions {
  attempts: number;
  intervalMs: number;
  get?: typeof getChallenge;
  sleep?: (ms: number) => Promise<void>;
}

const sleepMs = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Every child serves the key authorization for `host`, retried briefly (NFS clients may see a new file a
 * moment late). Throws naming each child that did not, with what it answered.
 */
export async function checkEveryChild(
  children: Child[],
  host: string,
  token: string,
  keyAuthorization: string,
  o: SelfCheckOptions,
): Promise<void> {
  const get = o.get ?? getChallenge;
  const sleep = o.sleep ?? sleepMs;
  let pending = [...children];
  const last = new Map<string, string>();
  for (let attempt = 1; attempt <= o.attempts && pending.length > 0; attempt++) {
    if (attempt > 1) await sleep(o.intervalMs);
    const results = await Promise.all(
      pending.map(async (c) => {
        try {
          const r = await get(c.address, host, token);
          if (r.status === 200 && r.body.trim() === keyAuthorization) return undefined;
          last.set(c.name, `HTTP ${r.status}${r.status === 200 ? " with another body" : ""}`);
        } catch (e) {
          last.set(c.name, (e as Error).message);
        }
        return c;
      }),
    );
    pending = results.filter((c): c is Child => c !== undefined);
  }
  if (pending.length > 0) {
    const who = pending.map((c) => `${c.name} (${c.address}): ${last.get(c.name) ?? "no answer"}`).join("; ");
    throw new Error(
      `http-01 self-check for ${host}: not served by every child after ${o.attempts} tries, so the CA was not asked (it may reach any child): ${who}. Check that each child's nginx serves /.well-known/acme-challenge/ from the share and that the share is mounted`,
    );
  }
}

export interface Http01Options {
  webroot: string;
  children: Child[];
  owner?: Owner;
  selfCheck: SelfCheckOptions;
}

/** Write the token (0644, app user), then check every child serves it. */
export async function prepareHttp01(o: Http01Options, host: string, token: string, keyAuthorization: string): Promise<void> {
  const file = tokenPath(o.webroot, token);
  ensureDir(path.dirname(file), 0o755, o.owner);
  writeFileAtomic(file, keyAuthorization, { mode: 0o644, owner: o.owner });
  await checkEveryChild(o.children, host, token, keyAuthorization, o.selfCheck);
}

export function removeHttp01(webroot: string, token: string): void {
  fs.rmSync(tokenPath(webroot, token), { force: true });
}
