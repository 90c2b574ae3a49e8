import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import {
  allGuardFacts,
  BOOT_GUARD_WAIT_SECONDS,
  bootGuardRefreshScript,
  bootGuardScript,
  bootGuardUnit,
  decide,
  factsKey,
  GATED_UNITS,
  guardDropIns,
  reasonText,
  renderBootGuard,
  type GuardFacts,
} from "./guard";
import { SHARE_SYNC_UNIT } from "./parent";
import { renderUnit } from "./files/systemd";

const base: GuardFacts = { trigger: "boot", local: "primary", peer: "standby", waitedOut: false, override: false, failedOver: false };
const d = (f: Partial<GuardFacts>) => decide({ ...base, ...f });

describe("boot guard: decide (every case)", () => {
  it("a node without a cluster, or a real standby, starts as configured whatever the peer says", () => {
    for (const f of allGuardFacts().filter((x) => x.local === "no-cluster" || x.local === "standby")) {
      assert.equal(decide(f).verdict, f.local === "standby" ? "standby" : "no-cluster", factsKey(f));
    }
  });

  it("a peer that is a primary fences this node: at boot, at bootstrap, fenced before or not, even with the override", () => {
    for (const f of allGuardFacts().filter((x) => (x.local === "primary" || x.local === "guard-fenced") && x.peer === "primary")) {
      const r = decide(f);
      assert.equal(r.verdict, "fenced", factsKey(f));
      assert.match(r.reason, /^FENCED: the peer \{peer\} is a primary/);
      assert.match(r.reason, /npm run failover -- rejoin/);
    }
  });

  it("a peer in recovery on a newer timeline fences this node (its data is older)", () => {
    for (const f of allGuardFacts().filter((x) => (x.local === "primary" || x.local === "guard-fenced") && x.peer === "standby-newer")) {
      assert.equal(decide(f).verdict, "fenced", factsKey(f));
    }
    assert.match(d({ peer: "standby-newer" }).reason, /newer timeline \(\{peerTimeline\} > \{localTimeline\}\)/);
  });

  it("a peer that is a standby (same or older timeline): primary — the normal reboot and the whole-cluster power cut", () => {
    assert.deepEqual(d({ peer: "standby" }).verdict, "primary");
    assert.deepEqual(d({ peer: "standby", trigger: "bootstrap" }).verdict, "primary");
    const lifted = d({ local: "guard-fenced", peer: "standby" });
    assert.equal(lifted.verdict, "primary");
    assert.match(lifted.reason, /the earlier fence is lifted/);
  });

  it("a peer running another cluster (not yet our standby, or rebuilt) holds none of our writes: primary", () => {
    for (const f of allGuardFacts().filter((x) => (x.local === "primary" || x.local === "guard-fenced") && x.peer === "other-cluster")) {
      assert.equal(decide(f).verdict, "primary", factsKey(f));
    }
  });

  it("an unreachable peer at boot: wait within the bound, then fail closed; the override lets it start, once", () => {
    assert.equal(d({ peer: "unreachable" }).verdict, "wait");
    const closed = d({ peer: "unreachable", waitedOut: true });
    assert.equal(closed.verdict, "fenced");
    assert.match(closed.reason, /^FAIL CLOSED: .*django-ha-boot-guard recheck.*django-ha-boot-guard override/);
    assert.equal(d({ peer: "unreachable", override: true }).verdict, "primary");
    assert.equal(d({ peer: "unreachable", waitedOut: true, override: true }).verdict, "primary");
    assert.match(d({ peer: "unreachable", override: true }).reason, /^OVERRIDE: /);
  });

  it("an unreachable peer at bootstrap: the stack record names this node the primary (a standby not set up yet must not block it)", () => {
    assert.equal(d({ peer: "unreachable", trigger: "bootstrap" }).verdict, "primary");
    assert.equal(d({ peer: "unreachable", trigger: "bootstrap", waitedOut: true }).verdict, "primary");
  });

  it("a node fenced at an earlier start stays fenced while the peer cannot be asked (no wait: its read-only PostgreSQL answers the peer's own guard), unless overridden", () => {
    for (const trigger of ["boot", "bootstrap"] as const) {
      for (const waitedOut of [false, true]) {
        const r = d({ local: "guard-fenced", peer: "unreachable", trigger, waitedOut });
        assert.equal(r.verdict, "fenced", `${trigger} ${waitedOut}`);
      }
    }
    assert.equal(d({ local: "guard-fenced", peer: "unreachable", override: true }).verdict, "primary");
  });

  it("never answers primary when the peer is a primary (property over every combination)", () => {
    for (const f of allGuardFacts()) if (f.peer === "primary" && decide(f).verdict === "primary") assert.fail(factsKey(f));
  });

  it("a primary an emergency failover promoted, its fenced peer not rejoined: an unreachable peer does not keep it down (no wait, no fail-closed)", () => {
    const d = (o: Partial<GuardFacts>) => decide({ ...base, failedOver: true, ...o });
    for (const waitedOut of [false, true]) {
      const r = d({ peer: "unreachable", waitedOut });
      assert.equal(r.verdict, "primary");
      assert.match(r.reason, /fenced it \(no rejoin since\)/);
    }
    // A peer that answers decides as always; a node the guard fenced earlier stays fenced.
    assert.equal(d({ peer: "primary" }).verdict, "fenced");
    assert.equal(d({ peer: "standby-newer" }).verdict, "fenced");
    assert.equal(d({ local: "guard-fenced", peer: "unreachable", waitedOut: true }).verdict, "fenced");
    assert.equal(decide({ ...base, peer: "unreachable", waitedOut: true }).verdict, "fenced");
  });

  it("waits only at boot, for a node about to be primary, with the bound not over and no override", () => {
    const waits = allGuardFacts().filter((f) => decide(f).verdict === "wait");
    assert.ok(waits.length > 0);
    for (const f of waits)
      assert.deepEqual(
        [f.trigger, f.local, f.peer, f.waitedOut, f.override, f.failedOver],
        ["boot", "primary", "unreachable", false, false, false],
      );
  });

  it("fills the reason's placeholders", () => {
    const text = reasonText(d({ peer: "primary" }).reason, {
      peer: "lab-db-2 (10.231.0.12)",
      localTimeline: "1",
      peerTimeline: "2",
      waitSeconds: 120,
    });
    assert.match(text, /^FENCED: the peer lab-db-2 \(10\.231\.0\.12\) is a primary \(timeline 2, this node 1\)/);
    assert.doesNotMatch(text, /\{/);
  });
});

describe("boot guard: the rendered script", () => {
  const script = renderBootGuard({ peerName: "lab-db-2", peerAddress: "10.231.0.12", port: 5432, waitSeconds: 120 });

  it("is shellcheck-clean", () => {
    const r = spawnSync("shellcheck", ["--shell=bash", "--severity=style", "-"], { input: script, encoding: "utf8" });
    if (r.error) throw new Error(`shellcheck could not run (${r.error.message}): install it (test/host-packages.txt)`);
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });

  it("its decision table (bash) answers exactly what decide() answers, for every combination of facts", () => {
    const facts = allGuardFacts();
    // One bash run: `explain` for every key, each answer on two lines (verdict, reason).
    const loop = `for k in ${facts.map(factsKey).join(" ")}; do bash "$0" explain "$k"; done`;
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "guard-")), "django-ha-boot-guard");
    fs.writeFileSync(file, script, { mode: 0o755 });
    const r = spawnSync("bash", ["-c", loop, file], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trimEnd().split("\n");
    assert.equal(lines.length, facts.length * 2);
    facts.forEach((f, i) => {
      const want = decide(f);
      assert.equal(lines[2 * i], want.verdict, factsKey(f));
      assert.equal(
        lines[2 * i + 1],
        reasonText(want.reason, { peer: "lab-db-2 (10.231.0.12)", localTimeline: "?", peerTimeline: "?", waitSeconds: 120 }),
        factsKey(f),
      );
    });
    const unknown = spawnSync("bash", [file, "explain", "boot:primary:maybe:in-time:no-override"], { encoding: "utf8" });
    assert.notEqual(unknown.status, 0, "an unknown fact is an error, not a verdict");
    fs.rmSync(path.dirname(file), { recursive: true });
  });

  it("asks the peer over the replication protocol as the replication user, with a bounded connect", () => {
    assert.match(
      script,
      /^conninfo='host=10\.231\.0\.12 port=5432 user=replicator dbname=replication replication=true connect_timeout=3 application_name=django-ha-boot-guard'$/m,
    );
    assert.match(script, /-c IDENTIFY_SYSTEM -c 'SHOW in_hot_standby'/);
    assert.match(script, /^wait_seconds=120$/m);
  });
});

