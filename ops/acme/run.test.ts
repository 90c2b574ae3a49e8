import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { testCa, testLeaf, type TestCa } from "../../test/acme-certs";
import { goodConfig } from "../../test/acme-config";
import type { Ca, Directory, IssueRequest } from "./acme";
import { certInfo } from "./cert";
import { parseAgentConfig } from "./config";
import { decryptKey, keyMatchesCert } from "./keys";
import { issueInto, revocationTarget, runOnce, storePaths, type RunContext } from "./run";
import type { Window } from "./schedule";
import { readState } from "./state";

const DAY = 86400_000;

/** A CA in memory: issues from a test CA with the lifetime asked, offers ARI when given a window, records orders. */
class FakeCa implements Ca {
  readonly orders: IssueRequest[] = [];
  fail: string | undefined;
  ariWindow: Window | undefined;
  ariCalls = 0;
  lifetimeDays = 90;
  constructor(
    public ca: TestCa,
    private readonly clock: { now: number },
  ) {}
  async directory(): Promise<Directory> {
    return {
      newOrder: "https://ca/new-order",
      ...(this.ariWindow ? { renewalInfo: "https://ca/renewal-info" } : {}),
      meta: { profiles: { classic: "", shortlived: "" } },
    };
  }
  async renewalInfo(): Promise<{ window: Window; retryAfter?: string }> {
    this.ariCalls++;
    if (!this.ariWindow) throw new Error("no ARI");
    return { window: this.ariWindow, retryAfter: "21600" };
  }
  async issue(r: IssueRequest) {
    this.orders.push(r);
    if (this.fail) throw new Error(this.fail);
    const leaf = await testLeaf(this.ca, {
      names: [...r.names],
      notBefore: new Date(this.clock.now),
      notAfter: new Date(this.clock.now + this.lifetimeDays * DAY),
    });
    return { chainPem: leaf.chainPem, keyPem: leaf.keyPem };
  }
  async revoke(): Promise<void> {}
}

let dir = "";
let clock = { now: 0 };
let fake: FakeCa;
let events: string[] = [];
let ctx: RunContext;

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "acme-run-"));
  clock = { now: Date.parse("2027-03-01T00:00:00Z") };
  fake = new FakeCa(await testCa(), clock);
  events = [];
  const config = parseAgentConfig(JSON.stringify({ ...goodConfig, store: `${dir}/tls`, webroot: `${dir}/acme` }));
  ctx = { config, passphrase: "pass phrase", ca: fake, now: () => clock.now, random: () => 0.5, log: (e, d) => events.push(`${e}: ${d}`) };
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const paths = () => storePaths(`${dir}/tls`, "www.django-ha.dev");
const served = () => certInfo(fs.readFileSync(paths().fullchain, "utf8"));

