/**
 * Let's Encrypt's protocol end to end in the lab (issue 10), against pebble with 120-second certificates, in ONE
 * lab boot: the bootstrap's certificate phase issues by HTTP-01 through the round robin (pebble's validations
 * land on different children), DNS-01 goes through RFC 2136 on the lab DNS with the narrow lab-acme key, the
 * short certificates are renewed under a request load (every client verifies the chain against pebble's root;
 * zero failed requests), and a revoked certificate is replaced at once — timed by pebble's renewal information.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { labDown, labPaths, labRemoveVolumes, labSsh, labUp } from "../lab";
import { getVerified } from "../lab/pebble";
import { labBootstrapHook } from "../lab";
import { recordMembers, type Inventory } from "../model";
import { shareCertDir, TLS_PATHS } from "../roles/tls";
import {
  AGENT,
  AGENT_SECRETS,
  AGENT_SERVICE,
  AGENT_TIMER,
  agentState,
  issueOn,
  onNode,
  pauseAgent,
  pebbleValidations,
  serialKey,
  servedCertificate,
  untilEveryChildServes,
  watchServed,
  writeDns01Config,
  type AgentStateView,
} from "./acme-lab";
import { startLoad, verifyAcked, web } from "./drill";
import { clusterCaFile } from "./lab-tls";

/** pebble's certificate lifetime here: renewals every few tens of seconds. */
const VALIDITY_SECONDS = 120;
const paths = labPaths();
let inventory: Inventory;
let children: { name: string; address: string }[];
let primary: string;
const fqdn = () => inventory.recordFqdn;

/** One run of the agent as its timer starts it (same unit, environment and lock); resolves when it finished. */
async function agentRun(): Promise<void> {
  await labSshOk(primary, ["systemctl", "start", AGENT_SERVICE]);
}
const labSshOk = (node: string, argv: string[]) => onNode(node, argv, 300_000);

/** pebble's ARI answer (RFC 9773) for a certID, verified against the lab CA. */
async function pebbleWindow(certId: string): Promise<{ start: number; end: number }> {
  const r = await getVerified(
    `https://10.231.0.3:14000/draft-ietf-acme-ari-03/renewalInfo/${certId}`,
    fs.readFileSync(paths.labCa, "utf8"),
    10_000,
  );
  assert.equal(r.status, 200, r.body);
  const w = (JSON.parse(r.body) as { suggestedWindow: { start: string; end: string } }).suggestedWindow;
  return { start: Date.parse(w.start), end: Date.parse(w.end) };
}

