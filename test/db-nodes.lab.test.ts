/**
 * The database nodes across power cuts, in the lab, as root: boot the default lab from blank volumes and
 * bootstrap it, then power database nodes off hard (`lab fence`) and on again (`lab start`) as an operator or a
 * datacenter would. Traffic stays on 10.231.0.0/24. Node names come from the inventory (inventory.primary /
 * inventory.standby), never from the lab's defaults.
 *
 * Proves (issue 9): a database node that restarts keeps its data — its volumes are mounted again at every boot
 * (systemd 257 mounts by /dev/disk/by-uuid, which nothing but our links unit makes in a container) and
 * PostgreSQL, the share and replication come back by themselves; and never two writable primaries — a plain
 * reboot of the primary and a whole-cluster power cut come back writable on the primary, while an old primary
 * powered on after a failover (the standby promoted by hand) is fenced by its boot guard (roles/guard/). The
 * failover test leaves the cluster failed over, and the last one rejoins the old primary as the new standby
 * (ops/failover/rejoin.ts).
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { after, before, describe, it } from "node:test";
import { isClean, labBootstrapHook, labDown, labPower, labRemoveVolumes, labSource, labSsh, labUp } from "../lab";
import { bootstrapTarget, formatSummary, resolveStack } from "../ops/bootstrap";
import { rejoinStandby } from "../ops/failover/rejoin";
import { SshExecutor } from "../ops/ssh/executor";
import { KnownHostsFile } from "../ops/ssh/known-hosts";
import { POSTGRES_UNIT } from "../roles/db";
import { BOOT_GUARD_SCRIPT } from "../roles/guard";
import { withPrimary, type Inventory, type InventoryNode } from "../model";

let inventory: Inventory;

async function onNode(node: string, script: string): Promise<string> {
  const r = await labSsh(node, ["bash", "-c", script]);
  assert.equal(r.code, 0, `${node}: ${script} exited ${r.code}: ${r.stdout}${r.stderr}`);
  return r.stdout.trim();
}

/** psql as postgres on a node (local socket), one value per line. */
const sql = (node: string, query: string) =>
  onNode(node, `runuser -u postgres -- psql -XAtq -d app -v ON_ERROR_STOP=1 -c ${JSON.stringify(query)}`);

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

/** `django-ha-boot-guard status`: the last decision, key=value lines. */
function guardState(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split("\n")
      .filter((l) => l.includes("="))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
}

const streaming = (primary: string) =>
  until(
    primary,
    `runuser -u postgres -- psql -XAtc "select state || '|' || sync_state from pg_stat_replication where application_name = 'standby'"`,
    "streaming|sync",
  );

before(async () => {
  await labDown({ log: () => undefined });
  await labRemoveVolumes({ log: () => undefined });
  inventory = (await labUp({ log: () => undefined, afterBoot: [labBootstrapHook()] })).inventory;
  await sql(inventory.primary, "create table power_probe (v text)");
  // The app user may write it: a refused write must be refused for being read-only, not for want of a privilege.
  await sql(inventory.primary, "grant all on power_probe to app");
});

after(async () => {
  const left = await labDown({ log: () => undefined });
  assert.ok(isClean(left), `lab down left something behind: ${JSON.stringify(left)}`);
});

