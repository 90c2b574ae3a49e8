import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  ListResourceRecordSetsCommand,
  type ResourceRecordSet,
  Route53Client,
} from "@aws-sdk/client-route-53";
import { mockClient } from "aws-sdk-client-mock";
import fc from "fast-check";
import { UserError } from "../../model/errors";
import { decodeRoute53Name, memberRecord, planAddMember, planRemoveMember, planSetMembers, Route53Dns } from "./route53";

const ZONE = "Z0123456789ABCDEFGHIJ";
const client = new Route53Client({ region: "us-east-1", credentials: { accessKeyId: "AKIATEST", secretAccessKey: "test" } });
const r53 = mockClient(client);

const mv = (id: string, address: string, ttl = 60, hc?: string): ResourceRecordSet => ({
  Name: "www.example.com.",
  Type: "A",
  SetIdentifier: id,
  MultiValueAnswer: true,
  TTL: ttl,
  ResourceRecords: [{ Value: address }],
  ...(hc ? { HealthCheckId: hc } : {}),
});

/** The zone's listing as Route 53 returns it when it starts at www.example.com A: our records, then the next name. */
function zoneHolds(...records: ResourceRecordSet[]) {
  r53.on(ListResourceRecordSetsCommand).resolves({
    ResourceRecordSets: [...records, { Name: "xyz.example.com.", Type: "A", TTL: 300, ResourceRecords: [{ Value: "192.0.2.99" }] }],
    IsTruncated: false,
    MaxItems: 100,
  });
}

const batches = () => r53.commandCalls(ChangeResourceRecordSetsCommand).map((c) => c.args[0].input);
const dns = (extra: Partial<ConstructorParameters<typeof Route53Dns>[0]> = {}) =>
  new Route53Dns({ hostedZoneId: `/hostedzone/${ZONE}`, client, healthCheckIds: { "child-2": "hc-2", "child-3": "hc-3" }, ...extra });

