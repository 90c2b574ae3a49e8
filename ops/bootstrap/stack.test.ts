import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { hostsInventory, UserError } from "../../model";
import { consoleProgress, describePlan, loadOrCreateSecrets, randomPassword, selectNodes } from "./bootstrapCluster";
import type { InventorySource } from "./source";
import { parseInventory, renderStackPlans, resolveStack } from "./stack";
import { hostsStackSpec } from "../../test/hosts-spec";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "bootstrap-stack-"));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const STACK = (provider: string, extra: string) => `config:
  django-ha:provider: ${provider}
  django-ha:clusterName: demo
  django-ha:domain: example.com
  django-ha:recordName: www
  django-ha:acmeEmail: ops@your-company.com
  django-ha:adminCidrs: ["203.0.113.7/32"]
${extra}`;

describe("resolveStack", () => {
  const stacks = path.join(tmp, "stacks");
  fs.mkdirSync(stacks);
  fs.writeFileSync(
    path.join(stacks, "Pulumi.do.yaml"),
    STACK("digitalocean", `  django-ha:region: fra1\n  django-ha:sshPublicKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE me"]\n`),
  );
  fs.copyFileSync(path.resolve(__dirname, "..", "..", "stacks", "Pulumi.lab.yaml"), path.join(stacks, "Pulumi.lab.yaml"));

  it("asks the injected sources before the stack file, after --inventory; --identity and --known-hosts win over a source's", () => {
    const spec = hostsStackSpec("lab");
    const asked: string[] = [];
    const source = (holds: boolean): InventorySource => ({
      machinesOf: (stack, _spec, offline) => {
        asked.push(`${stack}${offline ? " offline" : ""}`);
        if (!holds) return undefined;
        return {
          inventory: hostsInventory(spec),
          inventorySource: "the source",
          identityFile: "/source/key",
          knownHostsPath: "/source/known_hosts",
          capabilities: { shareMountFor: () => "lab-bind", generatesAppSecrets: true },
        };
      },
    });
    const held = resolveStack({ stack: "lab", stacksDir: stacks, stateRoot: tmp, sources: [source(false), source(true)], offline: true });
    assert.deepEqual(asked, ["lab offline", "lab offline"]);
    assert.deepEqual(
      [held.inventorySource, held.identityFile, held.knownHostsPath, held.shareMount],
      ["the source", "/source/key", "/source/known_hosts", "lab-bind"],
    );
    assert.equal(held.capabilities.generatesAppSecrets, true);
    assert.equal(held.secretsFile, path.join(tmp, "lab", "secrets.json"), "operator state stays in .django-ha/<stack>");
    const flags = resolveStack({
      stack: "lab",
      stacksDir: stacks,
      stateRoot: tmp,
      sources: [source(true)],
      identity: "/k",
      knownHosts: "/kh",
    });
    assert.deepEqual([flags.identityFile, flags.knownHostsPath], ["/k", "/kh"]);
    const declined = resolveStack({ stack: "lab", stacksDir: stacks, stateRoot: tmp, sources: [source(false)] });
    assert.equal(declined.inventorySource, "stacks/Pulumi.lab.yaml");
    assert.equal(declined.identityFile, path.join(os.homedir(), ".ssh", "id_ed25519"));
    assert.equal(declined.knownHostsPath, path.join(tmp, "lab", "known_hosts"));
    assert.equal(declined.shareMount, "nfs");
    assert.deepEqual(declined.capabilities, {});
    asked.length = 0;
    const file = path.join(tmp, "lab-inventory.json");
    fs.writeFileSync(file, JSON.stringify(hostsInventory(spec)));
    assert.equal(
      resolveStack({ stack: "lab", stacksDir: stacks, stateRoot: tmp, sources: [source(true)], inventoryFile: file }).inventorySource,
      file,
    );
    assert.deepEqual(asked, [], "--inventory wins: no source is asked");
  });

  it("a dry run of a hosts stack plans from its stack file without writing secrets", async () => {
    const t = resolveStack({ stack: "lab", stacksDir: stacks, stateRoot: tmp, sources: [], offline: true });
    const plans = await renderStackPlans(t, { only: ["lab-child-1"] });
    assert.deepEqual(
      plans.map((p) => p.node.name),
      ["lab-child-1"],
    );
    assert.equal(fs.existsSync(t.secretsFile), false, "planning writes no secrets");
    assert.ok(
      describePlan(plans[0]).some((l) => /^file \/etc\/ssh\/sshd_config\.d\/00-django-ha\.conf \(0644 root:root, \d+ bytes\)$/.test(l)),
    );
  });

  it("a cloud stack without --inventory says how to export it", () => {
    assert.throws(
      () => resolveStack({ stack: "do", stacksDir: stacks, stateRoot: tmp, sources: [] }),
      (e: unknown) =>
        e instanceof UserError &&
        /targets digitalocean/.test(e.message) &&
        /pulumi stack output inventory --json --stack do > do-inventory.json/.test(e.message),
    );
  });

  it("a cloud stack reads its exported inventory; its state lives in .django-ha/<stack>", () => {
    const spec = hostsStackSpec("lab");
    const file = path.join(tmp, "inv.json");
    fs.writeFileSync(file, JSON.stringify(hostsInventory(spec)));
    const t = resolveStack({ stack: "do", stacksDir: stacks, stateRoot: tmp, inventoryFile: file, identity: "/k", sources: [] });
    assert.equal(t.inventory.nodes.length, 5);
    assert.equal(t.identityFile, "/k");
    assert.equal(t.knownHostsPath, path.join(tmp, "do", "known_hosts"));
    assert.equal(t.secretsFile, path.join(tmp, "do", "secrets.json"));
    assert.equal(t.lockPath, path.join(tmp, "do", "stack.lock"));
    assert.equal(t.shareMount, "nfs");
    assert.deepEqual(t.adminCidrs, ["203.0.113.7/32"]);
  });

  it("an unknown stack names the known ones", () => {
    assert.throws(
      () => resolveStack({ stack: "nope", stacksDir: stacks, stateRoot: tmp, sources: [] }),
      /No stack "nope".*Known stacks: do, lab/,
    );
  });
});

