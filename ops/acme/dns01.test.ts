import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { DnsOperations, RecordMember } from "../dns/types";
import { authoritativeServers, challengeName, TxtChallenges, waitForTxt } from "./dns01";

/** DnsOperations in memory (TXT only matters here). */
class MemoryDns implements DnsOperations {
  readonly describe = "memory";
  readonly txt = new Map<string, string[]>();
  async listMembers(): Promise<RecordMember[]> {
    return [];
  }
  async setMembers(): Promise<void> {}
  async addMember(): Promise<void> {}
  async removeMember(): Promise<void> {}
  async setTxt(fqdn: string, values: string[]): Promise<void> {
    this.txt.set(fqdn, [...values]);
  }
  async listTxt(fqdn: string): Promise<string[]> {
    return [...(this.txt.get(fqdn) ?? [])].sort();
  }
  async removeTxt(fqdn: string, values: string[]): Promise<void> {
    const rest = (this.txt.get(fqdn) ?? []).filter((v) => !values.includes(v));
    if (rest.length > 0) this.txt.set(fqdn, rest);
    else this.txt.delete(fqdn);
  }
}

describe("dns-01", () => {
  it("puts the challenge at _acme-challenge.<name>; a wildcard at its base name", () => {
    assert.equal(challengeName("www.django-ha.dev"), "_acme-challenge.www.django-ha.dev");
    assert.equal(challengeName("*.django-ha.dev"), "_acme-challenge.django-ha.dev");
  });

  it("an apex and its wildcard share the name: both values stand together, each goes on its own", async () => {
    const dns = new MemoryDns();
    const txt = new TxtChallenges(dns);
    await txt.add("_acme-challenge.django-ha.dev", "value-apex");
    assert.deepEqual(await txt.add("_acme-challenge.django-ha.dev", "value-wild"), ["value-apex", "value-wild"]);
    assert.deepEqual(await dns.listTxt("_acme-challenge.django-ha.dev"), ["value-apex", "value-wild"]);
    await txt.remove("_acme-challenge.django-ha.dev", "value-apex");
    assert.deepEqual(await dns.listTxt("_acme-challenge.django-ha.dev"), ["value-wild"]);
    await txt.remove("_acme-challenge.django-ha.dev", "value-wild");
    assert.deepEqual(await dns.listTxt("_acme-challenge.django-ha.dev"), []);
  });

  it("waits until every authoritative server answers with every value, and says which did not", async () => {
    const answers = new Map([
      ["ns1", ["a", "b"]],
      ["ns2", ["a"]],
    ]);
    let t = 0;
    const o = {
      servers: ["ns1", "ns2"],
      timeoutMs: 10_000,
      intervalMs: 2000,
      lookup: async (s: string) => answers.get(s) ?? [],
      now: () => t,
      sleep: async (ms: number) => void (t += ms),
    };
    await assert.rejects(
      waitForTxt("_acme-challenge.x.dev", ["a", "b"], o),
      /TXT not answered by ns2 within 10 s, so the CA was not asked/,
    );
    t = 0;
    const late = { ...o, sleep: async (ms: number) => void ((t += ms), t >= 4000 && answers.set("ns2", ["b", "a"])) };
    await waitForTxt("_acme-challenge.x.dev", ["a", "b"], late);
    assert.equal(t, 4000);
  });

  it("finds the zone's authoritative servers by walking up to the first name with NS records", async () => {
    const ns = new Map([["django-ha.dev", ["ns1.do.test", "ns2.do.test"]]]);
    const resolver = {
      resolveNs: async (n: string) => {
        const r = ns.get(n);
        if (!r) throw Object.assign(new Error("ENODATA"), { code: "ENODATA" });
        return r;
      },
      resolve4: async (n: string) => (n === "ns1.do.test" ? ["192.0.2.1"] : ["192.0.2.2"]),
    };
    assert.deepEqual(await authoritativeServers("_acme-challenge.www.django-ha.dev", resolver), ["192.0.2.1", "192.0.2.2"]);
    await assert.rejects(authoritativeServers("_acme-challenge.nowhere.test", resolver), /no authoritative DNS server found/);
  });
});
