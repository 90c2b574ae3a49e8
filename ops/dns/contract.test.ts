/**
 * The DnsOperations contract, run the same way against every cloud adapter: DigitalOcean against the fake
 * API on 127.0.0.1, Route 53 against an in-memory hosted zone behind aws-sdk-client-mock. (The RFC 2136
 * adapter is proven against a real bind9 in the lab tests.)
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  type Change,
  ChangeResourceRecordSetsCommand,
  ListResourceRecordSetsCommand,
  type ResourceRecordSet,
  Route53Client,
} from "@aws-sdk/client-route-53";
import { mockClient } from "aws-sdk-client-mock";
import { FAKE_TOKEN, FakeDigitalOcean } from "../../test/fake-digitalocean";
import { DigitalOceanDns } from "./digitalocean";
import { Route53Dns } from "./route53";
import type { DnsOperations, RecordMember } from "./types";

const FQDN = "www.example.com";
const nodes: RecordMember[] = [
  { name: "child-1", address: "203.0.113.10" },
  { name: "child-2", address: "203.0.113.9" },
  { name: "child-3", address: "198.51.100.200" },
  { name: "child-4", address: "203.0.113.100" },
];
const byAddress = (ms: RecordMember[]) =>
  [...ms].sort((a, b) => {
    const n = (x: string) => x.split(".").reduce((acc, o) => acc * 256 + Number(o), 0);
    return n(a.address) - n(b.address);
  });

/** A Route 53 hosted zone in memory: ListResourceRecordSets from a name, atomic change batches with Route 53's checks. */
function route53Zone(client: Route53Client) {
  let zone: ResourceRecordSet[] = [
    { Name: "example.com.", Type: "SOA", TTL: 900, ResourceRecords: [{ Value: "ns. admin. 1 7200 900 1209600 86400" }] },
  ];
  const key = (r: ResourceRecordSet) => `${r.Name}|${r.Type}|${r.SetIdentifier ?? ""}`;
  const mock = mockClient(client);
  mock.on(ListResourceRecordSetsCommand).callsFake((input: { StartRecordName: string; StartRecordType?: string }) => ({
    // Route 53 lists from (name, type) on, in that order.
    ResourceRecordSets: zone
      .filter((r) => key(r) >= `${input.StartRecordName}|${input.StartRecordType ?? ""}`)
      .sort((a, b) => key(a).localeCompare(key(b))),
    IsTruncated: false,
    MaxItems: 300,
  }));
  mock.on(ChangeResourceRecordSetsCommand).callsFake((input: { ChangeBatch: { Changes: Change[] } }) => {
    const next = new Map(zone.map((r) => [key(r), r]));
    for (const c of input.ChangeBatch.Changes) {
      const r = c.ResourceRecordSet!;
      if (c.Action === "DELETE") {
        assert.deepEqual(next.get(key(r)), r, "InvalidChangeBatch: DELETE of a record that does not match");
        next.delete(key(r));
      } else next.set(key(r), r);
    }
    zone = [...next.values()];
    return { ChangeInfo: { Id: "/change/C1", Status: "PENDING", SubmittedAt: new Date() } };
  });
  return mock;
}

function contract(label: string, make: () => DnsOperations) {
  describe(`DnsOperations contract: ${label}`, () => {
    it("setMembers makes the members exactly those given, listed sorted by address, and is idempotent", async () => {
      const dns = make();
      await dns.setMembers(FQDN, nodes.slice(0, 3), 60);
      assert.deepEqual(await dns.listMembers(FQDN), byAddress(nodes.slice(0, 3)));
      await dns.setMembers(FQDN, [...nodes.slice(0, 3)].reverse(), 60);
      assert.deepEqual(await dns.listMembers(FQDN), byAddress(nodes.slice(0, 3)));
      await dns.setMembers(FQDN, nodes.slice(1, 4), 30);
      assert.deepEqual(await dns.listMembers(FQDN), byAddress(nodes.slice(1, 4)));
    });

    it("addMember and removeMember change one member and are no-ops when already done", async () => {
      const dns = make();
      await dns.setMembers(FQDN, nodes.slice(0, 2), 60);
      await dns.addMember(FQDN, nodes[1], 60);
      assert.deepEqual(await dns.listMembers(FQDN), byAddress(nodes.slice(0, 2)));
      await dns.addMember(FQDN, nodes[3], 60);
      assert.deepEqual(await dns.listMembers(FQDN), byAddress([nodes[0], nodes[1], nodes[3]]));
      await dns.removeMember(FQDN, nodes[0]);
      await dns.removeMember(FQDN, nodes[0]);
      assert.deepEqual(await dns.listMembers(FQDN), byAddress([nodes[1], nodes[3]]));
      await dns.setMembers(FQDN, [], 60);
      assert.deepEqual(await dns.listMembers(FQDN), []);
    });

    it("setTxt makes the TXT record exactly the values, removeTxt takes values out, the record goes with the last; A records untouched", async () => {
      const dns = make();
      const name = "_acme-challenge.www.example.com";
      await dns.setMembers(FQDN, nodes.slice(0, 1), 60);
      assert.deepEqual(await dns.listTxt(name), []);
      await dns.setTxt(name, ["v2-token-b", "v1-token-a"], 60);
      await dns.setTxt(name, ["v2-token-b", "v1-token-a"], 60);
      assert.deepEqual(await dns.listTxt(name), ["v1-token-a", "v2-token-b"]);
      await dns.setTxt(name, ["v3-token-c"], 30);
      assert.deepEqual(await dns.listTxt(name), ["v3-token-c"]);
      await dns.setTxt(name, ["v3-token-c", "v4-token-d"], 30);
      await dns.removeTxt(name, ["v3-token-c", "not-there"]);
      assert.deepEqual(await dns.listTxt(name), ["v4-token-d"]);
      await dns.removeTxt(name, ["v4-token-d"]);
      await dns.removeTxt(name, ["v4-token-d"]);
      assert.deepEqual(await dns.listTxt(name), []);
      assert.deepEqual(await dns.listMembers(FQDN), nodes.slice(0, 1));
      await assert.rejects(dns.setTxt(name, ['say "hi"'], 60), /values\[0\] = "say \\"hi\\"": use 1 to 255 printable ASCII/);
    });
  });
}

const fake = new FakeDigitalOcean();
let baseUrl = "";
before(async () => {
  baseUrl = await fake.start();
  fake.domains.set("example.com", []);
});
after(() => fake.stop());
contract(
  "DigitalOcean (fake API)",
  () =>
    new DigitalOceanDns({
      domain: "example.com",
      baseUrl,
      env: { DIGITALOCEAN_TOKEN: FAKE_TOKEN },
      nodeAddresses: Object.fromEntries(nodes.map((n) => [n.name, n.address])),
    }),
);

const r53client = new Route53Client({ region: "us-east-1", credentials: { accessKeyId: "AKIATEST", secretAccessKey: "test" } });
route53Zone(r53client);
contract(
  "Route 53 (in-memory zone)",
  () => new Route53Dns({ hostedZoneId: "Z0123456789ABCDEFGHIJ", client: r53client, healthCheckIds: { "child-1": "hc-1" } }),
);
