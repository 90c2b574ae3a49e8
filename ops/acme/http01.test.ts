import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { checkEveryChild, getChallenge, prepareHttp01, removeHttp01, tokenPath } from "./http01";

/** A child's nginx in miniature: serves /.well-known/acme-challenge/ from the webroot for one Host, records the Host it saw. */
function child(webroot: string, host: string) {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    seen.push(req.headers.host ?? "");
    const token = (req.url ?? "").replace("/.well-known/acme-challenge/", "");
    const file = path.join(webroot, ".well-known", "acme-challenge", token);
    if (req.headers.host !== host || !fs.existsSync(file)) res.writeHead(404).end("not found");
    else res.writeHead(200).end(fs.readFileSync(file));
  });
  return { server, seen };
}

const listen = (s: http.Server) => new Promise<number>((r) => s.listen(0, "127.0.0.1", () => r((s.address() as AddressInfo).port)));

describe("http-01 through the round robin", () => {
  const webroot = fs.mkdtempSync(path.join(os.tmpdir(), "acme-webroot-"));
  const lagging = fs.mkdtempSync(path.join(os.tmpdir(), "acme-webroot-late-"));
  const a = child(webroot, "www.django-ha.dev");
  const b = child(lagging, "www.django-ha.dev");
  const ports = new Map<string, number>();
  const get = (address: string, host: string, token: string) => getChallenge("127.0.0.1", host, token, { port: ports.get(address) });
  before(async () => {
    ports.set("10.0.0.21", await listen(a.server));
    ports.set("10.0.0.22", await listen(b.server));
  });
  after(() => {
    a.server.close();
    b.server.close();
    fs.rmSync(webroot, { recursive: true });
    fs.rmSync(lagging, { recursive: true });
  });
  const children = [
    { name: "child-1", address: "10.0.0.21" },
    { name: "child-2", address: "10.0.0.22" },
  ];

  it("writes the token 0644 and checks EVERY child with the name as Host; one child that never serves it stops the order", async () => {
    const o = { webroot, children, selfCheck: { attempts: 3, intervalMs: 10, get } };
    await assert.rejects(
      prepareHttp01(o, "www.django-ha.dev", "tok_en-1", "tok_en-1.thumb"),
      /not served by every child after 3 tries, so the CA was not asked .*child-2 \(10\.0\.0\.22\): HTTP 404/,
    );
    const file = tokenPath(webroot, "tok_en-1");
    assert.equal(fs.readFileSync(file, "utf8"), "tok_en-1.thumb");
    assert.equal(fs.statSync(file).mode & 0o777, 0o644);
    assert.deepEqual([...new Set([...a.seen, ...b.seen])], ["www.django-ha.dev"]);
    removeHttp01(webroot, "tok_en-1");
    assert.ok(!fs.existsSync(file));
  });

  it("retries briefly: a child that sees the file late (NFS) passes once it serves it", async () => {
    let slept = 0;
    const sleep = async () => {
      if (++slept === 2) {
        fs.mkdirSync(path.join(lagging, ".well-known", "acme-challenge"), { recursive: true });
        fs.writeFileSync(path.join(lagging, ".well-known", "acme-challenge", "late"), "late.thumb");
      }
    };
    fs.mkdirSync(path.join(webroot, ".well-known", "acme-challenge"), { recursive: true });
    fs.writeFileSync(tokenPath(webroot, "late"), "late.thumb");
    await checkEveryChild(children, "www.django-ha.dev", "late", "late.thumb", { attempts: 5, intervalMs: 0, get, sleep });
    assert.equal(slept, 2);
  });

  it("a body other than the key authorization is not accepted", async () => {
    fs.writeFileSync(tokenPath(webroot, "wrong"), "something else");
    fs.mkdirSync(path.join(lagging, ".well-known", "acme-challenge"), { recursive: true });
    fs.writeFileSync(path.join(lagging, ".well-known", "acme-challenge", "wrong"), "wrong.thumb");
    await assert.rejects(
      checkEveryChild(children, "www.django-ha.dev", "wrong", "wrong.thumb", { attempts: 1, intervalMs: 0, get }),
      /child-1 \(10\.0\.0\.21\): HTTP 200 with another body/,
    );
  });

  it("refuses a token that is not base64url (it becomes a file name)", () => {
    assert.throws(() => tokenPath(webroot, "../../etc/passwd"), /not base64url/);
  });
});
