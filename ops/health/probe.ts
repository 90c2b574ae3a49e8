/**
 * One probe of a child's /health/ over the private network, as the agent sees it: HTTPS to the child's private
 * address with the record's name (SNI and Host), a hard timeout, judged on the status code. The certificate is
 * verified against the system store plus the certificate the cluster serves (the self-signed placeholder until
 * ACME), so a child answering with someone else's certificate fails too.
 */
import * as https from "node:https";
import type { ProbeResult } from "./decide";

export interface ProbeTarget {
  name: string;
  privateAddress: string;
}

export interface ProbeOptions {
  fqdn: string;
  timeoutMs: number;
  /**
   * Trusted certificates (PEM texts): on a node, the system store (/etc/ssl/certs/ca-certificates.crt) and the
   * share's fullchain.pem. Defaults to Node's built-in roots.
   */
  ca?: string[];
  /** The app's health path (200 = healthy). Defaults to /health/. */
  path?: string;
  /** Port. Defaults to 443. */
  port?: number;
}

/** GET https://<fqdn><path> at the child's private address; ok only for 200 within the timeout. */
export function probeChild(child: ProbeTarget, o: ProbeOptions): Promise<ProbeResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    let settled = false;
    const done = (ok: boolean, detail: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve({ name: child.name, ok, detail });
    };
    const req = https.request(
      {
        host: child.privateAddress,
        port: o.port ?? 443,
        path: o.path ?? "/health/",
        method: "GET",
        servername: o.fqdn,
        headers: { Host: o.fqdn, "User-Agent": "django-ha-health" },
        ca: o.ca,
        agent: false,
      },
      (res) => {
        res.resume();
        const ms = Date.now() - started;
        done(res.statusCode === 200, `HTTP ${res.statusCode} in ${ms} ms`);
      },
    );
    const timer = setTimeout(() => done(false, `no answer within ${o.timeoutMs} ms`), o.timeoutMs);
    req.on("error", (err: NodeJS.ErrnoException) => done(false, err.code ?? err.message));
    req.end();
  });
}