describe("database nodes across power cuts", () => {
  it(
    "the primary, powered off hard and on again, mounts its volumes and serves its data again by itself; the standby streams again",
    { timeout: 300_000 },
    async () => {
      const primary = inventory.primary;
      await sql(primary, "insert into power_probe values ('before the primary power cut')");
      await onNode(primary, "echo kept > /srv/share/media/power-probe.txt && sync");
      await powerCycle(primary);
      assert.equal(await until(primary, `systemctl is-active ${POSTGRES_UNIT}`, "active"), "active", "PostgreSQL came back by itself");
      // Mounted from the volumes again (not the root disk), through the by-uuid links our unit made at boot.
      assert.equal(
        await onNode(primary, "findmnt -n -o FSTYPE --mountpoint /var/lib/postgresql; findmnt -n -o FSTYPE --mountpoint /srv/share"),
        "ext4\next4",
      );
      assert.equal(
        await onNode(primary, "systemctl is-active django-ha-volume-links.service var-lib-postgresql.mount srv-share.mount"),
        "active\nactive\nactive",
      );
      assert.match(
        await onNode(primary, "journalctl -b -u django-ha-volume-links.service -o cat"),
        /\/dev\/disk\/by-uuid\/[0-9a-f-]+ -> \/dev\/\S+ \(\/dev\/disk\/by-id\//,
      );
      assert.equal(await sql(primary, "select string_agg(v, ',') from power_probe"), "before the primary power cut");
      assert.equal(await onNode(primary, "cat /srv/share/media/power-probe.txt"), "kept");
      assert.equal(await sql(primary, "select pg_is_in_recovery()"), "f", "still the primary, writable");
      const guard = guardState(await onNode(primary, `${BOOT_GUARD_SCRIPT} status`));
      assert.deepEqual(
        [guard.verdict, guard.trigger, guard.peer_state],
        ["primary", "boot", "standby"],
        "its boot guard asked the standby first",
      );
      assert.equal(
        await until(primary, "systemctl is-active nfs-ganesha django-ha-share-sync redis-server | sort -u", "active"),
        "active",
        "the share export, its replication and the broker came back",
      );
      assert.equal(await streaming(primary), "streaming|sync", "the standby streams from it again, synchronously");
      await sql(primary, "insert into power_probe values ('after the primary power cut')");
    },
  );

  it("the standby, powered off hard and on again, mounts its volumes and streams again with every row", { timeout: 300_000 }, async () => {
    const { primary, standby } = inventory;
    await powerCycle(standby);
    assert.equal(await until(standby, `systemctl is-active ${POSTGRES_UNIT}`, "active"), "active");
    assert.equal(
      await onNode(standby, "findmnt -n -o FSTYPE --mountpoint /var/lib/postgresql; findmnt -n -o FSTYPE --mountpoint /srv/share"),
      "ext4\next4",
    );
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

  it(
    "both database nodes powered off at once and on together (a whole-cluster power cut): the primary comes back writable, the standby streams",
    { timeout: 400_000 },
    async () => {
      const { primary, standby } = inventory;
      await powerCycle(primary, standby);
      assert.equal(await until(primary, `systemctl is-active ${POSTGRES_UNIT}`, "active", 180), "active");
      const state = guardState(await onNode(primary, `${BOOT_GUARD_SCRIPT} status`));
      assert.equal(state.verdict, "primary", JSON.stringify(state));
      assert.equal(state.peer_state, "standby", "the primary's guard saw the standby (booting at the same time) in recovery");
      assert.equal(guardState(await onNode(standby, `${BOOT_GUARD_SCRIPT} status`)).verdict, "standby");
      assert.equal(await sql(primary, "select pg_is_in_recovery()"), "f");
      assert.equal(await streaming(primary), "streaming|sync");
      await sql(primary, "insert into power_probe values ('after the whole-cluster power cut')");
    },
  );

  it(
    "after a failover, the old primary powered on again accepts no write (directly, locally, through the app), runs no share replication, no NFS export, no Redis master, and says why",
    { timeout: 400_000 },
    async () => {
      const { primary: oldPrimary, standby: newPrimary } = inventory;
      const oldAddress = inventory.nodes.find((n) => n.name === oldPrimary)!.privateAddress;
      const child = inventory.nodes.find((n) => n.role === "child")!.name;
      const power = labPower();
      await power.fence(oldPrimary);
      // The failover by hand, as an operator without the runbook would do it.
      assert.equal(await sql(newPrimary, "select pg_promote()"), "t");
      assert.equal(await sql(newPrimary, "select pg_is_in_recovery()"), "f");
      await sql(newPrimary, "insert into power_probe values ('on the new primary')");
      await onNode(newPrimary, "echo survives > /srv/share/media/guard-probe.txt && sync");

      await power.start(oldPrimary);
      assert.equal(await until(oldPrimary, `systemctl is-active ${POSTGRES_UNIT}`, "active"), "active", "PostgreSQL runs (read-only)");
      const state = guardState(await onNode(oldPrimary, `${BOOT_GUARD_SCRIPT} status`));
      assert.equal(state.verdict, "fenced", JSON.stringify(state));
      assert.equal(state.peer_state, "primary");
      assert.match(state.reason, new RegExp(`^FENCED: the peer ${newPrimary} \\(.*\\) is a primary \\(timeline 2, this node 1\\)`));
      assert.match(await onNode(oldPrimary, "journalctl -b -u django-ha-boot-guard.service -o cat"), /FENCED: the peer .* is a primary/);
      assert.equal(await sql(oldPrimary, "select pg_is_in_recovery()"), "t");

      // Not a single write: locally as postgres, with an explicit read-write transaction, and as the app over TCP from a child.
      const local = await labSsh(oldPrimary, [
        "bash",
        "-c",
        `runuser -u postgres -- psql -XAtq -d app -v ON_ERROR_STOP=1 -c "insert into power_probe values ('stale')"`,
      ]);
      assert.notEqual(local.code, 0);
      assert.match(local.stderr, /read-only transaction/);
      const rw = await labSsh(oldPrimary, [
        "bash",
        "-c",
        `runuser -u postgres -- psql -XAtq -d app -v ON_ERROR_STOP=1 -c "begin" -c "set transaction read write" -c "insert into power_probe values ('stale')" -c "commit"`,
      ]);
      assert.notEqual(rw.code, 0);
      assert.match(rw.stderr, /cannot set transaction read-write mode during recovery/);
      const app = await labSsh(child, [
        "bash",
        "-c",
        `set -a; . /etc/django-ha/app.env; set +a; PGPASSWORD="$DB_PASSWORD" psql -XAtq -v ON_ERROR_STOP=1 -h ${oldAddress} -U "$DB_USER" -d "$DB_NAME" -c "insert into power_probe values ('stale from the app user')"`,
      ]);
      assert.notEqual(app.code, 0);
      assert.match(app.stderr, /read-only transaction/, "refused for being read-only (not for want of a privilege)");
      assert.equal(await sql(oldPrimary, "select count(*) from power_probe where v like 'stale%'"), "0");

      // The app through a child writes and reads on the new primary only.
      const text = `after-failover-${Date.now()}`;
      const post = await until(
        child,
        `curl -s -o /dev/null -w '%{http_code}' --max-time 20 --resolve ${inventory.recordFqdn}:443:127.0.0.1 --data-urlencode text=${text} https://${inventory.recordFqdn}/notes/`,
        "201",
      );
      assert.equal(post, "201");
      assert.match(
        await onNode(child, `curl -s --max-time 20 --resolve ${inventory.recordFqdn}:443:127.0.0.1 https://${inventory.recordFqdn}/notes/`),
        new RegExp(text),
      );
      assert.equal(await sql(newPrimary, `select count(*) from notes_note where text = '${text}'`), "1");
      assert.equal(await sql(oldPrimary, `select count(*) from notes_note where text = '${text}'`), "0");

      // No share replication (lsyncd's rsync --delete would have replaced the new primary's share), no NFS export, no Redis master.
      await new Promise((res) => setTimeout(res, 10_000));
      assert.equal(await onNode(newPrimary, "cat /srv/share/media/guard-probe.txt"), "survives", "the new primary's share is untouched");
      for (const unit of ["django-ha-share-sync", "nfs-ganesha", "redis-server"]) {
        assert.equal((await labSsh(oldPrimary, ["systemctl", "is-active", unit])).stdout.trim(), "inactive", `${unit} on the old primary`);
        assert.match(
          await onNode(oldPrimary, `journalctl -b -u ${unit} -o cat`),
          new RegExp(`not starting ${unit}: this node's PostgreSQL is in recovery`),
          unit,
        );
      }
      assert.equal(await onNode(oldPrimary, "ss -Hltn 'sport = :2049' | wc -l"), "0", "nothing listens on NFS");
      assert.equal(await onNode(oldPrimary, "pgrep -c lsyncd || true"), "0");
      assert.equal(
        await onNode(oldPrimary, "systemctl show -p NRestarts --value django-ha-share-sync"),
        "0",
        "skipped by its gate, not restarted in a loop",
      );

      // Powered off and on again: still fenced (its own fence, and the peer still a primary).
      await powerCycle(oldPrimary);
      assert.equal(await until(oldPrimary, `systemctl is-active ${POSTGRES_UNIT}`, "active"), "active");
      const again = guardState(await onNode(oldPrimary, `${BOOT_GUARD_SCRIPT} status`));
      assert.deepEqual([again.verdict, again.local, again.peer_state], ["fenced", "guard-fenced", "primary"]);
      assert.equal(await sql(oldPrimary, "select pg_is_in_recovery()"), "t");
      assert.equal(await onNode(newPrimary, "cat /srv/share/media/guard-probe.txt"), "survives");

      // A whole-cluster power cut after the failover: the new primary comes back writable, the old one fenced.
      await powerCycle(oldPrimary, newPrimary);
      assert.equal(await until(newPrimary, `systemctl is-active ${POSTGRES_UNIT}`, "active", 180), "active");
      const newState = guardState(await onNode(newPrimary, `${BOOT_GUARD_SCRIPT} status`));
      assert.deepEqual([newState.verdict, newState.peer_state], ["primary", "standby"], JSON.stringify(newState));
      assert.equal(await sql(newPrimary, "select pg_is_in_recovery()"), "f");
      await sql(newPrimary, "insert into power_probe values ('new primary after the whole-cluster power cut')");
      assert.equal(guardState(await onNode(oldPrimary, `${BOOT_GUARD_SCRIPT} status`)).verdict, "fenced");
      assert.equal(await sql(oldPrimary, "select pg_is_in_recovery()"), "t");
      assert.equal(await onNode(newPrimary, "cat /srv/share/media/guard-probe.txt"), "survives");
    },
  );
  it(
    "rejoin turns the fenced old primary into the standby of the new one: it streams synchronously with every row, and the share replicates the other way",
    { timeout: 400_000 },
    async () => {
      const { primary: oldPrimary, standby: newPrimary } = inventory;
      // The inventory as the runbook records it after the failover: roles swapped.
      const after = withPrimary(inventory, newPrimary);
      const target = { ...resolveStack({ stack: "lab", sources: [labSource()] }), inventory: after };
      const key = fs.readFileSync(target.identityFile, "utf8");
      const connect = (node: InventoryNode) =>
        SshExecutor.connect({
          node: node.name,
          host: node.publicAddress,
          port: after.ssh.port,
          username: after.ssh.user,
          privateKey: key,
          knownHosts: new KnownHostsFile(target.knownHostsPath),
        });
      const lines: string[] = [];
      const plan = await rejoinStandby({
        inventory: after,
        connect,
        confirm: async () => assert.fail("a dry run asks nothing"),
        dryRun: true,
      });
      assert.equal(plan.done, false);
      assert.ok(["follow", "rewind"].includes(plan.method), `${plan.method}: ${plan.reason}`);
      assert.equal(guardState(await onNode(oldPrimary, `${BOOT_GUARD_SCRIPT} status`)).verdict, "fenced", "the dry run changed nothing");

      const r = await rejoinStandby({
        inventory: after,
        connect,
        confirm: async () => true,
        log: (l) => lines.push(l),
        converge: async (inv, nodes) => {
          const summary = await bootstrapTarget({ ...target, inventory: inv }, { only: nodes, log: () => undefined });
          return { ok: summary.ok, text: formatSummary(summary) };
        },
      });
      assert.equal(r.done, true, lines.join("\n"));
      assert.equal(r.method, plan.method);
      assert.equal(await streaming(newPrimary), "streaming|sync", "the rejoined node streams from the new primary, synchronously");
      assert.equal(await sql(oldPrimary, "select pg_is_in_recovery()"), "t");
      assert.deepEqual([guardState(await onNode(oldPrimary, `${BOOT_GUARD_SCRIPT} status`)).verdict], ["standby"]);
      await sql(newPrimary, "insert into power_probe values ('after the rejoin')");
      const rows = await sql(newPrimary, "select count(*) from power_probe");
      assert.equal(
        await until(oldPrimary, `runuser -u postgres -- psql -XAtq -d app -c "select count(*) from power_probe"`, rows),
        rows,
        "every row of the new primary, including those written while it was fenced",
      );
      // Share replication in the new direction (lsyncd on the new primary), the Redis replica.
      await onNode(newPrimary, "echo from-the-new-primary > /srv/share/media/after-rejoin.txt");
      assert.equal(await until(oldPrimary, "cat /srv/share/media/after-rejoin.txt", "from-the-new-primary"), "from-the-new-primary");
      assert.equal(await onNode(oldPrimary, "systemctl is-active nfs-ganesha django-ha-share-sync || true"), "inactive\ninactive");
      // A rejoin of a node that streams already is a no-op.
      const again = await rejoinStandby({ inventory: after, connect, confirm: async () => assert.fail("nothing to ask"), dryRun: true });
      assert.equal(again.method, "already");
    },
  );
});
