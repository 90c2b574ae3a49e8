import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { hostsInventory, withPrimary, type InventoryNode } from "../model";
import { POSTGRES_MAJOR } from "../model/debian";
import { currentKind, labMachines, nodeMounts, volumesFor, wantedPackages } from "./plan";
import { labVolumes, parseLoops } from "./volumes";
import { hostsStackSpec } from "../test/hosts-spec";

const node = (name: string, address: string, role: InventoryNode["role"] = "child"): InventoryNode => ({
  name,
  role,
  publicAddress: address,
  privateAddress: address,
  zone: "a",
});

describe("labMachines", () => {
  it("status shows each machine's current role: after a failover recorded in django-ha:primary, lab-db-2 is the parent", () => {
    const booted = labMachines(hostsInventory(hostsStackSpec("lab")));
    const after = withPrimary(hostsInventory(hostsStackSpec("lab")), "lab-db-2");
    assert.deepEqual(
      booted.map((m) => `${m.name}/${currentKind(m, after)}`),
      [
        "lab-dns/dns",
        "lab-acme/acme",
        "lab-db-1/standby",
        "lab-db-2/parent",
        "lab-child-1/child",
        "lab-child-2/child",
        "lab-worker/worker",
      ],
    );
  });

  it("boots the lab stack: DNS node and ACME CA first, then parent, standby, children, worker", () => {
    const m = labMachines(hostsInventory(hostsStackSpec("lab")));
    assert.deepEqual(
      m.map((x) => `${x.name}=${x.address}/${x.kind}`),
      [
        "lab-dns=10.231.0.2/dns",
        "lab-acme=10.231.0.3/acme",
        "lab-db-1=10.231.0.11/parent",
        "lab-db-2=10.231.0.12/standby",
        "lab-child-1=10.231.0.21/child",
        "lab-child-2=10.231.0.22/child",
        "lab-worker=10.231.0.31/worker",
      ],
    );
  });
  it("refuses addresses outside the lab network, reserved ones and duplicates, naming each", () => {
    assert.throws(
      () =>
        labMachines({
          nodes: [
            node("a", "192.168.1.5"),
            node("b", "10.231.0.2"),
            node("c", "10.231.0.40"),
            node("d", "10.231.0.40"),
            node("e", "10.231.0.255"),
          ],
        }),
      (e: Error) => {
        assert.match(e.message, /node a\)\.address = "192\.168\.1\.5": the lab runs nodes on 10\.231\.0\.0\/24 only/);
        assert.match(e.message, /node b\)\.address = "10\.231\.0\.2": reserved for the lab DNS node/);
        assert.match(e.message, /node d\)\.address = "10\.231\.0\.40": already used by c/);
        assert.match(e.message, /node e\)\.address = "10\.231\.0\.255"/);
        assert.doesNotMatch(e.message, /node c\)/);
        return true;
      },
    );
  });
  it("refuses a node named like the lab's own machines, or at the ACME CA's address", () => {
    assert.throws(() => labMachines({ nodes: [node("lab-dns", "10.231.0.40")] }), /name = "lab-dns"/);
    assert.throws(() => labMachines({ nodes: [node("lab-acme", "10.231.0.40")] }), /name = "lab-acme"/);
    assert.throws(() => labMachines({ nodes: [node("c", "10.231.0.3")] }), /address = "10\.231\.0\.3": reserved for the lab's ACME CA/);
  });
});

