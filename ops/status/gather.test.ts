import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { labInv, NOW, probeOutput } from "../../test/status-fixtures";
import type { InventoryNode } from "../../model";
import type { RemoteExecutor, RunResult } from "../ssh/executor";
import type { Argv } from "../../roles/shell";
import { gatherStatus } from "./gather";
import { probeCommand } from "./probe";

const inv = labInv();

/** Answers the probe as a healthy node would; records what ran and whether it was closed. */
class ProbeFake implements RemoteExecutor {
  ran: Argv[] = [];
  closed = false;
  constructor(
    private readonly n: InventoryNode,
    private readonly answer: (n: InventoryNode) => RunResult = (x) => ({
      code: 0,
      stdout: probeOutput(x, inv),
      stderr: "",
      truncated: false,
    }),
  ) {}
  get node() {
    return this.n.name;
  }
  async run(argv: Argv): Promise<RunResult> {
    this.ran.push(argv);
    return this.answer(this.n);
  }
  async putFile(): Promise<void> {
    throw new Error("status never copies files");
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

describe("gathering a cluster's status", () => {
  it("probes every node once (read-only), reads the record, and reports progress per node", async () => {
    const fakes: ProbeFake[] = [];
    const lines: string[] = [];
    const s = await gatherStatus({
      stack: "lab",
      inventory: inv,
      connect: async (n) => {
        const f = new ProbeFake(n);
        fakes.push(f);
        return f;
      },
      readRecord: async () => inv.nodes.filter((n) => n.role === "child").map((n) => ({ name: n.name, address: n.publicAddress })),
      progress: (node, line) => lines.push(`${node} ${line}`),
      now: () => NOW,
    });
    assert.equal(s.healthy, true, JSON.stringify(s.findings));
    assert.equal(s.takenAt, NOW.toISOString());
    for (const f of fakes) {
      const node = inv.nodes.find((n) => n.name === f.node)!;
      assert.deepEqual(f.ran, [probeCommand(node.role, inv.recordFqdn)]);
      assert.ok(f.closed, `${f.node}: connection closed`);
    }
    for (const n of inv.nodes) {
      assert.ok(lines.includes(`${n.name} connecting`));
      assert.ok(
        lines.some((l) => l.startsWith(`${n.name} answered in `) && l.endsWith(": running")),
        n.name,
      );
    }
  });

  it("an unreachable node, a failing probe and an unreadable record are findings, not crashes", async () => {
    const s = await gatherStatus({
      stack: "lab",
      inventory: inv,
      connect: async (n) => {
        if (n.name === "lab-worker") throw new Error("lab-worker: cannot SSH to 10.231.0.31:22 after 1 attempts: ECONNREFUSED");
        return new ProbeFake(n, (x) =>
          x.name === "lab-child-2"
            ? { code: 124, stdout: "", stderr: "timeout", truncated: false }
            : { code: 0, stdout: probeOutput(x, inv), stderr: "", truncated: false },
        );
      },
      readRecord: async () => {
        throw new Error("10.231.0.2:53: looking up www.lab.test failed: ETIMEOUT");
      },
      now: () => NOW,
    });
    assert.equal(s.healthy, false);
    assert.deepEqual(
      s.findings.map((f) => `${f.subject}: ${f.message}`),
      [
        "lab-child-2: SSH answered but the status probe failed (the probe exited 124: timeout)",
        "lab-worker: unreachable over SSH (cannot SSH to 10.231.0.31:22 after 1 attempts: ECONNREFUSED)",
        "cluster: cannot read the record www.lab.test: 10.231.0.2:53: looking up www.lab.test failed: ETIMEOUT",
      ],
    );
  });
});