describe("agent run: the served chain and this machine's trust store", () => {
  it("a chain to a root the machine no longer trusts (the CA reset its root) is replaced at once, then trusted again", async () => {
    const first = fake.ca;
    ctx = { ...ctx, trustedRootsPem: first.pem };
    assert.equal((await runOnce(ctx, { force: false })).outcome, "renewed");
    assert.equal((await runOnce(ctx, { force: false })).outcome, "waiting", "trusted: nothing to do");
    fake.ca = await testCa("the CA after a reset");
    ctx = { ...ctx, trustedRootsPem: fake.ca.pem };
    assert.equal((await runOnce(ctx, { force: false })).outcome, "renewed");
    assert.match(events.filter((e) => e.startsWith("ordering")).at(-1) ?? "", /does not lead to a root this machine trusts/);
    assert.equal((await runOnce(ctx, { force: false })).outcome, "waiting", "the new chain is trusted");
    assert.equal(fake.orders.length, 2);
  });

  it("a CA no trust store knows (Let's Encrypt staging, a private CA) gets one replacement order, never a loop", async () => {
    ctx = { ...ctx, trustedRootsPem: (await testCa("a root of the system store")).pem };
    assert.equal((await runOnce(ctx, { force: false })).outcome, "renewed", "the first certificate");
    assert.equal((await runOnce(ctx, { force: false })).outcome, "renewed", "one replacement, in case the store knows the CA's new root");
    for (let i = 0; i < 3; i++) assert.equal((await runOnce(ctx, { force: false })).outcome, "waiting");
    assert.equal(fake.orders.length, 2);
    clock.now += 60 * DAY;
    assert.equal((await runOnce(ctx, { force: false })).outcome, "renewed", "the regular renewal");
    for (let i = 0; i < 3; i++) assert.equal((await runOnce(ctx, { force: false })).outcome, "waiting", "and no trust order after it");
    assert.equal(fake.orders.length, 3);
  });

  it("staging, then production (another directory): the staging certificate the trust rule had left alone is replaced at the first run", async () => {
    const production = await testCa("production, in the system store");
    ctx = { ...ctx, trustedRootsPem: production.pem };
    assert.equal((await runOnce(ctx, { force: false })).outcome, "renewed", "staging's first certificate");
    assert.equal((await runOnce(ctx, { force: false })).outcome, "renewed", "its one replacement for trust");
    assert.equal((await runOnce(ctx, { force: false })).outcome, "waiting", "then quiet for staging");
    assert.equal(readState(`${dir}/tls`).untrustedReplacementDirectory, ctx.config.directoryUrl);
    fake.ca = production;
    ctx = { ...ctx, config: { ...ctx.config, directoryUrl: "https://acme-v02.api.letsencrypt.org/directory" } };
    assert.equal((await runOnce(ctx, { force: false })).outcome, "renewed");
    assert.match(events.filter((e) => e.startsWith("ordering")).at(-1) ?? "", /does not lead to a root this machine trusts/);
    assert.equal((await runOnce(ctx, { force: false })).outcome, "waiting", "production's certificate is trusted");
    assert.equal(readState(`${dir}/tls`).untrustedReplacementSerial, undefined);
    assert.equal(fake.orders.length, 3);
  });

  it("a replacement for trust names no certificate it replaces (the CA does not know the untrusted one); a renewal does", async () => {
    fake.ariWindow = { start: clock.now + 40 * DAY, end: clock.now + 42 * DAY };
    ctx = { ...ctx, trustedRootsPem: fake.ca.pem };
    assert.equal((await runOnce(ctx, { force: false })).outcome, "renewed");
    fake.ca = await testCa("the CA after a reset");
    ctx = { ...ctx, trustedRootsPem: fake.ca.pem };
    assert.equal((await runOnce(ctx, { force: false })).outcome, "renewed");
    assert.equal(fake.orders[1].replaces, undefined);
    const renewed = served().certId;
    assert.equal((await runOnce(ctx, { force: true })).outcome, "renewed");
    assert.equal(fake.orders[2].replaces, renewed);
  });

  it("without a trust store (a test run off the node) the chain is not judged", async () => {
    await runOnce(ctx, { force: false });
    fake.ca = await testCa("another");
    assert.equal((await runOnce(ctx, { force: false })).outcome, "waiting");
  });
});

