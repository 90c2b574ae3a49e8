import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { hostsConfig } from "../test/configs";
import { planConfig, renderPlan } from "./plan";

/** The offline plan says where each database node's data lives, and plainly when that is the root disk. */
describe("plan: where the data lives", () => {
  it("hosts without dataDevices: ROOT DISK in the node table and a note on what a machine replacement loses", async () => {
    const text = renderPlan(await planConfig(hostsConfig(2), "test"), { tree: false });
    assert.match(text, /shop-db-1\s+parent\s+existing\s+a\s+ROOT DISK \(no dataDevices\)/);
    assert.match(text, /shop-db-2\s+standby\s+existing\s+b\s+ROOT DISK \(no dataDevices\)/);
    assert.match(
      text,
      /The data stays on the root disks: PostgreSQL \(\/var\/lib\/postgresql\) and the share \(\/srv\/share\) of shop-db-1 and shop-db-2.*Reinstalling or replacing one of those machines loses its copy.*set dataDevices on both entries of django-ha:hosts\.databases/,
    );
  });

  it("says which database machine is the primary, and gives it the parent role", async () => {
    const first = renderPlan(await planConfig(hostsConfig(2), "test"), { tree: false });
    assert.match(first, /^primary shop-db-1 {2}standby shop-db-2 {2}\(django-ha:primary/m);
    const second = renderPlan(await planConfig(hostsConfig(2, { primary: "shop-db-2" }), "test"), { tree: false });
    assert.match(second, /^primary shop-db-2 {2}standby shop-db-1 {2}\(django-ha:primary/m);
    assert.match(second, /shop-db-1\s+standby\s+existing\s+a\s/);
    assert.match(second, /shop-db-2\s+parent\s+existing\s+b\s/);
  });

  it("hosts with dataDevices: the devices, and no root-disk note", async () => {
    const c = hostsConfig(2);
    const h = structuredClone(c.hosts) as { databases: Record<string, unknown>[] };
    h.databases[0].dataDevices = { db: "/dev/disk/by-id/scsi-0A-db", share: "/dev/disk/by-id/scsi-0A-share" };
    h.databases[1].dataDevices = { db: "/dev/disk/by-id/scsi-0B-db", share: "/dev/disk/by-id/scsi-0B-share" };
    const text = renderPlan(await planConfig({ ...c, hosts: h }, "test"), { tree: false });
    assert.match(text, /shop-db-1\s+parent\s+existing\s+a\s+db \/dev\/disk\/by-id\/scsi-0A-db, share \/dev\/disk\/by-id\/scsi-0A-share/);
    assert.doesNotMatch(text, /ROOT DISK|data stays on the root disks/);
  });
});
