import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { probeChild } from "./probe";

/** A self-signed certificate for `name` (openssl, as the placeholder is made). */
function selfSigned(name: string): { key: string; cert: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dha-health-"));
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "2",
      "-subj",
      `/CN=${name}`,
      "-addext",
      `subjectAltName=DNS:${name}`,
      "-keyout",
      `${dir}/k`,
      "-out",
      `${dir}/c`,
    ],
    { stdio: "ignore" },
  );
  return { key: fs.readFileSync(`${dir}/k`, "utf8"), cert: fs.readFileSync(`${dir}/c`, "utf8") };
}

const FQDN = "www.lab.test";
const good = selfSigned(FQDN);
let status = 200;
let hang = false;
let server: https.Server;
let port = 0;

before(async () => {
  server = https.createServer({ key: good.key, cert: good.cert }, (req, res) => {
    if (hang) return; // never answers: a hung app behind a waiting proxy
    res.writeHead(req.url === "/health/" && req.headers.host === FQDN ? status : 404).end("{}");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as AddressInfo).port;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

const probe = (o: { ca?: string[]; timeoutMs?: number; port?: number } = {}) =>
  probeChild(
    { name: "c1", privateAddress: "127.0.0.1" },
    { fqdn: FQDN, timeoutMs: o.timeoutMs ?? 2000, ca: o.ca ?? [good.cert], port: o.port ?? port },
  );

describe("probing a child's /health/", () => {
  it("200 with the record's name and a trusted certificate is ok", async () => {
    status = 200;
    const r = await probe();
    assert.equal(r.ok, true, r.detail);
    assert.match(r.detail, /^HTTP 200 in \d+ ms$/);
  });

  it("502 or 503 (nginx with uWSGI down) fails at once", async () => {
    for (const code of [502, 503]) {
      status = code;
      const t = Date.now();
      const r = await probe();
      assert.equal(r.ok, false);
      assert.match(r.detail, new RegExp(`^HTTP ${code} in`));
      assert.ok(Date.now() - t < 1500);
    }
  });

  it("no answer within the timeout fails after the timeout, not later", async () => {
    status = 200;
    hang = true;
    try {
      const t = Date.now();
      const r = await probe({ timeoutMs: 300 });
      assert.deepEqual(r, { name: "c1", ok: false, detail: "no answer within 300 ms" });
      assert.ok(Date.now() - t < 1500);
    } finally {
      hang = false;
    }
  });

  it("a refused connection and an untrusted certificate fail", async () => {
    const closed = await new Promise<number>((r) => {
      const s = net.createServer().listen(0, "127.0.0.1", () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => r(p));
      });
    });
    assert.deepEqual(await probe({ port: closed }), { name: "c1", ok: false, detail: "ECONNREFUSED" });
    const other = selfSigned(FQDN);
    const r = await probe({ ca: [other.cert] });
    assert.equal(r.ok, false);
    assert.match(r.detail, /SELF_SIGNED|UNABLE_TO_VERIFY|self.signed|DEPTH_ZERO/i);
  });
});