describe("Route 53 DNS adapter (aws-sdk-client-mock)", () => {
  beforeEach(() => {
    r53.reset();
    r53.on(ChangeResourceRecordSetsCommand).resolves({ ChangeInfo: { Id: "/change/C1", Status: "PENDING", SubmittedAt: new Date() } });
  });

  it("lists the multivalue members of the name across pages, stopping at the next name", async () => {
    r53
      .on(ListResourceRecordSetsCommand, { HostedZoneId: ZONE, StartRecordName: "www.example.com.", StartRecordType: "A" }, true)
      .resolves({
        ResourceRecordSets: [mv("child-2", "203.0.113.20"), mv("child-1", "203.0.113.3")],
        IsTruncated: true,
        NextRecordName: "www.example.com.",
        NextRecordType: "A",
        NextRecordIdentifier: "child-3",
        MaxItems: 2,
      })
      .on(ListResourceRecordSetsCommand, { StartRecordIdentifier: "child-3" })
      .resolves({
        ResourceRecordSets: [
          mv("child-3", "203.0.113.100"),
          { Name: "xyz.example.com.", Type: "A", TTL: 60, ResourceRecords: [{ Value: "192.0.2.1" }] },
        ],
        IsTruncated: false,
        MaxItems: 2,
      });
    assert.deepEqual(await dns().listMembers("WWW.example.com"), [
      { name: "child-1", address: "203.0.113.3" },
      { name: "child-2", address: "203.0.113.20" },
      { name: "child-3", address: "203.0.113.100" },
    ]);
    assert.deepEqual(
      r53.commandCalls(ListResourceRecordSetsCommand).map((c) => c.args[0].input),
      [
        { HostedZoneId: ZONE, StartRecordName: "www.example.com.", StartRecordType: "A" },
        { HostedZoneId: ZONE, StartRecordName: "www.example.com.", StartRecordType: "A", StartRecordIdentifier: "child-3" },
      ],
    );
  });

  it("setMembers sends one exact batch: UPSERT changed and new members with their health checks, DELETE the rest as listed", async () => {
    zoneHolds(mv("child-1", "203.0.113.1", 60, "hc-1"), mv("child-2", "203.0.113.2", 60));
    await dns().setMembers(
      "www.example.com",
      [
        { name: "child-2", address: "203.0.113.2" },
        { name: "child-3", address: "203.0.113.3" },
      ],
      60,
    );
    assert.deepEqual(batches(), [
      {
        HostedZoneId: ZONE,
        ChangeBatch: {
          Comment: "django-ha: set members of www.example.com",
          Changes: [
            { Action: "UPSERT", ResourceRecordSet: mv("child-2", "203.0.113.2", 60, "hc-2") },
            { Action: "UPSERT", ResourceRecordSet: mv("child-3", "203.0.113.3", 60, "hc-3") },
            { Action: "DELETE", ResourceRecordSet: mv("child-1", "203.0.113.1", 60, "hc-1") },
          ],
        },
      },
    ]);
    assert.equal(r53.commandCalls(GetChangeCommand).length, 0, "no INSYNC wait unless asked");
  });

  it("setMembers sends nothing when the record already matches, and changes only the TTL when only the TTL differs", async () => {
    zoneHolds(mv("child-2", "203.0.113.2", 60, "hc-2"), mv("child-3", "203.0.113.3", 60, "hc-3"));
    const members = [
      { name: "child-3", address: "203.0.113.3" },
      { name: "child-2", address: "203.0.113.2" },
    ];
    await dns().setMembers("www.example.com", members, 60);
    assert.deepEqual(batches(), []);
    await dns().setMembers("www.example.com", members, 30);
    assert.deepEqual(batches()[0]?.ChangeBatch?.Changes, [
      { Action: "UPSERT", ResourceRecordSet: mv("child-3", "203.0.113.3", 30, "hc-3") },
      { Action: "UPSERT", ResourceRecordSet: mv("child-2", "203.0.113.2", 30, "hc-2") },
    ]);
  });

  it("replaces a plain A record of the name in the same batch, deleting it first", async () => {
    const plain: ResourceRecordSet = {
      Name: "www.example.com.",
      Type: "A",
      TTL: 300,
      ResourceRecords: [{ Value: "203.0.113.1" }, { Value: "203.0.113.2" }],
    };
    zoneHolds(plain);
    await dns({ healthCheckIds: {} }).setMembers("www.example.com", [{ name: "child-2", address: "203.0.113.2" }], 60);
    assert.deepEqual(batches()[0]?.ChangeBatch?.Changes, [
      { Action: "DELETE", ResourceRecordSet: plain },
      { Action: "UPSERT", ResourceRecordSet: mv("child-2", "203.0.113.2", 60) },
    ]);
    r53.resetHistory();
    await dns({ healthCheckIds: {} }).addMember("www.example.com", { name: "child-3", address: "203.0.113.3" }, 60);
    assert.deepEqual(batches()[0]?.ChangeBatch?.Changes, [
      { Action: "DELETE", ResourceRecordSet: plain },
      { Action: "UPSERT", ResourceRecordSet: mv("203.0.113.1", "203.0.113.1", 60) },
      { Action: "UPSERT", ResourceRecordSet: mv("203.0.113.2", "203.0.113.2", 60) },
      { Action: "UPSERT", ResourceRecordSet: mv("child-3", "203.0.113.3", 60) },
    ]);
  });

  it("addMember upserts one record, or nothing when the member is already there", async () => {
    zoneHolds(mv("child-2", "203.0.113.2", 60, "hc-2"));
    await dns().addMember("www.example.com", { name: "child-2", address: "203.0.113.2" }, 60);
    assert.deepEqual(batches(), []);
    await dns().addMember("www.example.com", { name: "child-3", address: "203.0.113.3" }, 60);
    assert.deepEqual(batches()[0]?.ChangeBatch, {
      Comment: "django-ha: add child-3 of www.example.com",
      Changes: [{ Action: "UPSERT", ResourceRecordSet: mv("child-3", "203.0.113.3", 60, "hc-3") }],
    });
  });

  it("removeMember deletes the member's record exactly as listed, or nothing when absent", async () => {
    zoneHolds(mv("child-1", "203.0.113.1", 60, "hc-1"), mv("child-2", "203.0.113.2", 60, "hc-2"));
    await dns().removeMember("www.example.com", { name: "child-9", address: "203.0.113.9" });
    assert.deepEqual(batches(), []);
    await dns().removeMember("www.example.com", { name: "child-1", address: "203.0.113.1" });
    assert.deepEqual(batches()[0]?.ChangeBatch?.Changes, [
      { Action: "DELETE", ResourceRecordSet: mv("child-1", "203.0.113.1", 60, "hc-1") },
    ]);
  });

  it("waits for INSYNC when asked, polling GetChange with the change id", async () => {
    zoneHolds();
    r53
      .on(GetChangeCommand)
      .resolvesOnce({ ChangeInfo: { Id: "/change/C1", Status: "PENDING", SubmittedAt: new Date() } })
      .resolves({ ChangeInfo: { Id: "/change/C1", Status: "INSYNC", SubmittedAt: new Date() } });
    await dns({ waitForSync: true }).addMember("www.example.com", { name: "child-3", address: "203.0.113.3" }, 60);
    assert.deepEqual(
      r53.commandCalls(GetChangeCommand).map((c) => c.args[0].input),
      [{ Id: "/change/C1" }, { Id: "/change/C1" }],
    );
  });

  it("refuses records of another routing policy and bad input before any change", async () => {
    zoneHolds({ ...mv("blue", "203.0.113.1"), MultiValueAnswer: undefined, Weight: 10 });
    await assert.rejects(
      dns().setMembers("www.example.com", [{ name: "child-1", address: "203.0.113.1" }], 60),
      (e: unknown) => e instanceof UserError && /another routing policy .*"blue"/.test(e.message),
    );
    r53.resetHistory();
    await assert.rejects(
      dns().addMember("www.example.com", { name: "child-1", address: "not-an-ip" }, 60),
      /members\[0\]\.address = "not-an-ip"/,
    );
    await assert.rejects(dns().setMembers("www.example.com", [{ name: "child-1", address: "203.0.113.1" }], -5), /ttl = -5/);
    assert.equal(r53.calls().length, 0, "nothing was sent to Route 53");
    assert.deepEqual(batches(), []);
    assert.throws(() => new Route53Dns({ hostedZoneId: "example.com", client }), /hostedZoneId = "example.com"/);
  });

  it("decodes Route 53's octal escapes in names", () => {
    assert.equal(decodeRoute53Name("\\052.example.com."), "*.example.com.");
  });
});

