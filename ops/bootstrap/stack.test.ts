import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { hostsInventory, loadStackSpec, UserError } from "../../model";
import { consoleProgress, describePlan, loadOrCreateSecrets, randomPassword, selectNodes } from "./bootstrapCluster";
import { parseInventory, renderStackPlans, resolveStack } from "./stack";

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

  it("another hosts stack runs against the lab when the lab was booted from it (same names and addresses), else as plain hosts", () => {
    fs.copyFileSync(path.resolve(__dirname, "..", "..", "stacks", "Pulumi.lab-wide.yaml"), path.join(stacks, "Pulumi.lab-wide.yaml"));
    const labRoot = path.join(tmp, "lab-root");
    fs.mkdirSync(labRoot, { recursive: true });
    const inventoryOf = (stack: string) => JSON.stringify(hostsInventory(loadStackSpec(stack, stacks)));
    fs.writeFileSync(path.join(labRoot, "inventory.json"), inventoryOf("lab-wide"));
    const wide = resolveStack({ stack: "lab-wide", stacksDir: stacks, stateRoot: tmp, labRoot });
    assert.equal(wide.shareMount, "lab-device", "the lab's children mount the primary's share volume");
    assert.equal(wide.identityFile, path.join(labRoot, "ssh", "id_ed25519"));
    assert.equal(wide.inventory.nodes.filter((n) => n.role === "child").length, 4);
    fs.writeFileSync(path.join(labRoot, "inventory.json"), inventoryOf("lab"));
    const plain = resolveStack({ stack: "lab-wide", stacksDir: stacks, stateRoot: tmp, labRoot, identity: "/k" });
    assert.equal(plain.shareMount, "nfs");
    assert.equal(plain.identityFile, "/k");
  });

  it("a cloud stack without --inventory says how to export it", () => {
    assert.throws(
      () => resolveStack({ stack: "do", stacksDir: stacks, stateRoot: tmp }),
      (e: unknown) =>
        e instanceof UserError &&
        /targets digitalocean/.test(e.message) &&
        /pulumi stack output inventory --json --stack do > do-inventory.json/.test(e.message),
    );
  });

  it("a cloud stack reads its exported inventory; its state lives in .django-ha/<stack>", () => {
    const spec = loadStackSpec("lab");
    const file = path.join(tmp, "inv.json");
    fs.writeFileSync(file, JSON.stringify(hostsInventory(spec)));
    const t = resolveStack({ stack: "do", stacksDir: stacks, stateRoot: tmp, inventoryFile: file, identity: "/k" });
    assert.equal(t.inventory.nodes.length, 5);
    assert.equal(t.identityFile, "/k");
    assert.equal(t.knownHostsPath, path.join(tmp, "do", "known_hosts"));
    assert.equal(t.secretsFile, path.join(tmp, "do", "secrets.json"));
    assert.equal(t.lockPath, path.join(tmp, "do", "stack.lock"));
    assert.equal(t.shareMount, "nfs");
    assert.deepEqual(t.adminCidrs, ["203.0.113.7/32"]);
  });

  it("the lab reads .lab/inventory.json with the lab's own key and known_hosts; a dry run works before it is up", async () => {
    const labRoot = path.join(tmp, "lab");
    assert.throws(
      () => resolveStack({ stack: "lab", stacksDir: stacks, stateRoot: tmp, labRoot }),
      /The lab is not up: .*inventory\.json does not exist\. Start it with: npm run lab -- up/,
    );
    const offline = resolveStack({ stack: "lab", stacksDir: stacks, stateRoot: tmp, labRoot, offline: true });
    assert.match(offline.inventorySource, /the lab is not up/);
    fs.mkdirSync(labRoot);
    fs.writeFileSync(path.join(labRoot, "inventory.json"), JSON.stringify(hostsInventory(loadStackSpec("lab"))));
    const t = resolveStack({ stack: "lab", stacksDir: stacks, stateRoot: tmp, labRoot });
    assert.equal(t.identityFile, path.join(labRoot, "ssh", "id_ed25519"));
    assert.equal(t.knownHostsPath, path.join(labRoot, "ssh", "known_hosts"));
    assert.equal(t.shareMount, "lab-device");
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

  it("an unknown stack names the known ones", () => {
    assert.throws(() => resolveStack({ stack: "nope", stacksDir: stacks, stateRoot: tmp }), /No stack "nope".*Known stacks: do, lab/);
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
    const inv = hostsInventory(loadStackSpec("lab"));
    inv.nodes[0].dataDevices = { db: "/dev/nvme1n1", share: inv.nodes[0].dataDevices!.share };
    assert.throws(
      () => parseInventory(JSON.stringify(inv), "inv.json"),
      /nodes\[0\]\.dataDevices\.db = "\/dev\/nvme1n1": is a kernel device name/,
    );
  });
});

describe("selectNodes", () => {
  const inv = hostsInventory(loadStackSpec("lab"));
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
