/**
 * The renewal agent against the lab's pebble (real ACME, ARI, the lab DNS), as root. No bootstrap: the
 * bundle runs with node on lab-db-1 from a hand-written acme.json; a static server on lab-db-1 serves the
 * webroot for HTTP-01 (the round robin over the children is test/acme.lab.test.ts's, after the bootstrap);
 * DNS-01 goes through the lab DNS with the narrow lab-acme key. PostgreSQL is not installed here, so a
 * `psql` that answers "not in recovery" stands in for the primary check (proven against PostgreSQL by the
 * unit tests' command and by the bootstrap's certificate phase). Traffic stays on 10.231.0.0/24.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { labAcme, labDns, labDown, labPaths, labSsh, labUp } from "../../lab";
import { readState as readLabState } from "../../lab/state";
import { bundleAgent } from "./bundle";
import { certInfo } from "./cert";

const NODE = "lab-db-1";
const ADDRESS = "10.231.0.11";
/** A name only this test uses: its A record points at lab-db-1, where the webroot is served. */
const HTTP_NAME = "acme-agent.lab.test";
/** The record name: the lab-acme key may write TXT at _acme-challenge.<it>. */
const DNS_NAME = "www.lab.test";
const PASSPHRASE = "lab test passphrase";
const quiet = () => undefined;
const paths = labPaths();

let root = "";
let node = "/usr/bin/node";

/** A file into the node's root, from the host (the node's overlay is mounted there). */
function put(file: string, text: string, mode: number): void {
  const target = path.join(root, file);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(target, text, { mode });
  fs.chmodSync(target, mode);
}

const read = (file: string) => fs.readFileSync(path.join(root, file), "utf8");

async function sh(script: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return labSsh(NODE, ["bash", "-c", script], { timeoutMs: 240_000 });
}

/** django-ha-acme on the node as its service runs it (system trust store, which holds pebble's root). */
async function agent(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const quoted = args.map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
  return sh(`NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt ${node} /usr/local/lib/django-ha/acme-agent.js ${quoted}`);
}

/** The chain verifies against pebble's root (as a browser trusting it would), checked on the host with openssl. */
function verifyChain(chainPem: string, name: string): void {
  const file = path.join(paths.root, "acme-agent-test-chain.pem");
  fs.writeFileSync(file, chainPem);
  const out = execFileSync("openssl", ["verify", "-CAfile", paths.pebbleRoots, "-untrusted", file, "-verify_hostname", name, file], {
    encoding: "utf8",
  });
  assert.match(out, /: OK/);
  fs.rmSync(file);
}

function config(over: Record<string, unknown> = {}) {
  const acme = labAcme();
  assert.ok(acme, "the lab has an ACME CA");
  return {
    directoryUrl: acme.directoryUrl,
    email: "ops@lab.test",
    certName: HTTP_NAME,
    names: [HTTP_NAME],
    challenge: "http-01",
    webroot: "/srv/share/acme",
    store: "/srv/share/tls",
    children: [{ name: NODE, address: ADDRESS }],
    dns: { provider: "rfc2136", server: "10.231.0.2", port: 53, zone: "lab.test", keyName: "lab-acme", algorithm: "hmac-sha256" },
    checkEverySeconds: 5,
    backoff: { baseSeconds: 5, capSeconds: 60 },
    appUser: "950:950",
    ...over,
  };
}