describe("Route 53 change planners, property-tested against a model of the zone", () => {
  const names = ["child-1", "child-2", "child-3", "child-4"];
  const addresses = ["203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4", "198.51.100.5"];
  const hcs = { "child-1": "hc-1", "child-3": "hc-3" };

  /** Applies a batch the way Route 53 does: DELETE must match a record exactly, UPSERT replaces by set identifier. */
  function applyBatch(zone: ResourceRecordSet[], changes: ReturnType<typeof planSetMembers>): ResourceRecordSet[] {
    const next = new Map(zone.map((r) => [r.SetIdentifier ?? "", r]));
    for (const c of changes) {
      const r = c.ResourceRecordSet!;
      const key = r.SetIdentifier ?? "";
      if (c.Action === "DELETE") {
        assert.deepEqual(next.get(key), r, "DELETE must name the record exactly as it is");
        next.delete(key);
      } else next.set(key, r);
    }
    const result = [...next.values()];
    assert.ok(
      !(result.some((r) => r.SetIdentifier === undefined) && result.some((r) => r.MultiValueAnswer)),
      "no plain record beside multivalue ones",
    );
    return result;
  }

  const zoneArb = fc.oneof(
    fc
      .uniqueArray(
        fc.record({
          name: fc.constantFrom(...names),
          address: fc.constantFrom(...addresses),
          ttl: fc.constantFrom(30, 60),
          hc: fc.boolean(),
        }),
        { selector: (m) => m.name, maxLength: 4 },
      )
      .map((ms) => ms.map((m) => mv(m.name, m.address, m.ttl, m.hc ? `hc-${m.name}` : undefined))),
    fc
      .uniqueArray(fc.constantFrom(...addresses), { minLength: 1, maxLength: 3 })
      .map((values): ResourceRecordSet[] => [
        { Name: "www.example.com.", Type: "A", TTL: 300, ResourceRecords: values.map((Value) => ({ Value })) },
      ]),
  );
  const membersArb = fc.shuffledSubarray([0, 1, 2, 3]).map((ix) => ix.map((i) => ({ name: names[i], address: addresses[i] })));
  const addressesOf = (zone: ResourceRecordSet[]) => zone.flatMap((r) => (r.ResourceRecords ?? []).map((v) => v.Value)).sort();

  it("planSetMembers reaches exactly the wanted members, and planning again yields nothing", () => {
    fc.assert(
      fc.property(zoneArb, membersArb, fc.constantFrom(30, 60), (zone, members, ttl) => {
        const after = applyBatch(zone, planSetMembers("www.example.com", zone, members, ttl, hcs));
        const want = members.map((m) => memberRecord("www.example.com", m, ttl, hcs[m.name as keyof typeof hcs]));
        assert.deepEqual(
          [...after].sort((a, b) => a.SetIdentifier!.localeCompare(b.SetIdentifier!)),
          [...want].sort((a, b) => a.SetIdentifier!.localeCompare(b.SetIdentifier!)),
        );
        assert.deepEqual(planSetMembers("www.example.com", after, members, ttl, hcs), []);
      }),
      { numRuns: 300 },
    );
  });

  it("planAddMember keeps every address already answered and adds the member; planRemoveMember drops only it", () => {
    fc.assert(
      fc.property(zoneArb, fc.integer({ min: 0, max: 3 }), (zone, i) => {
        const member = { name: names[i], address: addresses[i] };
        const added = applyBatch(zone, planAddMember("www.example.com", zone, member, 60, hcs[member.name as keyof typeof hcs]));
        const stillThere = zone
          .filter((r) => r.SetIdentifier !== member.name)
          .flatMap((r) => (r.ResourceRecords ?? []).map((v) => v.Value));
        for (const a of stillThere) assert.ok(addressesOf(added).includes(a), `${a} was lost`);
        assert.ok(added.some((r) => r.SetIdentifier === member.name && r.ResourceRecords?.[0].Value === member.address));
        assert.deepEqual(planAddMember("www.example.com", added, member, 60, hcs[member.name as keyof typeof hcs]), []);

        const removed = applyBatch(added, planRemoveMember("www.example.com", added, member));
        assert.ok(!addressesOf(removed).includes(member.address) && !removed.some((r) => r.SetIdentifier === member.name));
        assert.deepEqual(
          addressesOf(removed),
          addressesOf(added).filter((a) => a !== member.address),
        );
      }),
      { numRuns: 300 },
    );
  });
});
