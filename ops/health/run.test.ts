import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { RecordMember } from "../dns/types";
import { initialMemory, tick, type AgentDeps, type AgentMemory, type RecordOperations } from "./run";
import { parseHealthConfig, type HealthConfig } from "./config";

const config: HealthConfig = parseHealthConfig(
  JSON.stringify({
    fqdn: "www.lab.test",
    ttl: 30,
    children: [
      { name: "lab-child-1", address: "10.231.0.21", privateAddress: "10.231.0.21" },
      { name: "lab-child-2", address: "10.231.0.22", privateAddress: "10.231.0.22" },
    ],
    dns: { provider: "rfc2136", server: "10.231.0.2", port: 53, zone: "lab.test", keyName: "lab-update", algorithm: "hmac-sha256" },
  }),
);

/** One record shared by every agent, counting the calls. */
class FakeDns implements RecordOperations {
  calls: string[] = [];
  failNext = false;
  constructor(public members: RecordMember[]) {}
  async listMembers(): Promise<RecordMember[]> {
    this.calls.push("list");
    return [...this.members];
  }
  async addMember(_fqdn: string, m: RecordMember, ttl: number): Promise<void> {
    this.calls.push(`add ${m.name} ttl ${ttl}`);
    this.members.push(m);
  }
  async removeMember(_fqdn: string, m: RecordMember): Promise<void> {
    this.calls.push(`remove ${m.name}`);
    if (this.failNext) {
      this.failNext = false;
      throw new Error("SERVFAIL");
    }
    this.members = this.members.filter((x) => x.address !== m.address);
  }
}

const both = (): RecordMember[] => config.children.map((c) => ({ name: c.name, address: c.address }));

function agent(dns: FakeDns, o: { primary: () => boolean; up: Set<string>; dryRun?: boolean }) {
  const lines: string[] = [];
  let clock = 0;
  const probed: string[] = [];
  const deps: AgentDeps = {
    config,
    dns,
    mayAct: async () => (o.primary() ? true : "not the primary (in recovery)"),
    probe: async (c) => {
      probed.push(c.name);
      return { name: c.name, ok: o.up.has(c.name), detail: o.up.has(c.name) ? "HTTP 200 in 3 ms" : "HTTP 502 in 2 ms" };
    },
    log: (l) => lines.push(l),
    now: () => (clock += 2000),
    dryRun: o.dryRun,
  };
  let m: AgentMemory = initialMemory();
  return {
    lines,
    probed,
    run: async (n: number) => {
      for (let i = 0; i < n; i++) m = await tick(m, deps);
      return m;
    },
  };
}

describe("the health agent's rounds", () => {
  it("the primary removes a failing child after 3 rounds and puts it back after 2 good ones, one DNS call each", async () => {
    const dns = new FakeDns(both());
    const up = new Set(["lab-child-2"]);
    const a = agent(dns, { primary: () => true, up });
    await a.run(4);
    assert.deepEqual(dns.calls, ["list", "remove lab-child-1"]);
    assert.deepEqual(
      dns.members.map((m) => m.name),
      ["lab-child-2"],
    );
    up.add("lab-child-1");
    await a.run(2);
    assert.deepEqual(dns.calls, ["list", "remove lab-child-1", "add lab-child-1 ttl 30"]);
    assert.deepEqual(a.lines, [
      "the primary: checking 2 children of www.lab.test every 2 s",
      "removed lab-child-1 (10.231.0.21) from the record: 3 consecutive failed probes (last: HTTP 502 in 2 ms)",
      "added back lab-child-1 (10.231.0.21) to the record: 2 consecutive good probes",
    ]);
  });

  it("acts from one node at a time: the standby neither probes nor calls DNS; after a failover the other one acts", async () => {
    const dns = new FakeDns(both());
    let primaryIsOne = true;
    const up = new Set(["lab-child-2"]);
    const one = agent(dns, { primary: () => primaryIsOne, up });
    const two = agent(dns, { primary: () => !primaryIsOne, up });
    for (let i = 0; i < 4; i++) {
      await one.run(1);
      await two.run(1);
    }
    assert.deepEqual(two.probed, []);
    assert.deepEqual(dns.calls, ["list", "remove lab-child-1"], "only the primary's calls");
    assert.deepEqual(two.lines, ["not the primary (in recovery): idle"]);
    primaryIsOne = false;
    up.add("lab-child-1");
    for (let i = 0; i < 3; i++) {
      await one.run(1);
      await two.run(1);
    }
    assert.deepEqual(
      dns.calls,
      ["list", "remove lab-child-1", "list", "add lab-child-1 ttl 30"],
      "the new primary reads the record, then acts",
    );
    assert.equal(one.lines.at(-1), "not the primary (in recovery): idle");
  });

  it("a failed DNS change is logged, and the record is read again before the next decision", async () => {
    const dns = new FakeDns(both());
    dns.failNext = true;
    const a = agent(dns, { primary: () => true, up: new Set(["lab-child-2"]) });
    await a.run(5);
    assert.deepEqual(dns.calls, ["list", "remove lab-child-1", "list", "remove lab-child-1"]);
    assert.ok(a.lines.includes("remove lab-child-1 failed: SERVFAIL"));
    assert.deepEqual(
      dns.members.map((m) => m.name),
      ["lab-child-2"],
    );
  });

  it("--dry-run decides and logs, and changes nothing", async () => {
    const dns = new FakeDns(both());
    const a = agent(dns, { primary: () => true, up: new Set(["lab-child-2"]), dryRun: true });
    await a.run(6);
    assert.deepEqual(dns.calls, ["list"]);
    assert.equal(dns.members.length, 2);
    assert.deepEqual(
      a.lines.filter((l) => l.startsWith("dry run:")),
      ["dry run: removed lab-child-1 (10.231.0.21) from the record: 3 consecutive failed probes (last: HTTP 502 in 2 ms)"],
    );
  });

  it("refuses a config with every problem named", () => {
    assert.throws(
      () =>
        parseHealthConfig(
          JSON.stringify({
            fqdn: "www.lab.test",
            ttl: 30,
            children: [{ name: "c", address: "10.0.0.300", privateAddress: "10.0.0.3" }],
            dns: { provider: "route53" },
          }),
          "health.json",
        ),
      (e: Error) =>
        /children\.0\.address = "10\.0\.0\.300": must be an IPv4 address/.test(e.message) &&
        /dns\.provider = "route53"/.test(e.message) &&
        /Run the bootstrap again/.test(e.message),
    );
  });
});
