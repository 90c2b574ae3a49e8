/**
 * Data volumes on a real systemd with real block devices: throw-away Debian nodes (lab image, systemd-nspawn,
 * private network) with loop devices bound in at a by-id path, as the lab and the clouds present them. The
 * parent role's own actions (the drop-ins and the volume scripts) run through the real bootstrap over SSH.
 * Proves: a blank volume is formatted once and seeded with Debian's default cluster, PostgreSQL then runs from
 * it; a second run changes nothing; a device holding data or another signature is never formatted; without
 * its volume PostgreSQL refuses to start and no cluster runs from the root disk.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { ensureImage } from "../../lab/image";
import { PATHS } from "../../roles/context";
import { POSTGRES_MAJOR } from "../../model/debian";
import { POSTGRES_UNIT } from "../../roles/db";
import { FIXTURE_DATA_DEVICES, fixtureContext, fixtureInventoryWithVolumes } from "../../roles/fixtures";
import { renderNodePlan } from "../../roles/plan";
import type { Action, NodePlan } from "../../roles/types";
import { dataVolumeScript, VOLUME_LINKS_SCRIPT, type DataVolume } from "../../roles/volumes";
import { startTestContainer, TestContainer } from "../../test/ssh-container";
import { SshExecutor } from "../ssh/executor";
import { KnownHostsFile } from "../ssh/known-hosts";
import { scriptLog } from "./commands";
import { formatSummary, runBootstrap } from "./orchestrate";

const DEVICES = FIXTURE_DATA_DEVICES["lab-db-1"];

/** The parent plan's actions up to its volume scripts (drop-ins that guard the data services, then the volumes). */
function volumeActions(): Action[] {
  const ctx = fixtureContext({ inventory: fixtureInventoryWithVolumes() });
  const parent = ctx.inventory.nodes.find((n) => n.role === "parent")!;
  const actions = renderNodePlan(parent, ctx).actions;
  const last = actions.findIndex((a) => a.kind === "script" && a.name === "volume-share");
  assert.ok(last > 0, "the parent plan has volume scripts");
  const wanted = (a: Action) =>
    (a.kind === "file" && (a.file.path.startsWith("/etc/systemd/") || a.file.path === VOLUME_LINKS_SCRIPT)) ||
    (a.kind === "script" && a.name.startsWith("volume-"));
  return actions.slice(0, last + 1).filter(wanted);
}

function loopFile(dir: string, name: string, sizeMb: number): { file: string; loop: string } {
  const file = path.join(dir, `${name}.img`);
  execFileSync("truncate", ["-s", `${sizeMb}M`, file]);
  const loop = execFileSync("losetup", ["--find", "--show", file], { encoding: "utf8" }).trim();
  return { file, loop };
}

/** Bind a loop device at a by-id path and at its kernel name (what a machine's devtmpfs shows beside udev's links). */
const bindsOf = (devices: [loop: string, guest: string][]) =>
  devices.flatMap(([loop, guest]) => [`--bind=${loop}:${guest}`, `--bind=${loop}:${loop}`]);

const sha = (file: string) => crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");