describe("agent run", () => {
  it("orders the first certificate, stores it (chain 0644, key encrypted 0640) and then waits a third of the lifetime", async () => {
    assert.equal((await runOnce(ctx, { force: false })).outcome, "renewed");
    const p = paths();
    assert.equal(fs.statSync(p.fullchain).mode & 0o777, 0o644);
    assert.equal(fs.statSync(p.privkey).mode & 0o777, 0o640);
    const key = decryptKey(fs.readFileSync(p.privkey, "utf8"), "pass phrase", p.privkey);
    assert.ok(keyMatchesCert(key, fs.readFileSync(p.fullchain, "utf8")));
    assert.deepEqual(fs.readdirSync(p.certDir).sort(), ["fullchain.pem", "privkey.pem.enc"]);
    const state = readState(`${dir}/tls`);
    assert.deepEqual([state.serial, state.failures, state.history.at(-1)?.event], [served().serial, 0, "issued"]);
    assert.deepEqual(fake.orders, [{ names: goodConfig.names, profile: undefined, replaces: undefined }]);

    clock.now += 59 * DAY;
    const r = await runOnce(ctx, { force: false });
    assert.equal(r.outcome, "waiting");
    assert.match(events.at(-1) ?? "", /waiting: until 2027-04-30T00:00:00.000Z: a third of the lifetime left/);
    clock.now += 1 * DAY;
    assert.equal((await runOnce(ctx, { force: false })).outcome, "renewed");
    assert.equal(fake.orders.length, 2);
  });

  it("with ARI: asks for the window, renews inside it with replaces = the served certificate's certID", async () => {
    await runOnce(ctx, { force: false });
    const first = served();
    fake.ariWindow = { start: clock.now + 40 * DAY, end: clock.now + 42 * DAY };
    assert.equal((await runOnce(ctx, { force: false })).outcome, "waiting");
    assert.equal(readState(`${dir}/tls`).chosen?.at, new Date(clock.now + 41 * DAY).toISOString());
    // Retry-After 6 h: the next run within it does not ask again.
    clock.now += 3600_000;
    await runOnce(ctx, { force: false });
    assert.equal(fake.ariCalls, 1);
    clock.now += 41 * DAY;
    assert.equal((await runOnce(ctx, { force: false })).outcome, "renewed");
    assert.equal(fake.orders.at(-1)?.replaces, first.certId);
    assert.ok(first.certId);
  });

  it("a failed order keeps the served certificate, records the reason and backs off", async () => {
    await runOnce(ctx, { force: false });
    const before = fs.readFileSync(paths().fullchain, "utf8");
    fake.fail = "http-01 self-check: child-2 answered 404";
    clock.now += 61 * DAY;
    assert.equal((await runOnce(ctx, { force: false })).outcome, "failed");
    assert.equal(fs.readFileSync(paths().fullchain, "utf8"), before);
    const s = readState(`${dir}/tls`);
    assert.deepEqual(
      [s.failures, s.lastError, s.nextAttemptAt],
      [1, "http-01 self-check: child-2 answered 404", new Date(clock.now + 300_000).toISOString()],
    );
    clock.now += 60_000;
    assert.equal((await runOnce(ctx, { force: false })).outcome, "waiting");
    assert.equal(fake.orders.length, 2, "no order while backing off");
    fake.fail = undefined;
    clock.now += 300_000;
    assert.equal((await runOnce(ctx, { force: false })).outcome, "renewed");
    assert.equal(readState(`${dir}/tls`).failures, 0);
  });

  it("sends the configured profile; --force orders at once; a dry run writes nothing", async () => {
    ctx = { ...ctx, config: { ...ctx.config, profile: "shortlived" } };
    assert.equal((await runOnce(ctx, { force: false, dryRun: true })).outcome, "dry-run");
    assert.ok(!fs.existsSync(`${dir}/tls`));
    await runOnce(ctx, { force: false });
    assert.equal(fake.orders[0].profile, "shortlived");
    assert.equal((await runOnce(ctx, { force: true })).outcome, "renewed");
    assert.equal(fake.orders.length, 2);
  });

  it("issue writes into its own directory and leaves the served certificate and the state alone", async () => {
    await runOnce(ctx, { force: false });
    const before = fs.readFileSync(paths().fullchain, "utf8");
    const stateBefore = fs.readFileSync(path.join(`${dir}/tls`, "acme", "state.json"), "utf8");
    const r = await issueInto(ctx, ["bench.django-ha.dev"], `${dir}/out`);
    assert.deepEqual(r.info.names, ["bench.django-ha.dev"]);
    assert.ok(fs.existsSync(`${dir}/out/fullchain.pem`) && fs.existsSync(`${dir}/out/privkey.pem.enc`));
    assert.equal(fs.readFileSync(paths().fullchain, "utf8"), before);
    assert.equal(fs.readFileSync(path.join(`${dir}/tls`, "acme", "state.json"), "utf8"), stateBefore);
  });
});

describe("revoke's target: the served certificate, and only the one the operator confirmed", () => {
  const info = (serial: string) => ({ info: { serial, notBefore: 0, notAfter: 1, names: ["www.django-ha.dev"] } });

  it("no certificate: refused, naming the file", () => {
    assert.deepEqual(revocationTarget(undefined, "/srv/share/tls/x/fullchain.pem"), {
      refusal: "no certificate at /srv/share/tls/x/fullchain.pem: nothing to revoke",
    });
  });

  it("--yes (nothing confirmed): what is served under the lock", () => {
    const served = info("0a");
    assert.deepEqual(revocationTarget(served, "f"), { target: served });
  });

  it("confirmed and still served: that one", () => {
    const served = info("0a");
    assert.deepEqual(revocationTarget(served, "f", "0a"), { target: served });
  });

  it("replaced by a run while the prompt waited: refused, naming both serials and what to do", () => {
    const r = revocationTarget(info("0b"), "f", "0a");
    assert.ok("refusal" in r);
    assert.match(r.refusal, /serial 0a, which you confirmed, is no longer served .*serial 0b.*run revoke again/);
  });
});
