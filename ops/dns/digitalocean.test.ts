import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import fc from "fast-check";
import { UserError } from "../../model/errors";
import { DigitalOceanApiError, retryDelayMs } from "../digitalocean/api";
import { FAKE_RETRY_AFTER_SECONDS, FAKE_TOKEN, FakeDigitalOcean } from "../../test/fake-digitalocean";
import { DigitalOceanDns, relativeRecordName } from "./digitalocean";

describe("DigitalOcean DNS adapter against a fake API on 127.0.0.1", () => {
  let fake: FakeDigitalOcean;
  let baseUrl: string;
  let sleeps: number[];
  const env = { DIGITALOCEAN_TOKEN: FAKE_TOKEN };
  const dns = (extra: Partial<ConstructorParameters<typeof DigitalOceanDns>[0]> = {}) =>
    new DigitalOceanDns({ domain: "example.com", baseUrl, env, sleep: async (ms) => void sleeps.push(ms), ...extra });

  before(async () => {
    fake = new FakeDigitalOcean();
    baseUrl = await fake.start();
  });
  after(() => fake.stop());
  beforeEach(() => {
    fake.domains.clear();
    fake.log.length = 0;
    fake.rateLimitNext = 0;
    fake.serverErrorNext = 0;
    fake.serverErrorMethod = undefined;
    fake.maxPerPage = 200;
    fake.domains.set("example.com", []);
    sleeps = [];
  });

  it("lists the A records of one name across pages, sorted by address, named from the node map", async () => {
    fake.maxPerPage = 2;
    fake.addRecord("example.com", "www", "203.0.113.20", 30);
    fake.addRecord("example.com", "www", "203.0.113.3", 30);
    fake.addRecord("example.com", "www", "old.example.net", 30, "CNAME");
    fake.addRecord("example.com", "api", "203.0.113.9", 30);
    fake.addRecord("example.com", "www", "203.0.113.100", 30);
    const members = await dns({ nodeAddresses: { "child-1": "203.0.113.3", "child-2": "203.0.113.20" } }).listMembers("www.example.com");
    assert.deepEqual(members, [
      { name: "child-1", address: "203.0.113.3" },
      { name: "child-2", address: "203.0.113.20" },
      { name: "203.0.113.100", address: "203.0.113.100" },
    ]);
    assert.deepEqual(
      fake.log.map((r) => [r.method, r.path, r.query.type, r.query.name, r.query.page]),
      [
        ["GET", "/v2/domains/example.com/records", "A", "www.example.com", "1"],
        ["GET", "/v2/domains/example.com/records", "A", "www.example.com", "2"],
      ],
    );
  });

  it("setMembers aligns every record to the one TTL, then adds, then removes (never empty)", async () => {
    const a = fake.addRecord("example.com", "www", "203.0.113.1", 300);
    const b = fake.addRecord("example.com", "www", "203.0.113.2", 300);
    await dns().setMembers(
      "www.example.com",
      [
        { name: "child-2", address: "203.0.113.2" },
        { name: "child-3", address: "203.0.113.3" },
      ],
      30,
    );
    assert.deepEqual(fake.writes(), [
      `PATCH /v2/domains/example.com/records/${a.id} {"type":"A","ttl":30}`,
      `PATCH /v2/domains/example.com/records/${b.id} {"type":"A","ttl":30}`,
      `POST /v2/domains/example.com/records {"type":"A","name":"www","data":"203.0.113.3","ttl":30}`,
      `DELETE /v2/domains/example.com/records/${a.id}`,
    ]);
    assert.deepEqual(
      fake.records("example.com", "www").map((r) => [r.data, r.ttl]),
      [
        ["203.0.113.2", 30],
        ["203.0.113.3", 30],
      ],
    );

    fake.log.length = 0;
    await dns().setMembers(
      "www.example.com",
      [
        { name: "child-3", address: "203.0.113.3" },
        { name: "child-2", address: "203.0.113.2" },
      ],
      30,
    );
    assert.deepEqual(fake.writes(), [], "a second identical setMembers changes nothing");
  });

  it("setMembers removes duplicate records of one address and works on the apex as @", async () => {
    const first = fake.addRecord("example.com", "@", "198.51.100.7", 60);
    const dup = fake.addRecord("example.com", "@", "198.51.100.7", 60);
    await dns().setMembers("example.com.", [{ name: "child-1", address: "198.51.100.7" }], 60);
    assert.deepEqual(fake.writes(), [`DELETE /v2/domains/example.com/records/${dup.id}`]);
    assert.deepEqual(
      fake.records("example.com", "@").map((r) => r.id),
      [first.id],
    );
  });

  it("addMember is a no-op when present, aligns the TTL then creates when absent", async () => {
    const a = fake.addRecord("example.com", "www", "203.0.113.1", 60);
    await dns().addMember("www.example.com", { name: "child-1", address: "203.0.113.1" }, 60);
    assert.deepEqual(fake.writes(), []);
    await dns().addMember("www.example.com", { name: "child-2", address: "203.0.113.2" }, 30);
    assert.deepEqual(fake.writes(), [
      `PATCH /v2/domains/example.com/records/${a.id} {"type":"A","ttl":30}`,
      `POST /v2/domains/example.com/records {"type":"A","name":"www","data":"203.0.113.2","ttl":30}`,
    ]);
  });

  it("removeMember deletes the member's record and is a no-op when absent", async () => {
    fake.addRecord("example.com", "www", "203.0.113.1", 30);
    const b = fake.addRecord("example.com", "www", "203.0.113.2", 30);
    await dns().removeMember("www.example.com", { name: "child-9", address: "203.0.113.9" });
    assert.deepEqual(fake.writes(), []);
    await dns().removeMember("www.example.com", { name: "child-2", address: "203.0.113.2" });
    assert.deepEqual(fake.writes(), [`DELETE /v2/domains/example.com/records/${b.id}`]);
    assert.deepEqual(
      fake.records("example.com", "www").map((r) => r.data),
      ["203.0.113.1"],
    );
  });

  it("retries on 429 after Retry-After, and gives up after maxRetries with the status in the error", async () => {
    fake.addRecord("example.com", "www", "203.0.113.1", 30);
    fake.rateLimitNext = 2;
    assert.equal((await dns().listMembers("www.example.com")).length, 1);
    assert.deepEqual(sleeps, [FAKE_RETRY_AFTER_SECONDS * 1000, FAKE_RETRY_AFTER_SECONDS * 1000]);
    fake.rateLimitNext = 10;
    await assert.rejects(dns({ maxRetries: 3 }).listMembers("www.example.com"), (e: unknown) => {
      assert.ok(e instanceof DigitalOceanApiError);
      assert.equal(e.status, 429);
      assert.match(e.message, /too_many_requests/);
      return true;
    });
  });

  it("retries reads on 5xx and unreachable APIs, but never repeats a write", async () => {
    fake.addRecord("example.com", "www", "203.0.113.1", 30);
    fake.serverErrorNext = 2;
    assert.equal((await dns().listMembers("www.example.com")).length, 1);
    assert.deepEqual(sleeps, [1000, 2000]);
    fake.serverErrorNext = 1;
    fake.serverErrorMethod = "POST";
    await assert.rejects(
      dns().addMember("www.example.com", { name: "c3", address: "203.0.113.3" }, 30),
      /POST \/domains\/example.com\/records failed: 503/,
    );
    assert.equal(fake.log.filter((r) => r.method === "POST").length, 1, "the failed POST was sent once");
    const unreachable = dns({ baseUrl: "http://127.0.0.1:9", maxRetries: 1 });
    await assert.rejects(
      unreachable.listMembers("www.example.com"),
      (e: unknown) => e instanceof DigitalOceanApiError && e.apiId === "network_error" && /127\.0\.0\.1:9 reachable/.test(e.message),
    );
  });

  it("refuses bad input before any request, naming the key, the value and the fix", async () => {
    const cases: [() => Promise<unknown>, RegExp][] = [
      [() => dns().setMembers("www.example.com", [{ name: "c1", address: "203.0.113.1" }], 10), /ttl = 10: .*≥ 30/],
      [
        () => dns().setMembers("www.example.com", [{ name: "c1", address: "203.0.113.300" }], 30),
        /members\[0\]\.address = "203\.0\.113\.300": not an IPv4/,
      ],
      [
        () =>
          dns().setMembers(
            "www.example.com",
            [
              { name: "c1", address: "203.0.113.1" },
              { name: "c2", address: "203.0.113.1" },
            ],
            30,
          ),
        /members\[1\]\.address .*also used by c1/,
      ],
      [
        () => dns().addMember("www.example.org", { name: "c1", address: "203.0.113.1" }, 30),
        /not inside the DigitalOcean domain "example.com"/,
      ],
      [() => dns({ env: {} }).listMembers("www.example.com"), /DIGITALOCEAN_TOKEN is not set/],
    ];
    for (const [call, message] of cases) await assert.rejects(call, (e: unknown) => e instanceof UserError && message.test(e.message));
    assert.deepEqual(fake.log, [], "no request was sent");
    assert.throws(() => dns({ domain: "not a domain" }), /domain = "not a domain"/);
  });

  it("sends the token only in the Authorization header and never puts it in an error", async () => {
    const wrong = dns({ env: { DIGITALOCEAN_TOKEN: "dop_v1_wrong" } });
    await assert.rejects(wrong.listMembers("www.example.com"), (e: unknown) => {
      assert.ok(e instanceof DigitalOceanApiError);
      assert.equal(e.status, 401);
      assert.doesNotMatch(e.message, /dop_v1/);
      return true;
    });
    fake.domains.delete("example.com");
    await assert.rejects(dns().listMembers("www.example.com"), /404 not_found/);
  });
});