describe("parseInventory", () => {
  it("lists every problem of a file that is not an inventory", () => {
    assert.throws(() => parseInventory("{", "x.json"), /x\.json is not JSON/);
    assert.throws(
      () => parseInventory(JSON.stringify({ version: 2, nodes: [{ name: "a" }] }), "x.json"),
      (e: Error) =>
        /version = 2: expected 1/.test(e.message) &&
        /nodes\[0\] = \{"name":"a"\}: every node needs name, role and publicAddress/.test(e.message) &&
        /ssh = undefined/.test(e.message),
    );
  });

  it("refuses data devices by kernel name (the bootstrap would format whatever disk got that name)", () => {
    const inv = hostsInventory(hostsStackSpec("lab"));
    inv.nodes[0].dataDevices = { db: "/dev/nvme1n1", share: inv.nodes[0].dataDevices!.share };
    assert.throws(
      () => parseInventory(JSON.stringify(inv), "inv.json"),
      /nodes\[0\]\.dataDevices\.db = "\/dev\/nvme1n1": is a kernel device name/,
    );
  });
});

describe("selectNodes", () => {
  const inv = hostsInventory(hostsStackSpec("lab"));
  it("keeps inventory order and refuses unknown names", () => {
    assert.deepEqual(
      selectNodes(inv, ["lab-worker", "lab-db-1"]).map((n) => n.name),
      ["lab-db-1", "lab-worker"],
    );
    assert.equal(selectNodes(inv).length, 5);
    assert.throws(
      () => selectNodes(inv, ["lab-child-9"]),
      /--only names "lab-child-9", not in the inventory of cluster lab\. Known nodes: lab-db-1, lab-db-2, lab-child-1, lab-child-2, lab-worker/,
    );
  });
});

describe("secrets for runs outside Pulumi", () => {
  it("generates a 0600 file once, then reads the same values", () => {
    const file = path.join(tmp, "s", "secrets.json");
    const a = loadOrCreateSecrets(file);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.match(a.dbPassword, /^[A-Za-z0-9]{32}$/);
    assert.match(a.djangoSecretKey, /^[A-Za-z0-9]{64}$/);
    assert.notEqual(a.dbPassword, a.redisPassword);
    assert.deepEqual(loadOrCreateSecrets(file), a);
    fs.chmodSync(file, 0o644);
    assert.throws(() => loadOrCreateSecrets(file), /readable by group or others \(mode 644\).*chmod 600/);
    fs.chmodSync(file, 0o600);
    fs.writeFileSync(file, JSON.stringify({ dbPassword: "x" }));
    assert.throws(() => loadOrCreateSecrets(file), /lacks replicationPassword, redisPassword, djangoSecretKey/);
  });

  it("random passwords are letters and digits of the asked length", () => {
    for (const n of [1, 16, 64, 200]) assert.match(randomPassword(n), new RegExp(`^[A-Za-z0-9]{${n}}$`));
  });
});

describe("consoleProgress", () => {
  it("labels each line with the node, names in one column", () => {
    const out: string[] = [];
    const log = consoleProgress(["lab-db-1", "w"], (s) => out.push(s));
    log("w", "file /etc/x: changed (3 ms)");
    log("lab-db-1", "no changes in 0.4 s");
    assert.deepEqual(out, ["w        │ file /etc/x: changed (3 ms)\n", "lab-db-1 │ no changes in 0.4 s\n"]);
  });
});