/** A chain (leaf first) verified on this machine against pebble's root with openssl. */
function verifyChain(chainPem: string): string {
  const [leaf, ...rest] = chainPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
  assert.ok(leaf && rest.length >= 1, "leaf and intermediate");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "acme-chain-"));
  try {
    fs.writeFileSync(path.join(dir, "leaf.pem"), leaf);
    fs.writeFileSync(path.join(dir, "rest.pem"), rest.join(""));
    return execFileSync(
      "openssl",
      ["verify", "-CAfile", clusterCaFile(), "-untrusted", path.join(dir, "rest.pem"), path.join(dir, "leaf.pem")],
      { encoding: "utf8" },
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe("ACME in the lab: pebble, the renewal agent on the primary, every child", { timeout: 1_800_000 }, () => {
  before(async () => {
    await labDown({ log: () => undefined });
    // A fresh share, so the agent's journal holds this suite's orders only: a certificate left from an earlier lab
    // chains to an earlier pebble's root and would be replaced for trust (the last test here covers that case).
    await labRemoveVolumes({ log: () => undefined });
    inventory = (
      await labUp({ log: () => undefined, acmeValiditySeconds: VALIDITY_SECONDS, afterBoot: [labBootstrapHook({ stack: "lab" })] })
    ).inventory;
    children = recordMembers(inventory).map((n) => ({ name: n.name, address: n.publicAddress }));
    primary = inventory.primary;
  });

  after(async () => {
    await labDown({ log: () => undefined });
  });

  it("HTTP-01 through the round robin: after the bootstrap every child serves a certificate for the record that verifies against pebble's root", async () => {
    for (const c of children) {
      const served = await servedCertificate(c.address, fqdn());
      assert.ok(
        Math.abs((served.notAfter - served.notBefore) / 1000 - VALIDITY_SECONDS) <= 1,
        `${c.name}: a ${VALIDITY_SECONDS} s certificate`,
      );
      const health = await web(fqdn(), c.address, "/health/");
      assert.equal(health.status, 200, `${c.name}: ${health.body}`);
    }
    const state = await agentState(primary);
    assert.equal(state.failures, 0, state.lastError);
    assert.ok(
      state.history.some((h) => h.event === "issued"),
      JSON.stringify(state.history),
    );
  });

  it("DNS-01 through RFC 2136 on the lab DNS with the narrow lab-acme key (`django-ha-acme issue` on the primary): no HTTP request from pebble", async () => {
    await pauseAgent(primary);
    try {
      await writeDns01Config(primary);
      const before = await Promise.all(children.map(async (c) => (await pebbleValidations(c.name)).length));
      const issued = await issueOn(primary, "dns-01", [fqdn()], "/root/acme-dns-01");
      assert.match(verifyChain(await labSshOk(primary, ["cat", "/root/acme-dns-01/fullchain.pem"])), /leaf\.pem: OK/);
      assert.ok(issued.seconds > 0);
      assert.deepEqual(
        await Promise.all(children.map(async (c) => (await pebbleValidations(c.name)).length)),
        before,
        "pebble validated by DNS, not by HTTP",
      );
      const named = await labSshOk("lab-dns", ["journalctl", "-u", "named", "--no-pager", "-o", "cat"]);
      assert.match(named, /key lab-acme: updating zone 'lab\.test\/IN': adding an RR at '_acme-challenge\.www\.lab\.test' TXT/);
      assert.match(
        named,
        /key lab-acme: updating zone 'lab\.test\/IN': deleting an RR at '?_acme-challenge\.www\.lab\.test'? TXT/,
        "the agent removes its TXT record",
      );
      assert.equal((await labSshOk("lab-worker", ["dig", "+short", `_acme-challenge.${fqdn()}`, "TXT"])).trim(), "");
    } finally {
      await labSshOk(primary, ["systemctl", "start", AGENT_TIMER]);
    }
  });

  it("renews the short certificates under load: every child serves at least two new ones, zero failed requests (chain verified), no acknowledged write lost", async () => {
    const load = startLoad(inventory, { writesPerSecond: 4, readsPerSecond: 4, label: "acme" });
    await load.waitFor("write", (s) => s.ok, 3);
    const watched = await watchServed(
      children,
      fqdn(),
      (changes) => children.every((c) => changes.filter((x) => x.child === c.name).length >= 2),
      { timeoutMs: 600_000 },
    );
    const samples = await load.stop();
    for (const c of children)
      assert.ok(
        watched.changes.filter((x) => x.child === c.name).length >= 2,
        `${c.name} changed certificate ${watched.changes.filter((x) => x.child === c.name).length} time(s)`,
      );
    const failed = samples.filter((s) => !s.ok);
    assert.deepEqual(failed.slice(0, 5), [], `${failed.length} of ${samples.length} requests failed`);
    assert.ok(samples.length > 100, `${samples.length} requests`);
    const verified = await verifyAcked(primary, load, samples);
    assert.deepEqual(verified.missing, []);
  });

  it("pebble's HTTP-01 validations landed on different children across the issuances (the children's nginx logs)", async () => {
    const counts = await Promise.all(children.map(async (c) => (await pebbleValidations(c.name)).length));
    assert.ok(
      counts.filter((n) => n > 0).length >= 2,
      `validations per child: ${children.map((c, i) => `${c.name} ${counts[i]}`).join(", ")}`,
    );
  });

  it("renewal timed by pebble's renewal information: the chosen times lie in pebble's windows; a revoked certificate (ARI window in the past) is replaced before the 1/3-lifetime rule would have", async () => {
    await pauseAgent(primary);
    try {
      const journal = await labSshOk(primary, ["journalctl", "-u", AGENT_SERVICE, "--no-pager", "-o", "cat"]);
      const timed = [...journal.matchAll(/due: ARI window (\S+)\.\.(\S+), chose (\S+?)(?:,|\)|$)/gm)].map((m) =>
        m.slice(1, 4).map(Date.parse),
      );
      assert.ok(timed.length >= 2, `ARI-timed renewals in the agent's journal: ${timed.length}`);
      // Every chain pebble sent leads to the root the nodes trust: the trust rule never ordered here.
      assert.doesNotMatch(journal, /does not lead to a root this machine trusts/);
      for (const [start, end, at] of timed)
        assert.ok(
          start <= at && at <= end,
          `chose ${new Date(at).toISOString()} outside ${new Date(start).toISOString()}..${new Date(end).toISOString()}`,
        );
      const current: AgentStateView = await agentState(primary);
      assert.ok(current.certId && current.serial && current.notBefore && current.notAfter, JSON.stringify(current));
      const logged = new RegExp(`^ari: window (\\S+)\\.\\.(\\S+) for serial ${current.serial}\\b`, "m").exec(journal);
      if (logged)
        assert.deepEqual(
          [Date.parse(logged[1]), Date.parse(logged[2])],
          Object.values(await pebbleWindow(current.certId)),
          "the agent's window is pebble's answer",
        );

      await labSshOk(primary, [AGENT, "revoke", "--yes"]);
      const revokedAt = Date.now();
      const revoked = await agentState(primary);
      assert.equal(serialKey(revoked.revokedSerial ?? ""), serialKey(current.serial), "revoked the certificate the state names");
      const window = await pebbleWindow(current.certId);
      assert.ok(
        window.end < revokedAt,
        `pebble's window for the revoked certificate is in the past: ${new Date(window.start).toISOString()}..${new Date(window.end).toISOString()}`,
      );
      await agentRun();
      const after = await agentState(primary);
      assert.notEqual(serialKey(after.serial ?? ""), serialKey(current.serial), "replaced");
      const renewedAt = Date.parse(after.lastRenewedAt ?? "");
      const thirdLeft = Date.parse(current.notAfter) - (Date.parse(current.notAfter) - Date.parse(current.notBefore)) / 3;
      assert.ok(
        renewedAt < thirdLeft,
        `renewed ${new Date(renewedAt).toISOString()}, the 1/3 rule would wait until ${new Date(thirdLeft).toISOString()}`,
      );
      const events = after.history.map((h) => h.event);
      assert.ok(events.lastIndexOf("revoked") < events.lastIndexOf("issued"), events.join(", "));
    } finally {
      await labSshOk(primary, ["systemctl", "start", AGENT_TIMER]);
    }
  });

  it("a certificate on the share from a CA the nodes do not trust (the CA reset its root, another directory, a restored share): no child installs it; the agent's next run replaces it, naming nothing it replaces", async () => {
    await pauseAgent(primary);
    try {
      const before = await Promise.all(children.map(async (c) => (await servedCertificate(c.address, fqdn())).serial));
      const stranger = (await labSshOk(primary, ["bash", "-c", writeStrangerCertificate(shareCertDir(fqdn()), fqdn())])).trim();
      for (const c of children) {
        const sync = await labSsh(c.name, [TLS_PATHS.sync], { timeoutMs: 60_000 });
        assert.equal(sync.code, 1, `${c.name}: ${sync.stdout}${sync.stderr}`);
        assert.match(
          sync.stderr,
          /fullchain\.pem \(issuer: CN ?= ?stranger-ca\) does not lead to a root this machine trusts \(error \d+ at \d+ depth lookup: /,
          c.name,
        );
      }
      assert.deepEqual(
        await Promise.all(children.map(async (c) => (await servedCertificate(c.address, fqdn())).serial)),
        before,
        "every child still serves the trusted certificate",
      );
      await agentRun();
      const after = await agentState(primary);
      assert.equal(after.failures, 0, after.lastError);
      assert.notEqual(serialKey(after.serial ?? ""), serialKey(stranger), "replaced");
      const journal = await labSshOk(primary, ["journalctl", "-u", AGENT_SERVICE, "--no-pager", "-o", "cat"]);
      const ordered = journal.match(/^ordering: .*$/gm)?.at(-1) ?? "";
      assert.match(ordered, /: the served chain does not lead to a root this machine trusts$/);
      assert.doesNotMatch(ordered, /replaces/, "pebble refuses an order naming a certificate it never issued");
      await untilEveryChildServes(children, fqdn(), after.serial ?? "");
    } finally {
      await labSshOk(primary, ["systemctl", "start", AGENT_TIMER]);
    }
  });
});

/**
 * A certificate for `fqdn` from a throw-away CA, written into the share's certificate directory `dir` as the agent
 * writes one (key encrypted with the cluster's passphrase, the files keeping their owner and mode); prints its serial.
 */
function writeStrangerCertificate(dir: string, fqdn: string): string {
  return `set -euo pipefail
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT; cd "$work"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=stranger-ca -keyout ca.key -out ca.pem 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj /CN=${fqdn} -addext subjectAltName=DNS:${fqdn} -keyout leaf.key -out leaf.csr 2>/dev/null
openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 -copy_extensions copy -out leaf.pem 2>/dev/null
set -a; . ${AGENT_SECRETS}; set +a
openssl pkcs8 -topk8 -v2 aes-256-cbc -in leaf.key -passout env:DJANGO_HA_TLS_PASSPHRASE -out leaf.key.enc
cat leaf.pem ca.pem > chain.pem
cp leaf.key.enc ${dir}/privkey.pem.enc
cp chain.pem ${dir}/fullchain.pem
openssl x509 -in leaf.pem -noout -serial | cut -d= -f2`;
}