describe("boot guard: units", () => {
  it("the guard runs before PostgreSQL and every gated unit, after the network and the db volume, longer than its wait", () => {
    const text = renderUnit(
      bootGuardUnit([
        ["Requires", "var-lib-postgresql.mount"],
        ["After", "var-lib-postgresql.mount"],
      ]),
    );
    assert.match(text, /^Before=postgresql@17-main\.service nfs-ganesha\.service django-ha-share-sync\.service redis-server\.service$/m);
    assert.match(text, /^After=network-online\.target$/m);
    assert.match(text, /^Requires=var-lib-postgresql\.mount$/m);
    assert.match(text, new RegExp(`^TimeoutStartSec=${BOOT_GUARD_WAIT_SECONDS + 60}$`, "m"));
    assert.match(text, /^RemainAfterExit=yes$/m);
  });

  it("PostgreSQL requires the guard's decision; the gated units ask the gate (ExecCondition, with full privileges)", () => {
    assert.ok(GATED_UNITS.includes(SHARE_SYNC_UNIT as (typeof GATED_UNITS)[number]), "the share sync unit is gated");
    const files = guardDropIns();
    assert.deepEqual(
      files.map((f) => f.file.path),
      [
        "/etc/systemd/system/postgresql@.service.d/django-ha-guard.conf",
        "/etc/systemd/system/nfs-ganesha.service.d/django-ha-guard.conf",
        "/etc/systemd/system/django-ha-share-sync.service.d/django-ha-guard.conf",
        "/etc/systemd/system/redis-server.service.d/django-ha-guard.conf",
      ],
    );
    assert.match(files[0].file.content, /^Requires=django-ha-boot-guard\.service$/m);
    assert.match(files[0].file.content, /^After=django-ha-boot-guard\.service$/m);
    for (const f of files.slice(1)) {
      assert.match(f.file.content, /^ExecCondition=\+\/usr\/local\/sbin\/django-ha-boot-guard gate [a-z-]+$/m);
      assert.match(f.file.content, /^After=django-ha-boot-guard\.service postgresql@17-main\.service$/m);
    }
  });
});

