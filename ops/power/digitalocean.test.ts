import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { UserError } from "../../model/errors";
import { FAKE_TOKEN, FakeDigitalOcean } from "../../test/fake-digitalocean";
import { DigitalOceanPower } from "./digitalocean";

describe("DigitalOcean power adapter against a fake API on 127.0.0.1", () => {
  let fake: FakeDigitalOcean;
  let baseUrl: string;
  let sleeps: number[];
  const power = (extra: Partial<ConstructorParameters<typeof DigitalOceanPower>[0]> = {}) =>
    new DigitalOceanPower({
      droplets: { parent: 101, standby: "102" },
      baseUrl,
      env: { DIGITALOCEAN_TOKEN: FAKE_TOKEN },
      sleep: async (ms) => void sleeps.push(ms),
      pollIntervalMs: 50,
      ...extra,
    });

  before(async () => {
    fake = new FakeDigitalOcean();
    baseUrl = await fake.start();
  });
  after(() => fake.stop());
  beforeEach(() => {
    fake.log.length = 0;
    fake.actions.clear();
    fake.failActionType = undefined;
    fake.actionPolls = 2;
    fake.droplets.set(101, { id: 101, name: "parent", status: "active" });
    fake.droplets.set(102, { id: 102, name: "standby", status: "off" });
    sleeps = [];
  });

  it("fences with a hard power_off and resolves only once the action completed", async () => {
    assert.equal(await power().isRunning("parent"), true);
    await power().fence("parent");
    assert.deepEqual(
      fake.log.map((r) => `${r.method} ${r.path}${r.body ? ` ${JSON.stringify(r.body)}` : ""}`),
      [
        "GET /v2/droplets/101",
        "GET /v2/droplets/101",
        'POST /v2/droplets/101/actions {"type":"power_off"}',
        `GET /v2/actions/${[...fake.actions.keys()][0]}`,
        `GET /v2/actions/${[...fake.actions.keys()][0]}`,
      ],
    );
    assert.deepEqual(sleeps, [50, 50]);
    assert.equal(fake.droplets.get(101)?.status, "off");
    assert.equal(await power().isRunning("parent"), false);
  });

  it("fence of an off droplet and start of an active one send no action", async () => {
    await power().fence("standby");
    await power().start("parent");
    assert.deepEqual(fake.writes(), []);
  });

  it("starts with power_on and waits for it", async () => {
    await power().start("standby");
    assert.deepEqual(fake.writes(), ['POST /v2/droplets/102/actions {"type":"power_on"}']);
    assert.equal(fake.droplets.get(102)?.status, "active");
  });

  it("waits for another pending action on the droplet (422 pending event) before powering off", async () => {
    fake.actions.set(1, { id: 1, dropletId: 101, type: "shutdown", status: "in-progress", pollsLeft: 99 });
    const finishBlocker = async (ms: number) => {
      sleeps.push(ms);
      fake.actions.get(1)!.status = "completed";
    };
    await power({ sleep: finishBlocker }).fence("parent");
    assert.deepEqual(fake.writes(), [
      'POST /v2/droplets/101/actions {"type":"power_off"}',
      'POST /v2/droplets/101/actions {"type":"power_off"}',
    ]);
    assert.equal(fake.droplets.get(101)?.status, "off");
  });

  it("reports an errored action and a timeout with the next step", async () => {
    fake.failActionType = "power_off";
    await assert.rejects(
      power().fence("parent"),
      (e: unknown) => e instanceof UserError && /power_off of parent \(droplet 101, action \d+\) ended errored/.test(e.message),
    );
    fake.actions.clear();
    fake.actionPolls = 1_000_000;
    await assert.rejects(power({ timeoutMs: 0 }).fence("parent"), /did not complete within 0 s; check the droplet/);
  });

  it("refuses unknown nodes and bad ids before any request", async () => {
    await assert.rejects(
      power().fence("child-1"),
      (e: unknown) => e instanceof UserError && /does not know node "child-1"; known nodes: parent, standby/.test(e.message),
    );
    assert.deepEqual(fake.log, []);
    assert.throws(() => power({ droplets: { parent: "droplet-1" } }), /parent = "droplet-1": not a valid id/);
    assert.throws(() => power({ droplets: {} }), /empty map/);
  });
});