describe("the ACME agent against pebble", { timeout: 900_000 }, () => {
  before(async () => {
    await labDown({ log: quiet });
    await labUp({ log: quiet });
    const state = readLabState(paths);
    const n = state?.nodes[NODE];
    assert.ok(n, `${NODE} is up`);
    root = n.root;
    if (!fs.existsSync(path.join(root, "usr/bin/node"))) {
      // The image bakes nodejs only when the db roles list it; until then the host's node (same major, 20) stands in.
      node = "/usr/local/lib/django-ha/node";
      fs.mkdirSync(path.join(root, "usr/local/lib/django-ha"), { recursive: true });
      fs.copyFileSync(process.execPath, path.join(root, node));
      fs.chmodSync(path.join(root, node), 0o755);
    }
    put("/usr/local/lib/django-ha/acme-agent.js", await bundleAgent(), 0o644);
    put("/etc/django-ha/acme.json", JSON.stringify(config()), 0o600);
    const tsig = /secret\s+"([^"]+)"/.exec(fs.readFileSync(paths.acmeTsigKey, "utf8"))?.[1];
    assert.ok(tsig, "the lab-acme TSIG secret");
    put("/etc/django-ha/acme.env", `DJANGO_HA_TLS_PASSPHRASE=${PASSPHRASE}\nDJANGO_HA_DNS_TSIG_SECRET=${tsig}\n`, 0o600);
    put("/usr/local/bin/psql", "#!/bin/sh\n# test stand-in: the primary (not in recovery)\necho f\n", 0o755);
    const setup = await sh(
      "id postgres >/dev/null 2>&1 || useradd --system postgres; mkdir -p /srv/share/acme /srv/share/tls && " +
        `systemd-run --unit acme-agent-webroot python3 -m http.server 80 --bind ${ADDRESS} --directory /srv/share/acme`,
    );
    assert.equal(setup.code, 0, setup.stderr);
    await labDns().setMembers(HTTP_NAME, [{ name: NODE, address: ADDRESS }], 30);
  });

  after(async () => {
    await labDown({ log: quiet });
  });

  let first = "";

  it("run: orders the first certificate by HTTP-01, stores it on the share (encrypted key), cleans the webroot", async () => {
    const r = await agent("run");
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /ordering: acme-agent\.lab\.test by http-01: no certificate yet/);
    assert.match(r.stdout, /issued: serial/);
    const chain = read(`/srv/share/tls/${HTTP_NAME}/fullchain.pem`);
    verifyChain(chain, HTTP_NAME);
    first = certInfo(chain).serial;
    assert.match(read(`/srv/share/tls/${HTTP_NAME}/privkey.pem.enc`), /^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
    const st = fs.statSync(path.join(root, `srv/share/tls/${HTTP_NAME}/privkey.pem.enc`));
    assert.deepEqual([st.mode & 0o777, st.uid, st.gid], [0o640, 950, 950]);
    assert.deepEqual(fs.readdirSync(path.join(root, "srv/share/acme/.well-known/acme-challenge")), [], "tokens removed");
    const key = await sh(
      `P='${PASSPHRASE}' openssl pkey -in /srv/share/tls/${HTTP_NAME}/privkey.pem.enc -passin env:P -noout && echo opened`,
    );
    assert.match(key.stdout, /opened/);
  });

  it("run again: asks pebble's renewalInfo and waits inside its window", async () => {
    const r = await agent("run");
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /ari: window .* for serial/);
    assert.match(r.stdout, /waiting: until .*ARI window/);
    const status = JSON.parse((await agent("status", "--json")).stdout) as {
      ari?: { window?: { start: string } };
      certificate: { serial: string };
    };
    assert.equal(status.certificate.serial, first);
    assert.ok(status.ari?.window?.start, "ARI window in the status");
  });

  it("renew --force: a new order that replaces the served certificate (ARI certID), accepted by pebble", async () => {
    const certId = certInfo(read(`/srv/share/tls/${HTTP_NAME}/fullchain.pem`)).certId;
    const r = await agent("renew", "--force");
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`replaces ${certId?.replace(/[.-]/g, "\\$&")}`));
    assert.doesNotMatch(r.stdout, /refused replaces/);
    assert.notEqual(certInfo(read(`/srv/share/tls/${HTTP_NAME}/fullchain.pem`)).serial, first);
  });

  it("issue --challenge dns-01: TXT through the lab DNS (lab-acme key), certificate into --out, TXT removed, served one untouched", async (t) => {
    const served = read(`/srv/share/tls/${HTTP_NAME}/fullchain.pem`);
    const r = await agent("issue", "--challenge", "dns-01", "--name", DNS_NAME, "--out", "/root/dns01", "--json");
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const result = JSON.parse(r.stdout.trim().split("\n").at(-1) ?? "{}") as { seconds: number; names: string[] };
    assert.deepEqual(result.names, [DNS_NAME]);
    verifyChain(read("/root/dns01/fullchain.pem"), DNS_NAME);
    assert.deepEqual(await labDns().listTxt(`_acme-challenge.${DNS_NAME}`), []);
    assert.equal(read(`/srv/share/tls/${HTTP_NAME}/fullchain.pem`), served);
    t.diagnostic(`dns-01 issue in the agent: ${result.seconds.toFixed(1)} s (node on ${NODE}: ${node})`);
  });

  it("issue --challenge http-01 into --out", async (t) => {
    const r = await agent("issue", "--challenge", "http-01", "--name", HTTP_NAME, "--out", "/root/http01", "--json");
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const result = JSON.parse(r.stdout.trim().split("\n").at(-1) ?? "{}") as { seconds: number };
    verifyChain(read("/root/http01/fullchain.pem"), HTTP_NAME);
    t.diagnostic(`http-01 issue in the agent: ${result.seconds.toFixed(1)} s`);
  });

  it("a failed order (the CA reaches a machine without the token) keeps the served certificate, exits 1 and backs off; retry lifts the wait", async () => {
    const served = read(`/srv/share/tls/${HTTP_NAME}/fullchain.pem`);
    // Another name on the certificate, pointing at lab-db-2 where nothing serves the webroot.
    await labDns().setMembers(`other.${HTTP_NAME}`, [{ name: "lab-db-2", address: "10.231.0.12" }], 30);
    put("/etc/django-ha/acme.json", JSON.stringify(config({ names: [HTTP_NAME, `other.${HTTP_NAME}`] })), 0o600);
    const r = await agent("run");
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /failed: .*the served certificate stays; next attempt not before/);
    assert.equal(read(`/srv/share/tls/${HTTP_NAME}/fullchain.pem`), served);
    const again = await agent("run");
    assert.equal(again.code, 0);
    assert.match(again.stdout, /waiting: .*backing off after 1 failed attempt/);
    const status = await agent("status");
    assert.equal(status.code, 1, "status exits 1 while orders fail");
    assert.match(status.stdout, /failures: 1/);
    // An operator's retry (the bootstrap's certificate phase does one): the next run would order at once.
    const retry = await agent("retry");
    assert.equal(retry.code, 0, retry.stdout + retry.stderr);
    assert.match(
      retry.stdout,
      /^retry: the wait until \S+ after 1 failed attempt\(s\) lifted by an operator; the next run orders at once/m,
    );
    assert.match((await agent("run", "--dry-run")).stdout, /dry-run: would order now/);
    assert.match((await agent("retry")).stdout, /^retry: no wait after failed orders: nothing to lift$/m);
    put("/etc/django-ha/acme.json", JSON.stringify(config()), 0o600);
  });

  it("revoke --yes, then the next run replaces the revoked certificate", async () => {
    await sh("sleep 6");
    const revoked = certInfo(read(`/srv/share/tls/${HTTP_NAME}/fullchain.pem`)).serial;
    const r = await agent("revoke", "--yes");
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const next = await agent("run");
    assert.equal(next.code, 0, next.stdout + next.stderr);
    assert.match(next.stdout, /ordering: .*the current certificate was revoked/);
    assert.notEqual(certInfo(read(`/srv/share/tls/${HTTP_NAME}/fullchain.pem`)).serial, revoked);
  });

  it("a profile the CA does not list is refused before any order, naming it (pebble 2.6 lists none)", async () => {
    const served = read(`/srv/share/tls/${HTTP_NAME}/fullchain.pem`);
    put("/etc/django-ha/acme.json", JSON.stringify(config({ profile: "shortlived" })), 0o600);
    const r = await agent("renew", "--force");
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /failed: profile = "shortlived": the CA at https:\/\/10\.231\.0\.3:14000\/dir does not offer it/);
    assert.doesNotMatch(r.stdout, /challenge: /, "no authorization was touched");
    assert.equal(read(`/srv/share/tls/${HTTP_NAME}/fullchain.pem`), served);
    put("/etc/django-ha/acme.json", JSON.stringify(config()), 0o600);
  });
});