describe("nodeMounts", () => {
  it("parent and standby export from host dirs with open_by_handle_at; children and worker see the primary share", () => {
    assert.deepEqual(nodeMounts("parent", "/s"), { binds: [{ host: "/s/primary", guest: "/srv/share" }], syscalls: ["open_by_handle_at"] });
    assert.deepEqual(nodeMounts("standby", "/s"), {
      binds: [{ host: "/s/replica", guest: "/srv/share" }],
      syscalls: ["open_by_handle_at"],
    });
    assert.deepEqual(nodeMounts("child", "/s"), { binds: [{ host: "/s/primary", guest: "/srv/share" }], syscalls: [] });
    assert.deepEqual(nodeMounts("worker", "/s"), nodeMounts("child", "/s"));
    assert.deepEqual(nodeMounts("dns", "/s"), { binds: [], syscalls: [] });
    assert.deepEqual(nodeMounts("acme", "/s"), { binds: [], syscalls: [] });
  });
  it("with data volumes: parent and standby get their own devices (by-id and kernel name), children and worker every database machine's share device", () => {
    const inv = hostsInventory(hostsStackSpec("lab"));
    const attached = labVolumes(inv, { root: "/l" }).map((v, i) => ({ ...v, loop: `/dev/loop${i}` }));
    assert.deepEqual(
      attached.map((v) => [v.node, v.purpose, v.guest, v.file]),
      [
        ["lab-db-1", "db", "/dev/disk/by-id/scsi-0LAB_Volume_lab-db-1-db", "/l/volumes/lab-db-1-db.img"],
        ["lab-db-1", "share", "/dev/disk/by-id/scsi-0LAB_Volume_lab-db-1-share", "/l/volumes/lab-db-1-share.img"],
        ["lab-db-2", "db", "/dev/disk/by-id/scsi-0LAB_Volume_lab-db-2-db", "/l/volumes/lab-db-2-db.img"],
        ["lab-db-2", "share", "/dev/disk/by-id/scsi-0LAB_Volume_lab-db-2-share", "/l/volumes/lab-db-2-share.img"],
      ],
    );
    const of = volumesFor(attached);
    assert.deepEqual(nodeMounts("parent", "/s", of("lab-db-1")).binds, [
      { host: "/dev/loop0", guest: "/dev/disk/by-id/scsi-0LAB_Volume_lab-db-1-db" },
      { host: "/dev/loop0", guest: "/dev/loop0" },
      { host: "/dev/loop1", guest: "/dev/disk/by-id/scsi-0LAB_Volume_lab-db-1-share" },
      { host: "/dev/loop1", guest: "/dev/loop1" },
    ]);
    assert.deepEqual(
      nodeMounts("standby", "/s", of("lab-db-2")).binds.map((b) => b.host),
      ["/dev/loop2", "/dev/loop2", "/dev/loop3", "/dev/loop3"],
    );
    // Both share devices: the roles mount the primary's, and after a failover the other one is already there.
    for (const n of ["lab-child-1", "lab-worker"]) {
      assert.deepEqual(nodeMounts(n === "lab-worker" ? "worker" : "child", "/s", of(n)).binds, [
        { host: "/dev/loop1", guest: "/dev/disk/by-id/scsi-0LAB_Volume_lab-db-1-share" },
        { host: "/dev/loop3", guest: "/dev/disk/by-id/scsi-0LAB_Volume_lab-db-2-share" },
      ]);
    }
    assert.equal(volumesFor([])("lab-db-1"), undefined, "no dataDevices: the host dirs as before");
  });

  it("refuses data devices the lab cannot present (not under /dev/disk/by-id/)", () => {
    const inv = hostsInventory(hostsStackSpec("lab"));
    inv.nodes[0].dataDevices = { db: "/dev/disk/by-label/pg", share: inv.nodes[0].dataDevices!.share };
    assert.throws(
      () => labVolumes(inv, { root: "/l" }),
      /dataDevices\.db = "\/dev\/disk\/by-label\/pg": the lab presents volumes under \/dev\/disk\/by-id\//,
    );
  });

  it("finds loop devices by backing file from losetup's JSON (deleted files too)", () => {
    const json = JSON.stringify({
      loopdevices: [
        { name: "/dev/loop0", "back-file": "/l/volumes/a.img" },
        { name: "/dev/loop1", "back-file": "/l/volumes/b.img (deleted)" },
        { name: "/dev/loop2", "back-file": null },
      ],
    });
    assert.deepEqual(
      [...parseLoops(json)],
      [
        ["/l/volumes/a.img", "/dev/loop0"],
        ["/l/volumes/b.img", "/dev/loop1"],
      ],
    );
    assert.deepEqual([...parseLoops("")], []);
  });

  it("the DNS node wants bind9, the ACME CA pebble and not bind9, cluster nodes their role's packages", () => {
    assert.ok(wantedPackages("dns").includes("bind9"));
    assert.ok(wantedPackages("acme").includes("pebble"));
    assert.ok(!wantedPackages("acme").includes("bind9"), "named stays off on the CA");
    assert.ok(!wantedPackages("child").includes("bind9"));
    assert.ok(wantedPackages("parent").includes(`postgresql-${POSTGRES_MAJOR}`));
  });
});