describe("data volumes on real block devices (nspawn nodes over SSH)", () => {
  let dir: string;
  let imageRoot: string;
  const loops: string[] = [];
  const containers: TestContainer[] = [];
  before(async () => {
    imageRoot = (await ensureImage({ log: () => {} })).root;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "django-ha-volumes-"));
  });
  after(async () => {
    for (const c of containers) await c.stop();
    for (const l of loops) execFileSync("losetup", ["-d", l]);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const connect = (ct: TestContainer) => () =>
    SshExecutor.connect(
      {
        node: "lab-db-1",
        host: ct.name,
        port: 22,
        username: "root",
        privateKey: ct.privateKey,
        knownHosts: new KnownHostsFile(path.join(dir, `${ct.name}.known_hosts`)),
      },
      { openSocket: () => ct.openSocket() },
    );
  const plan = (actions: Action[]): NodePlan => ({
    node: { name: "lab-db-1", role: "parent", publicAddress: "10.231.0.11", privateAddress: "10.231.0.11", zone: "a" },
    role: "parent",
    actions,
    checks: [],
  });
  const sh = (ct: TestContainer, script: string) => ct.exec(["bash", "-c", script]).trim();
  const shStatus = (ct: TestContainer, script: string) => sh(ct, `if ${script}; then echo 0; else echo $?; fi`);

  it(
    "formats blank volumes once, seeds the default cluster onto the db volume, and PostgreSQL runs from it; a second run changes nothing",
    { timeout: 300_000 },
    async () => {
      const db = loopFile(dir, "db", 256);
      const share = loopFile(dir, "share", 128);
      loops.push(db.loop, share.loop);
      const ct = await startTestContainer(imageRoot, {
        nspawnArgs: bindsOf([
          [db.loop, DEVICES.db],
          [share.loop, DEVICES.share],
        ]),
      });
      containers.push(ct);
      // As on a fresh machine after `apt-get install postgresql`: Debian's default cluster runs from the root disk.
      assert.equal(sh(ct, `systemctl is-active ${POSTGRES_UNIT}`), "active");
      const actions = [
        ...volumeActions(),
        { kind: "service", name: POSTGRES_UNIT, state: "started", enabled: true, restartWhen: [] } satisfies Action,
      ];

      const first = await runBootstrap({ plans: [plan(actions)], connect: connect(ct) });
      assert.equal(first.ok, true, formatSummary(first));
      assert.ok(
        first.results[0].changes.includes("script volume-db") && first.results[0].changes.includes("script volume-share"),
        formatSummary(first),
      );
      const dbLog = sh(ct, `cat ${scriptLog("volume-db")}`);
      assert.match(dbLog, /formatting the blank db volume/);
      assert.match(dbLog, /seeding the empty db volume/);
      const uuids = {
        db: execFileSync("blkid", ["-p", "-s", "UUID", "-o", "value", db.loop], { encoding: "utf8" }).trim(),
        share: execFileSync("blkid", ["-p", "-s", "UUID", "-o", "value", share.loop], { encoding: "utf8" }).trim(),
      };
      assert.match(uuids.db, /^[0-9a-f-]{36}$/);
      assert.equal(execFileSync("blkid", ["-p", "-s", "LABEL", "-o", "value", db.loop], { encoding: "utf8" }).trim(), "django-ha-db");
      // Mounted by UUID through the systemd mount units, where the data lives.
      assert.match(sh(ct, "cat /etc/systemd/system/var-lib-postgresql.mount"), new RegExp(`^What=UUID=${uuids.db}$`, "m"));
      assert.match(sh(ct, "cat /etc/systemd/system/srv-share.mount"), new RegExp(`^What=UUID=${uuids.share}$`, "m"));
      assert.equal(sh(ct, "systemctl is-enabled var-lib-postgresql.mount srv-share.mount | sort -u"), "enabled");
      const loopNum = (loop: string) => {
        const st = fs.statSync(loop);
        return `${Math.floor(st.rdev / 256)}:${st.rdev % 256}`;
      };
      assert.equal(sh(ct, "mountpoint -d /var/lib/postgresql"), loopNum(db.loop));
      assert.equal(sh(ct, "mountpoint -d /srv/share"), loopNum(share.loop));
      // PostgreSQL runs from the volume: its data directory is on the db volume's filesystem.
      assert.equal(sh(ct, `systemctl is-active ${POSTGRES_UNIT}`), "active");
      const dataDir = sh(ct, "runuser -u postgres -- psql -XAtc 'show data_directory'");
      assert.equal(dataDir, PATHS.pgData);
      assert.equal(sh(ct, `stat -c %d ${dataDir}`), sh(ct, "stat -c %d /var/lib/postgresql"));
      assert.equal(sh(ct, `mountpoint -d /var/lib/postgresql`), loopNum(db.loop));
      sh(ct, "runuser -u postgres -- psql -XAtq -c 'create table kept (v text)' -c \"insert into kept values ('written before')\"");

      // Second run: nothing to do, nothing formatted, same filesystems.
      const second = await runBootstrap({ plans: [plan(actions)], connect: connect(ct) });
      assert.equal(second.results[0].status, "unchanged", formatSummary(second));
      assert.doesNotMatch(sh(ct, `cat ${scriptLog("volume-db")} ${scriptLog("volume-share")}`), /formatting|mkfs/);
      assert.equal(execFileSync("blkid", ["-p", "-s", "UUID", "-o", "value", db.loop], { encoding: "utf8" }).trim(), uuids.db);
      assert.equal(sh(ct, "runuser -u postgres -- psql -XAtc 'select v from kept'"), "written before");

      // The volume goes missing (detached under the node): PostgreSQL refuses to start and nothing runs from the root disk.
      sh(ct, `systemctl stop ${POSTGRES_UNIT} && systemctl stop var-lib-postgresql.mount && umount ${DEVICES.db} && umount ${db.loop}`);
      assert.equal(sh(ct, `test -b ${DEVICES.db} && echo present || echo gone`), "gone");
      assert.notEqual(shStatus(ct, `systemctl start ${POSTGRES_UNIT} 2>/dev/null`), "0", "PostgreSQL must not start without its volume");
      assert.notEqual(sh(ct, `systemctl is-active ${POSTGRES_UNIT} || true`), "active");
      assert.equal(sh(ct, "pgrep -c -u postgres postgres || true"), "0", "no postgres process runs");
      assert.notEqual(shStatus(ct, "mountpoint -q /var/lib/postgresql"), "0", "nothing mounted there");
      const rerun = await runBootstrap({ plans: [plan(actions)], connect: connect(ct) });
      assert.equal(rerun.ok, false);
      assert.match(formatSummary(rerun), /the db volume \/dev\/disk\/by-id\/scsi-0LAB_Volume_lab-db-1-db is not attached/);
      assert.notEqual(sh(ct, `systemctl is-active ${POSTGRES_UNIT} || true`), "active");
    },
  );

  it("never formats a device that holds data, a partition table or another filesystem signature", { timeout: 180_000 }, async () => {
    const junk = loopFile(dir, "junk", 16);
    const parted = loopFile(dir, "parted", 16);
    const swap = loopFile(dir, "swap", 16);
    loops.push(junk.loop, parted.loop, swap.loop);
    // Data without any signature (e.g. a raw database dump written to the disk), a DOS partition table, a swap signature.
    execFileSync("dd", ["if=/dev/urandom", `of=${junk.loop}`, "bs=64k", "count=4", "seek=1", "status=none", "conv=fsync"]);
    // (sfdisk warns that the kernel cannot re-read a loop device's partitions: the table is written all the same.)
    execFileSync("sfdisk", ["--quiet", parted.loop], { input: "label: dos\n,\n", stdio: ["pipe", "ignore", "ignore"] });
    execFileSync("mkswap", ["-q", swap.loop]);
    const guests: [string, string][] = [
      [junk.loop, "/dev/disk/by-id/scsi-0LAB_Volume_junk"],
      [parted.loop, "/dev/disk/by-id/scsi-0LAB_Volume_parted"],
      [swap.loop, "/dev/disk/by-id/scsi-0LAB_Volume_swap"],
    ];
    const ct = await startTestContainer(imageRoot, { nspawnArgs: bindsOf(guests) });
    containers.push(ct);
    for (const [loop, guest] of guests) {
      const before = sha(loop);
      const v: DataVolume = {
        purpose: "share",
        device: guest,
        mountPoint: "/srv/probe",
        label: "django-ha-share",
        mountUnit: "srv-probe.mount",
      };
      const r = await runBootstrap({ plans: [plan([dataVolumeScript(v)])], connect: connect(ct) });
      assert.equal(r.ok, false, `${guest}: ${formatSummary(r)}`);
      assert.match(
        formatSummary(r),
        {
          junk: /holds data no filesystem signature explains \(not blank\): NOT formatting/,
          parted: /holds a dos partition table, not an ext4 or xfs filesystem: NOT formatting/,
          swap: /holds a swap signature \(other\), not an ext4 or xfs filesystem: NOT formatting/,
        }[guest.split("_").pop()!]!,
      );
      assert.equal(sha(loop), before, `${guest} is unchanged byte for byte`);
      assert.notEqual(shStatus(ct, "mountpoint -q /srv/probe"), "0");
    }
  });

  it(
    "a node whose volume is missing refuses to start PostgreSQL and runs no cluster from the root disk",
    { timeout: 180_000 },
    async () => {
      const ct = await startTestContainer(imageRoot);
      containers.push(ct);
      const rootDiskBefore = sh(ct, `ls -A ${PATHS.pgData} | grep -vx postmaster.pid | sort | tr '\\n' ' '`);
      const r = await runBootstrap({
        plans: [plan([...volumeActions(), { kind: "service", name: POSTGRES_UNIT, state: "started", enabled: true, restartWhen: [] }])],
        connect: connect(ct),
      });
      assert.equal(r.ok, false);
      assert.match(formatSummary(r), /volume-db[\s\S]*the db volume \/dev\/disk\/by-id\/scsi-0LAB_Volume_lab-db-1-db is not attached/);
      // Debian's default cluster was running from the root disk; it is stopped, and it cannot be started again.
      assert.notEqual(sh(ct, `systemctl is-active ${POSTGRES_UNIT} || true`), "active");
      assert.notEqual(shStatus(ct, `systemctl start ${POSTGRES_UNIT} 2>/dev/null`), "0");
      assert.equal(sh(ct, "pgrep -c -u postgres postgres || true"), "0");
      assert.match(sh(ct, `systemctl show -p Requires,AssertPathIsMountPoint ${POSTGRES_UNIT}`), /var-lib-postgresql\.mount/);
      // No cluster was created or initialised: the root disk's PostgreSQL directory is as the package left it
      // (less the pid file of the server that was stopped).
      assert.equal(sh(ct, "ls /var/lib/postgresql/"), String(POSTGRES_MAJOR));
      assert.equal(sh(ct, `ls -A ${PATHS.pgData} | grep -vx postmaster.pid | sort | tr '\\n' ' '`), rootDiskBefore);
    },
  );
});
