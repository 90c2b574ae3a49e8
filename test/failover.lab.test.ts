/**
 * Failover drills in the lab (issue 9), as root, on ONE lab boot whose steps run in sequence under a write
 * load through the round-robin name: a client in the lab's outside namespace (test/drill) writes a uniquely
 * named note 10 times a second and reads the list 5 times a second, counting a write only when the app
 * acknowledged it; after each step every acknowledged write is looked up on the database node that must
 * hold it. Which node is primary comes from the inventory, never from a node name.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { labDown, labPower, labRemoveVolumes, labUp, isClean } from "../lab";
import { labBootstrapHook } from "../ops/bootstrap";
import type { Inventory } from "../spec";
import { formatTimeline, notesOn, startLoad, compareWithNode, type LoadRun, type Sample } from "./drill";

const quiet = () => undefined;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let inventory: Inventory;
let load: LoadRun;

/** The timeline around an instant, for a failing assertion's message. */
function around(samples: readonly Sample[], at: number): string {
  return formatTimeline(samples.filter((s) => s.start >= at - 2000 && s.start <= at + 20_000), at);
}

/**
 * Every acknowledged write of the run so far is on `node`. A synchronous standby has flushed every
 * acknowledged commit but may still be replaying the last ones, so a missing id is looked for again for a few seconds.
 */
async function assertNoLoss(node: string, samples: readonly Sample[]): Promise<void> {
  let result = compareWithNode(samples, await notesOn(node, load.idPrefix));
  for (let i = 0; i < 20 && result.missing.length > 0; i++) {
    await sleep(500);
    result = compareWithNode(samples, await notesOn(node, load.idPrefix));
  }
  assert.ok(result.acked > 0, "no write was acknowledged at all");
  assert.deepEqual(result.missing, [], `${result.missing.length} of ${result.acked} acknowledged writes are not on ${node}`);
}

before(async () => {
  await labDown({ log: quiet });
  await labRemoveVolumes({ log: quiet });
  let bootstrapped = false;
  const up = await labUp({ log: quiet, afterBoot: [labBootstrapHook({ onSummary: (s) => (bootstrapped = s.ok) })] });
  assert.ok(bootstrapped, "the bootstrap of the lab failed");
  inventory = up.inventory;
  load = startLoad(inventory, { writesPerSecond: 10, readsPerSecond: 5, label: "failover" });
});

after(async () => {
  await load?.stop().catch(() => undefined);
  const left = await labDown({ log: quiet });
  assert.ok(isClean(left), `lab down left something behind: ${JSON.stringify(left)}`);
});

describe("failover drills under a write load through the round-robin name", () => {
  it("the load flows: writes acknowledged and reads served through every child", async () => {
    await load.waitFor("write", (s) => s.ok, 20);
    await load.waitFor("read", (s) => s.ok, 5);
    const targets = new Set(load.samples.filter((s) => s.ok).map((s) => s.target));
    assert.equal(targets.size, inventory.nodes.filter((n) => n.role === "child").length, `targets: ${[...targets].join(", ")}`);
    assert.deepEqual(load.samples.filter((s) => !s.ok), [], "a request failed before anything happened");
  });

  it("a power cut of the primary: reads are served from the standby, writes get the read-only 503, no acknowledged write is lost", async () => {
    const cut = Date.now();
    await labPower().fence(inventory.primary);
    await sleep(10_000);
    const samples = [...load.samples];
    // Requests in flight at the cut may fail; from a second later on, the behaviour is settled.
    const settled = samples.filter((s) => s.start >= cut + 1000 && s.start < cut + 10_000);
    const reads = settled.filter((s) => s.kind === "read");
    const writes = settled.filter((s) => s.kind === "write");
    assert.ok(reads.length >= 30 && writes.length >= 60, `load kept running: ${reads.length} reads, ${writes.length} writes`);
    assert.deepEqual(reads.filter((s) => !s.ok), [], `reads failed while the primary was away:\n${around(samples, cut)}`);
    assert.deepEqual(writes.filter((s) => s.ok || s.status !== 503 || !/"read_only": true/.test(s.error ?? "")), [], `writes must get the read-only 503:\n${around(samples, cut)}`);
    await assertNoLoss(inventory.standby, samples);
  });
});
