import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { fixtureInventory } from "../../roles/fixtures";
import type { InventoryNode } from "../../model";
import type { RemoteExecutor, RunResult } from "../ssh/executor";
import type { Argv } from "../../roles/shell";
import { agentRun, formatCertificatePhase, runCertificatePhase, tlsSync, trustedHealth } from "./certificate";
import { formatSummary } from "./orchestrate";

/** Answers by step: the agent run, the sync, the trusted health check; records what ran where. */
function scripted(answers: { agent?: RunResult; sync?: Record<string, RunResult>; health?: Record<string, RunResult> }) {
  const ran: string[] = [];
  const closed: string[] = [];
  const ok: RunResult = { code: 0, stdout: "", stderr: "", truncated: false };
  const connect = async (node: InventoryNode): Promise<RemoteExecutor> => ({
    node: node.name,
    async run(argv: Argv): Promise<RunResult> {
      const step =
        argv[2] === agentRun("x")[2]
          ? "agent"
          : argv[0] === tlsSync()[0]
            ? "sync"
            : argv[2] === trustedHealth("x", "y")[2]
              ? "health"
              : "other";
      ran.push(`${node.name} ${step}`);
      if (step === "agent") return answers.agent ?? ok;
      if (step === "sync") return answers.sync?.[node.name] ?? ok;
      if (step === "health") return answers.health?.[node.name] ?? ok;
      throw new Error(`unexpected command ${argv.join(" ")}`);
    },
    async putFile() {},
    async close() {
      closed.push(node.name);
    },
  });
  return { ran, closed, connect };
}

const inventory = fixtureInventory();

describe("the certificate phase", () => {
  it("runs the agent on the primary, then syncs and checks every child; every connection closed", async () => {
    const s = scripted({});
    const lines: string[] = [];
    const r = await runCertificatePhase({ inventory, connect: s.connect, log: (n, l) => lines.push(`${n} ${l}`) });
    assert.equal(r.ok, true);
    assert.deepEqual(r.trusted, ["lab-child-1", "lab-child-2"]);
    assert.equal(s.ran[0], "lab-db-1 agent");
    assert.deepEqual(s.ran.slice(1).sort(), ["lab-child-1 health", "lab-child-1 sync", "lab-child-2 health", "lab-child-2 sync"]);
    assert.deepEqual(s.closed.sort(), ["lab-child-1", "lab-child-2", "lab-db-1"]);
    assert.ok(lines.includes("lab-child-1 certificate: trusted"), lines.join("\n"));
    assert.match(formatCertificatePhase(r)[0], /^certificate {2}trusted on 2 children: lab-child-1, lab-child-2/);
  });

  it("follows the primary after a failover (the agent runs where inventory.primary says)", async () => {
    const s = scripted({});
    const swapped = {
      ...inventory,
      primary: "lab-db-2",
      standby: "lab-db-1",
      nodes: inventory.nodes.map((n) =>
        n.name === "lab-db-2" ? { ...n, role: "parent" as const } : n.name === "lab-db-1" ? { ...n, role: "standby" as const } : n,
      ),
    };
    await runCertificatePhase({ inventory: swapped, connect: s.connect, log: () => {} });
    assert.equal(s.ran[0], "lab-db-2 agent");
  });

  it("an agent failure names the primary, the step and the agent's last error; no child is touched", async () => {
    const s = scripted({
      agent: {
        code: 1,
        stdout: "the renewal agent failed; its last lines:\nlastError: urn:ietf:params:acme:error:connection",
        stderr: "",
        truncated: false,
      },
    });
    const r = await runCertificatePhase({ inventory, connect: s.connect, log: () => {} });
    assert.equal(r.ok, false);
    assert.equal(r.failure?.node, "lab-db-1");
    assert.match(r.failure!.step, /^django-ha-acme run/);
    assert.match(r.failure!.output, /acme:error:connection/);
    assert.deepEqual(s.ran, ["lab-db-1 agent"]);
    const text = formatCertificatePhase(r).join("\n");
    assert.match(text, /FAILED on lab-db-1 at django-ha-acme run .*keep serving the certificate they had/);
    assert.match(text, /\| lastError: urn:ietf:params:acme:error:connection/);
  });

  it("a child whose certificate is not trusted fails the phase, naming that child; the other is checked too", async () => {
    const s = scripted({
      health: {
        "lab-child-2": { code: 1, stdout: "https://www.lab.test/health/ via 10.231.0.22 is not trusted", stderr: "", truncated: false },
      },
    });
    const r = await runCertificatePhase({ inventory, connect: s.connect, log: () => {} });
    assert.equal(r.ok, false);
    assert.equal(r.failure?.node, "lab-child-2");
    assert.match(r.failure!.step, /verified by the system trust store/);
    assert.deepEqual(r.trusted, ["lab-child-1"]);
  });

  it("a child that cannot be reached is a failure at connect", async () => {
    const s = scripted({});
    const connect = async (n: InventoryNode) =>
      n.name === "lab-child-1" ? Promise.reject(new Error("lab-child-1: connect ECONNREFUSED")) : s.connect(n);
    const r = await runCertificatePhase({ inventory, connect, log: () => {} });
    assert.deepEqual(r.ok ? undefined : r.failure, { node: "lab-child-1", step: "connect", output: "lab-child-1: connect ECONNREFUSED" });
  });

  it("the run's summary fails with the phase and says so", () => {
    const summary = {
      ok: false,
      results: [{ node: "lab-db-1", role: "parent", status: "unchanged" as const, changes: [], durationMs: 10 }],
      certificate: { ok: false, failure: { node: "lab-db-1", step: "django-ha-acme run", output: "x" }, trusted: [], durationMs: 5 },
      durationMs: 15,
    };
    assert.match(formatSummary(summary), /bootstrap FAILED \(0 failed, 0 skipped, certificate phase failed\)/);
  });
});

describe("the phase's remote programs", () => {
  it("pass data as arguments, never in the program text", () => {
    assert.deepEqual(agentRun("www.lab.test").slice(3), [
      "django-ha",
      "django-ha-acme.service",
      "/srv/share/tls/www.lab.test",
      "/srv/share/.django-ha-acme-ready",
    ]);
    assert.deepEqual(trustedHealth("www.lab.test", "10.231.0.21", "/-/health/").slice(3), [
      "django-ha",
      "www.lab.test",
      "10.231.0.21",
      "/-/health/",
    ]);
    assert.doesNotMatch(trustedHealth("www.lab.test", "10.231.0.21")[2], /-k\b|--insecure|--cacert/);
  });

  for (const [name, argv] of [
    ["agent run", agentRun("www.lab.test")],
    ["trusted health", trustedHealth("www.lab.test", "10.231.0.21")],
  ] as const) {
    it(`shellcheck: ${name}`, () => {
      const r = spawnSync("shellcheck", ["--shell=bash", "--severity=style", "-"], {
        input: `#!/usr/bin/env bash\n${argv[2]}\n`,
        encoding: "utf8",
      });
      if (r.error) throw new Error(`shellcheck could not run (${r.error.message}): install it (test/host-packages.txt)`);
      assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
    });
  }
});
