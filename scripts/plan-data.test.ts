import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { hostsConfig } from "../test/configs";
import { planConfig, renderPlan } from "./plan";

/** The offline plan says where each database node's data lives, and plainly when that is the root disk. */
describe("plan: where the data lives", () => {
  it("hosts without dataDevices: ROOT DISK in the node table and a note on what a machine replacement loses", async () => {
    const text = renderPlan(await planConfig(hostsConfig(2), "test"), { tree: false });
    assert.match(text, /shop-parent\s+parent\s+existing\s+a\s+ROOT DISK \(no dataDevices\)/);
    assert.match(text, /shop-standby\s+standby\s+existing\s+b\s+ROOT DISK \(no dataDevices\)/);
    assert.match(text, /The data stays on the root disks: PostgreSQL \(\/var\/lib\/postgresql\) and the share \(\/srv\/share\) of shop-parent and shop-standby.*Reinstalling or replacing one of those machines loses its copy.*django-ha:hosts\.parent\.dataDevices/);
  });

  it("hosts with dataDevices: the devices, and no root-disk note", async () => {
    const c = hostsConfig(2);
    const h = structuredClone(c.hosts) as Record<string, Record<string, unknown>>;
    h.parent.dataDevices = { db: "/dev/disk/by-id/scsi-0A-db", share: "/dev/disk/by-id/scsi-0A-share" };
    h.standby.dataDevices = { db: "/dev/disk/by-id/scsi-0B-db", share: "/dev/disk/by-id/scsi-0B-share" };
    const text = renderPlan(await planConfig({ ...c, hosts: h }, "test"), { tree: false });
    assert.match(text, /shop-parent\s+parent\s+existing\s+a\s+db \/dev\/disk\/by-id\/scsi-0A-db, share \/dev\/disk\/by-id\/scsi-0A-share/);
    assert.doesNotMatch(text, /ROOT DISK|data stays on the root disks/);
  });
});
