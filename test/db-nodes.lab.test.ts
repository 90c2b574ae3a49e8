/**
 * The database nodes across power cuts, in the lab, as root: boot the default lab from blank volumes and
 * bootstrap it, then power database nodes off hard (`lab fence`) and on again (`lab start`) as an operator or a
 * datacenter would. Traffic stays on 10.231.0.0/24. Node names come from the inventory (inventory.primary /
 * inventory.standby), never from the lab's defaults.
 *
 * Proves (issue 9): a database node that restarts keeps its data — its volumes are mounted again at every boot
 * (systemd 257 mounts by /dev/disk/by-uuid, which nothing but our links unit makes in a container) and
 * PostgreSQL, the share and replication come back by themselves.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { isClean, labDown, labPower, labRemoveVolumes, labSsh, labUp } from "../lab";
import { labBootstrapHook } from "../ops/bootstrap";
import { POSTGRES_UNIT } from "../roles/db";
import type { Inventory } from "../spec";

let inventory: Inventory;

async function onNode(node: string, script: string): Promise<string> {
  const r = await labSsh(node, ["bash", "-c", script]);
  assert.equal(r.code, 0, `${node}: ${script} exited ${r.code}: ${r.stdout}${r.stderr}`);
  return r.stdout.trim();
}

/** psql as postgres on a node (local socket), one value per line. */
const sql = (node: string, query: string) => onNode(node, `runuser -u postgres -- psql -XAtq -d app -v ON_ERROR_STOP=1 -c ${JSON.stringify(query)}`);

/** Poll `script` on `node` until it prints `want` (or time runs out); returns the last output. */
async function until(node: string, script: string, want: string, seconds = 60): Promise<string> {
  let last = "";
  for (let i = 0; i < seconds * 2; i++) {
    const r = await labSsh(node, ["bash", "-c", script], { timeoutMs: 15_000 });
    last = `${r.stdout.trim()}${r.code ? ` (exit ${r.code}: ${r.stderr.trim()})` : ""}`;
    if (r.code === 0 && r.stdout.trim() === want) return last;
    await new Promise((res) => setTimeout(res, 500));
  }
  return last;
}

/** Hard power cut and power on, as `npm run lab -- fence <node> --yes` and `npm run lab -- start <node>` do. */
async function powerCycle(...nodes: string[]): Promise<void> {
  const power = labPower();
  await Promise.all(nodes.map((n) => power.fence(n)));
  for (const n of nodes) assert.equal(await power.isRunning(n), false, `${n} is off`);
  await Promise.all(nodes.map((n) => power.start(n)));
}

const streaming = (primary: string) => until(primary, `runuser -u postgres -- psql -XAtc "select state || '|' || sync_state from pg_stat_replication where application_name = 'standby'"`, "streaming|sync");

before(async () => {
  await labDown({ log: () => undefined });
  await labRemoveVolumes({ log: () => undefined });
  inventory = (await labUp({ log: () => undefined, afterBoot: [labBootstrapHook()] })).inventory;
  await sql(inventory.primary, "create table power_probe (v text)");
});

after(async () => {
  const left = await labDown({ log: () => undefined });
  assert.ok(isClean(left), `lab down left something behind: ${JSON.stringify(left)}`);
});

describe("database nodes across power cuts", () => {
  it("the primary, powered off hard and on again, mounts its volumes and serves its data again by itself; the standby streams again", { timeout: 300_000 }, async () => {
    const primary = inventory.primary;
    await sql(primary, "insert into power_probe values ('before the primary power cut')");
    await onNode(primary, "echo kept > /srv/share/media/power-probe.txt && sync");
    await powerCycle(primary);
    assert.equal(await until(primary, `systemctl is-active ${POSTGRES_UNIT}`, "active"), "active", "PostgreSQL came back by itself");
    // Mounted from the volumes again (not the root disk), through the by-uuid links our unit made at boot.
    assert.equal(await onNode(primary, "findmnt -n -o FSTYPE --mountpoint /var/lib/postgresql; findmnt -n -o FSTYPE --mountpoint /srv/share"), "ext4\next4");
    assert.equal(await onNode(primary, "systemctl is-active django-ha-volume-links.service var-lib-postgresql.mount srv-share.mount"), "active\nactive\nactive");
    assert.match(await onNode(primary, "journalctl -b -u django-ha-volume-links.service -o cat"), /\/dev\/disk\/by-uuid\/[0-9a-f-]+ -> \/dev\/\S+ \(\/dev\/disk\/by-id\//);
    assert.equal(await sql(primary, "select string_agg(v, ',') from power_probe"), "before the primary power cut");
    assert.equal(await onNode(primary, "cat /srv/share/media/power-probe.txt"), "kept");
    assert.equal(await sql(primary, "select pg_is_in_recovery()"), "f", "still the primary, writable");
    assert.equal(await until(primary, "systemctl is-active nfs-ganesha django-ha-share-sync redis-server | sort -u", "active"), "active", "the share export, its replication and the broker came back");
    assert.equal(await streaming(primary), "streaming|sync", "the standby streams from it again, synchronously");
    await sql(primary, "insert into power_probe values ('after the primary power cut')");
  });

  it("the standby, powered off hard and on again, mounts its volumes and streams again with every row", { timeout: 300_000 }, async () => {
    const { primary, standby } = inventory;
    await powerCycle(standby);
    assert.equal(await until(standby, `systemctl is-active ${POSTGRES_UNIT}`, "active"), "active");
    assert.equal(await onNode(standby, "findmnt -n -o FSTYPE --mountpoint /var/lib/postgresql; findmnt -n -o FSTYPE --mountpoint /srv/share"), "ext4\next4");
    assert.equal(await streaming(primary), "streaming|sync");
    await sql(primary, "insert into power_probe values ('after the standby power cut')");
    assert.equal(await sql(standby, "select pg_is_in_recovery()"), "t");
    assert.equal(
      await until(standby, `runuser -u postgres -- psql -XAtq -d app -c "select count(*) from power_probe"`, "3"),
      "3",
      "the standby replays every row, including those written while it was off",
    );
    assert.equal(await until(standby, "cat /srv/share/media/power-probe.txt", "kept"), "kept", "the share replica is on its volume");
  });
});