describe("boot guard: the bootstrap's steps", () => {
  it("parent: a fenced node stops the bootstrap with the guard's reason; standby: it goes on (the base backup decides)", () => {
    const parent = bootGuardScript("parent").script;
    const standby = bootGuardScript("standby").script;
    for (const s of [parent, standby]) {
      assert.match(
        s,
        /touch \/run\/django-ha-boot-guard\.bootstrap\n {2}if ! systemctl start "\$unit"/,
        "decides as the bootstrap, once per boot",
      );
      assert.match(s, /systemctl enable --quiet "\$unit"/);
    }
    assert.match(
      parent,
      /if \[ "\$verdict" = fenced \]; then\n {2}echo "this node is fenced by its boot guard and is not made a primary: .*" >&2\n {2}exit 1\nfi/,
    );
    assert.doesNotMatch(standby, /exit 1\nfi\s*$/);
    // A stale record (a boot-time decision from before a failover promoted the node) is not trusted: decided again.
    assert.match(
      parent,
      /if \[ "\$verdict" != primary \]; then\n {2}touch \/run\/django-ha-boot-guard\.bootstrap\n {2}\/usr\/local\/sbin\/django-ha-boot-guard decide\n/,
    );
    assert.ok(
      parent.indexOf("django-ha-boot-guard decide") < parent.indexOf('if [ "$verdict" = fenced ]'),
      "decided again before the fence check",
    );
    assert.doesNotMatch(standby, /django-ha-boot-guard decide/);
    for (const s of [parent, standby, bootGuardRefreshScript().script]) {
      const r = spawnSync("shellcheck", ["--shell=bash", "--severity=style", "-"], { input: s, encoding: "utf8" });
      assert.equal(r.status, 0, r.stdout + r.stderr);
    }
  });

  it("the refresh after the base backup re-decides only when the record is not 'standby' and the signal is replication's", () => {
    assert.match(
      bootGuardRefreshScript().script,
      /!= standby \] && \[ -f "\$data\/standby\.signal" \] && ! grep -qx django-ha-boot-guard "\$data\/standby\.signal"; then\n {2}\/usr\/local\/sbin\/django-ha-boot-guard decide/,
    );
  });
});
