import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { hostsConfig } from "../test/configs";
import { ConfigError, dataDeviceProblem, digitalOceanVolumeDevice, ebsVolumeDevice, hostsInventory, parseClusterSpec } from ".";
import { parseHostsSpec } from "../test/hosts-spec";

const DB = "/dev/disk/by-id/scsi-0QEMU_QEMU_HARDDISK_drive-db";
const SHARE = "/dev/disk/by-id/scsi-0QEMU_QEMU_HARDDISK_drive-share";

/** hostsConfig with dataDevices set per machine (databases[0] = db1, databases[1] = db2, the worker, children[0]). */
function withDevices(devices: Partial<Record<"db1" | "db2" | "worker" | "child", unknown>>): Record<string, unknown> {
  const c = hostsConfig(2);
  const h = structuredClone(c.hosts) as {
    databases: Record<string, unknown>[];
    children: Record<string, unknown>[];
    worker: Record<string, unknown>;
  };
  const entry = { db1: h.databases[0], db2: h.databases[1], worker: h.worker, child: h.children[0] };
  for (const [machine, d] of Object.entries(devices)) entry[machine as keyof typeof entry].dataDevices = d;
  return { ...c, hosts: h };
}

function issuesOf(config: Record<string, unknown>): { key: string; value: string; fix: string }[] {
  try {
    parseClusterSpec(config);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.issues;
  }
  return [];
}

describe("stable device paths of the data volumes", () => {
  it("DigitalOcean: the SCSI by-id name carrying the volume name", () => {
    assert.equal(digitalOceanVolumeDevice("shop-db-1-db"), "/dev/disk/by-id/scsi-0DO_Volume_shop-db-1-db");
    assert.throws(() => digitalOceanVolumeDevice("Shop parent"), /not lower-case/);
  });

  it("AWS: the NVMe by-id name carrying the EBS volume id without its dash (never /dev/sdf)", () => {
    assert.equal(ebsVolumeDevice("vol-0abc1234def567890"), "/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0abc1234def567890");
    assert.throws(() => ebsVolumeDevice("/dev/sdf"), /not of the form vol-/);
  });

  it("accepts udev's stable names and device-mapper names, refuses kernel names with the way to find the stable one", () => {
    for (const ok of [
      DB,
      "/dev/disk/by-uuid/3c7bc6b7-9307-4f7a-852e-3071c5450aab",
      "/dev/disk/by-label/pgdata",
      "/dev/disk/by-path/pci-0000:00:05.0-scsi-0:0:1:0",
      "/dev/mapper/vg0-pgdata",
    ]) {
      assert.equal(dataDeviceProblem(ok), undefined, ok);
    }
    for (const kernel of ["/dev/sdb", "/dev/nvme1n1", "/dev/vdb", "/dev/xvdf", "/dev/sdb1", "/dev/dm-0", "/dev/md0"]) {
      assert.match(dataDeviceProblem(kernel) ?? "", /kernel device name.*ls -l \/dev\/disk\/by-id\//, kernel);
    }
    for (const junk of [
      "sdb",
      "/dev/disk/by-id/",
      "/dev/disk/by-id/x y",
      "/dev/disk/by-id/../sda",
      "/etc/passwd",
      "/dev/disk/by-id/a;reboot",
    ]) {
      assert.notEqual(dataDeviceProblem(junk), undefined, junk);
    }
  });
});

describe("hosts: django-ha:hosts.databases[i].dataDevices", () => {
  it("carries each database machine's devices into the inventory, whichever is the primary; other nodes have none", () => {
    const config = withDevices({
      db1: { db: DB, share: SHARE },
      db2: { db: "/dev/disk/by-label/pgdata", share: "/dev/disk/by-label/share" },
    });
    for (const primary of ["shop-db-1", "shop-db-2"]) {
      const inv = hostsInventory(parseHostsSpec({ ...config, primary }));
      const byName = (name: string) => inv.nodes.find((n) => n.name === name)!;
      assert.deepEqual(byName("shop-db-1").dataDevices, { db: DB, share: SHARE });
      assert.deepEqual(byName("shop-db-2").dataDevices, { db: "/dev/disk/by-label/pgdata", share: "/dev/disk/by-label/share" });
    }
    const inv = hostsInventory(parseHostsSpec(config));
    const byRole = (role: string) => inv.nodes.find((n) => n.role === role)!;
    assert.equal(byRole("child").dataDevices, undefined);
    assert.equal(byRole("worker").dataDevices, undefined);
  });

  it("is optional: without it no node has data devices (the plan says the data stays on the root disk)", () => {
    assert.ok(hostsInventory(parseHostsSpec(hostsConfig(2))).nodes.every((n) => n.dataDevices === undefined));
  });

  it("refuses a kernel name, naming key, value and fix", () => {
    const issues = issuesOf(withDevices({ db1: { db: "/dev/sdb", share: SHARE }, db2: { db: DB, share: "/dev/nvme2n1" } }));
    assert.deepEqual(
      issues.map((i) => [i.key, i.value]),
      [
        ["django-ha:hosts.databases[0].dataDevices.db", '"/dev/sdb"'],
        ["django-ha:hosts.databases[1].dataDevices.share", '"/dev/nvme2n1"'],
      ],
    );
    assert.match(issues[0].fix, /kernel device name.*stable path.*ls -l \/dev\/disk\/by-id\/ \| grep -w sdb/);
  });

  it("refuses dataDevices on a child or the worker", () => {
    const issues = issuesOf(
      withDevices({
        db1: { db: DB, share: SHARE },
        db2: { db: DB, share: SHARE },
        worker: { db: DB, share: SHARE },
        child: { db: DB, share: SHARE },
      }),
    );
    assert.deepEqual(issues.map((i) => i.key).sort(), ["django-ha:hosts.children[0].dataDevices", "django-ha:hosts.worker.dataDevices"]);
    for (const i of issues) assert.match(i.fix, /only the database machines \(django-ha:hosts.databases\) hold data.*remove dataDevices/);
  });

  it("refuses one device for both the database and the share", () => {
    const issues = issuesOf(withDevices({ db1: { db: DB, share: DB }, db2: { db: DB, share: SHARE } }));
    assert.deepEqual(
      issues.map((i) => [i.key, i.value]),
      [["django-ha:hosts.databases[0].dataDevices.share", JSON.stringify(DB)]],
    );
    assert.match(issues[0].fix, /is also django-ha:hosts\.databases\[0\]\.dataDevices\.db.*a device each/);
  });

  it("needs both database machines or neither (a failover must not move the data onto a root disk)", () => {
    const issues = issuesOf(withDevices({ db1: { db: DB, share: SHARE } }));
    assert.deepEqual(
      issues.map((i) => [i.key, i.value]),
      [["django-ha:hosts.databases[1].dataDevices", "(not set)"]],
    );
    assert.match(issues[0].fix, /while django-ha:hosts.databases\[0\] has data devices; give both database machines their volumes/);
    assert.deepEqual(
      issuesOf(withDevices({ db2: { db: DB, share: SHARE } })).map((i) => i.key),
      ["django-ha:hosts.databases[0].dataDevices"],
    );
  });

  it("refuses a missing or unknown key inside dataDevices", () => {
    const issues = issuesOf(withDevices({ db1: { db: DB }, db2: { db: DB, share: SHARE, wal: SHARE } }));
    assert.deepEqual(issues.map((i) => i.key).sort(), [
      "django-ha:hosts.databases[0].dataDevices.share",
      "django-ha:hosts.databases[1].dataDevices.wal",
    ]);
  });
});