describe("relativeRecordName and retryDelayMs", () => {
  it("makes names relative to the domain, case- and dot-insensitive", () => {
    assert.equal(relativeRecordName("WWW.Example.com.", "example.com"), "www");
    assert.equal(relativeRecordName("a.b.example.com", "example.com."), "a.b");
    assert.equal(relativeRecordName("example.com", "example.com"), "@");
    assert.throws(() => relativeRecordName("wwwexample.com", "example.com"), UserError);
  });

  it("reads Retry-After in seconds or as a date, else backs off", () => {
    const now = Date.parse("2026-11-23T12:00:00Z");
    assert.equal(retryDelayMs(new Headers({ "Retry-After": "3" }), 0, now), 3000);
    assert.equal(retryDelayMs(new Headers({ "Retry-After": "Mon, 23 Nov 2026 12:00:05 GMT" }), 0, now), 5000);
    assert.equal(retryDelayMs(new Headers({ "RateLimit-Reset": String(now / 1000 + 2) }), 0, now), 2000);
    assert.equal(retryDelayMs(new Headers(), 2, now), 4000);
  });
});

describe("DigitalOcean setMembers, property-tested against the fake API", () => {
  it("ends with exactly the wanted members at one TTL, never empties a non-empty record, and is idempotent", async () => {
    const fake = new FakeDigitalOcean();
    const baseUrl = await fake.start();
    const pool = ["203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4", "198.51.100.9"];
    const dns = new DigitalOceanDns({ domain: "example.com", baseUrl, env: { DIGITALOCEAN_TOKEN: FAKE_TOKEN }, sleep: async () => {} });
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.constantFrom(...pool), { maxLength: 6 }),
          fc.constantFrom(30, 60, 300),
          fc.subarray(pool),
          fc.constantFrom(30, 60, 3600),
          async (existing, existingTtl, wanted, ttl) => {
            fake.domains.set("example.com", []);
            fake.addRecord("example.com", "api", "192.0.2.1", 300);
            for (const address of existing) fake.addRecord("example.com", "www", address, existingTtl);
            let emptied = false;
            fake.afterRecordWrite = () => (emptied ||= fake.records("example.com", "www").length === 0);
            const members = wanted.map((address, i) => ({ name: `child-${i + 1}`, address }));
            await dns.setMembers("www.example.com", members, ttl);
            const www = fake.records("example.com", "www");
            assert.deepEqual(www.map((r) => r.data).sort(), [...wanted].sort());
            assert.ok(www.every((r) => r.ttl === ttl));
            assert.equal(emptied, existing.length > 0 && wanted.length === 0, "emptied only when asked for no members");
            assert.deepEqual(
              fake.records("example.com", "api").map((r) => r.data),
              ["192.0.2.1"],
              "other names untouched",
            );
            fake.log.length = 0;
            await dns.setMembers("www.example.com", members, ttl);
            assert.deepEqual(fake.writes(), []);
          },
        ),
        { numRuns: 60 },
      );
    } finally {
      await fake.stop();
    }
  });
});
