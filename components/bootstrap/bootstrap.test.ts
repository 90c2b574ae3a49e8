/**
 * The Bootstrap resource: wiring under pulumi.runtime.setMocks (whose create() is never called), the
 * provider's diff/check as pure functions, its closure serialization, and the provider's create/update
 * run for real against a throwaway sshd on 127.0.0.1.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import type { NodePlan } from "../../roles/types";
import { hostsInventory, Inventory } from "../../model";
import { plansHash } from "../../ops/bootstrap/hash";
import { startTestSshServer, TestSshServer } from "../../test/ssh-server";

interface Registered {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}
const registered: Registered[] = [];
pulumi.runtime.setMocks(
  {
    newResource(args) {
      registered.push({ type: args.type, name: args.name, inputs: args.inputs });
      return { id: args.custom === false ? undefined : `${args.name}-id`, state: args.inputs };
    },
    call: (args) => args.inputs,
  },
  "django-ha",
  "test-stack",
  true,
);

// Imported after setMocks, as Pulumi's own testing guide does.
import { Bootstrap, bootstrapRunProps } from "./bootstrap";
import { bootstrapHaCluster } from "./bootstrapHaCluster";
import { bootstrapCheck, bootstrapDiff, bootstrapProvider } from "./provider";
import { replacedNodes } from "./run";
import { hostsStackSpec } from "../../test/hosts-spec";

/** How the engine marks a secret value on the wire (the mocks see it as is). */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const SECRET_VALUE = "1b47061264138c4ac30d75fd1eb44270";

const resolve = <T>(o: pulumi.Output<T>): Promise<T> => new Promise((r) => o.apply((v) => r(v)));

const spec = hostsStackSpec("lab");
const inventory = hostsInventory(spec);
const plans = (inv: Inventory, content = "hello"): NodePlan[] =>
  inv.nodes.map((node) => ({
    node,
    role: node.role,
    actions: [{ kind: "file", file: { path: `/tmp/django-ha-test-${node.name}`, content, mode: "0644", owner: "root", group: "root" } }],
    checks: [],
  }));

describe("Bootstrap resource wiring (mocks)", () => {
  it("registers the component and its dynamic Run with the plans' content hash and a pinned known_hosts per stack", async () => {
    registered.length = 0;
    const b = new Bootstrap("lab-bootstrap", {
      inventory,
      plans: plans(inventory),
      privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----\n",
    });
    assert.equal(await resolve(b.plansHash), plansHash(plans(inventory)));
    const types = registered.map((r) => `${r.type} ${r.name}`);
    assert.deepEqual(types, ["django-ha:bootstrap:Bootstrap lab-bootstrap", "pulumi-nodejs:dynamic/bootstrap:Run lab-bootstrap-run"]);
    const run = registered[1].inputs;
    assert.equal(run.plansHash, plansHash(plans(inventory)));
    assert.equal(run.knownHostsPath, path.resolve(__dirname, "..", "..", ".django-ha", "test-stack", "known_hosts"));
    assert.equal(run.concurrency, 4);
    assert.equal(typeof run.__provider, "string", "the provider is serialized into the inputs");
    assert.equal((run.privateKey as Record<string, unknown>)[SECRET_SIG], SECRET_VALUE, "the key reaches the engine as a secret");
  });

  it("keeps the plans and the key secret", async () => {
    const props = bootstrapRunProps({ inventory, plans: pulumi.secret(plans(inventory)), privateKey: "k" }, "s");
    assert.equal(await pulumi.isSecret(props.plans as pulumi.Output<unknown>), true);
    assert.equal(await pulumi.isSecret(props.privateKey as pulumi.Output<unknown>), true);
    assert.equal(await pulumi.isSecret(props.plansHash as pulumi.Output<unknown>), false, "the hash is what diffs show");
  });

  it("a change to any rendered file changes the hash (so pulumi up re-runs)", () => {
    assert.notEqual(plansHash(plans(inventory, "v1")), plansHash(plans(inventory, "v2")));
    assert.equal(plansHash(plans(inventory, "v1")), plansHash([...plans(inventory, "v1")].reverse()), "node order does not matter");
  });

  it("bootstrapHaCluster renders every node's plan with roles/ from the inventory and secrets", async () => {
    registered.length = 0;
    const secrets = { dbPassword: "a1", replicationPassword: "b2", redisPassword: "c3", djangoSecretKey: "d4", tlsPassphrase: "e5" };
    const b = bootstrapHaCluster("c-bootstrap", { spec, inventory, secrets, privateKey: "k", healthDnsSecret: "dGVzdC1oZWFsdGg=" });
    const hash = await resolve(b.plansHash);
    assert.match(hash, /^[0-9a-f]{64}$/);
    const run = registered.find((r) => r.type === "pulumi-nodejs:dynamic/bootstrap:Run")!;
    const wrapped = run.inputs.plans as { [SECRET_SIG]?: string; value?: NodePlan[] };
    assert.equal(wrapped[SECRET_SIG], SECRET_VALUE, "plans reach the engine as a secret");
    const rendered = wrapped.value!;
    assert.deepEqual(
      rendered.map((p) => `${p.node.name}:${p.role}`),
      inventory.nodes.map((n) => `${n.name}:${n.role}`),
    );
    assert.ok(rendered.every((p) => p.actions.length > 0));
  });
});

describe("Bootstrap provider: diff and check", () => {
  const news = { plansHash: "h1", inventory };
  const outs = { plansHash: "h1", addresses: Object.fromEntries(inventory.nodes.map((n) => [n.name, n.publicAddress])) };

  it("no change when hash and addresses are the same; update (never replace) when either changes", () => {
    assert.deepEqual(bootstrapDiff(outs, news), { changes: false, replaces: [], deleteBeforeReplace: false });
    assert.equal(bootstrapDiff(outs, { ...news, plansHash: "h2" }).changes, true);
    const moved = { ...inventory, nodes: inventory.nodes.map((n, i) => (i === 0 ? { ...n, publicAddress: "10.231.0.99" } : n)) };
    assert.equal(bootstrapDiff(outs, { ...news, inventory: moved }).changes, true);
    assert.deepEqual(bootstrapDiff(outs, { ...news, plansHash: "h2" }).replaces, []);
  });

  it("a replaced machine (same name and address, another provider id) is a change; state without ids compares none", () => {
    const ids = { "lab-db-1": "i-1", "lab-child-1": "i-2" };
    assert.equal(bootstrapDiff({ ...outs, machineIds: ids }, { ...news, machineIds: { ...ids } }).changes, false);
    assert.equal(bootstrapDiff({ ...outs, machineIds: ids }, { ...news, machineIds: { ...ids, "lab-db-1": "i-9" } }).changes, true);
    assert.equal(bootstrapDiff(outs, { ...news, machineIds: ids }).changes, false, "outputs written before machine ids were recorded");
    assert.deepEqual(
      replacedNodes({ machineIds: ids }, { machineIds: { "lab-db-1": "i-9", "lab-child-1": "i-2", "lab-child-2": "i-3" } }),
      ["lab-db-1"],
    );
    assert.deepEqual(replacedNodes(undefined, { machineIds: ids }), []);
  });

  it("unknown values during preview count as changes instead of crashing", () => {
    assert.equal(bootstrapDiff(outs, { plansHash: undefined, inventory }).changes, true);
    assert.equal(bootstrapDiff(outs, { plansHash: "h1", inventory: undefined }).changes, true);
    assert.equal(bootstrapDiff({}, news).changes, true);
  });

  it("check names the property and the fix; unknowns pass", () => {
    assert.deepEqual(bootstrapCheck({ plans: [], privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----" }).failures, []);
    assert.deepEqual(bootstrapCheck({}).failures, []);
    const f = bootstrapCheck({ plans: "x", privateKey: "~/.ssh/id_ed25519", concurrency: 0 }).failures!;
    assert.deepEqual(
      f.map((x) => x.property),
      ["plans", "privateKey", "concurrency"],
    );
    assert.match(f[1].reason, /text of an OpenSSH private key .* not a path/);
  });

  it("serializes without capturing imported modules (it requires them inside its methods)", async () => {
    const serialized = await pulumi.runtime.serializeFunction(() => bootstrapProvider, { isFactoryFunction: true, allowSecrets: false });
    const text = serialized.text;
    assert.match(text, /run\.ts/);
    assert.doesNotMatch(text, /ssh2|node-ssh|NodeSSH|p-retry/);
    assert.ok(text.length < 20_000, `closure is ${text.length} characters`);
  });
});

describe("Bootstrap provider create/update against a throwaway sshd", () => {
  let server: TestSshServer;
  let dir: string;
  before(async () => {
    server = await startTestSshServer();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "bootstrap-provider-"));
  });
  after(async () => {
    await server?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function inputs(content: string, script = "true") {
    const inv: Inventory = {
      ...inventory,
      ssh: { user: server.username, port: server.port },
      nodes: [inventory.nodes[0], inventory.nodes[2]].map((n) => ({ ...n, publicAddress: "127.0.0.1" })),
    };
    const ps: NodePlan[] = inv.nodes.map((node) => ({
      node,
      role: node.role,
      actions: [
        { kind: "file", file: { path: path.join(dir, node.name, "app.conf"), content, mode: "0600", owner: "root", group: "root" } },
        { kind: "script", name: "s", script: `${script}\n` },
      ],
      checks: [],
    }));
    return {
      inventory: inv,
      plans: ps,
      privateKey: server.privateKey,
      knownHostsPath: path.join(dir, "known_hosts"),
      lockPath: path.join(dir, "bootstrap.lock"),
      concurrency: 2,
      plansHash: plansHash(ps),
    };
  }

  it("the serialized provider runs in a plain node process with no TypeScript loader, as the provider host runs it", async () => {
    const serialized = await pulumi.runtime.serializeFunction(() => bootstrapProvider, { isFactoryFunction: true, allowSecrets: false });
    const hostDir = fs.mkdtempSync(path.join(os.tmpdir(), "provider-host-"));
    fs.writeFileSync(path.join(hostDir, "provider.js"), serialized.text);
    fs.writeFileSync(path.join(hostDir, "inputs.json"), JSON.stringify(inputs("from the host")));
    const script = `require("./provider.js").${serialized.exportName}.create(require("./inputs.json")).then((r) => process.stdout.write(JSON.stringify(r)), (e) => { console.error(e); process.exit(1); });`;
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ["-e", script], { cwd: hostDir, env: { PATH: process.env.PATH } }, (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
      ),
    );
    const created = JSON.parse(out.slice(out.indexOf('{"id"')));
    assert.equal(created.id, "lab-bootstrap");
    assert.equal(fs.readFileSync(path.join(dir, "lab-db-1", "app.conf"), "utf8"), "from the host");
    fs.rmSync(hostDir, { recursive: true, force: true });
  });

  it("create applies the plans and returns what diff compares; update re-applies; a failure names node, step and output", async () => {
    const first = inputs("v1");
    const created = await bootstrapProvider.create!(first);
    assert.equal(created.id, "lab-bootstrap");
    assert.deepEqual(created.outs, {
      plansHash: first.plansHash,
      addresses: { "lab-db-1": "127.0.0.1", "lab-child-1": "127.0.0.1" },
      result: { "lab-db-1": "1 changes", "lab-child-1": "1 changes" },
      machineIds: {},
    });
    assert.equal(fs.readFileSync(path.join(dir, "lab-db-1", "app.conf"), "utf8"), "v1");
    assert.equal(bootstrapDiff(created.outs, first).changes, false);

    const second = inputs("v2");
    assert.equal(bootstrapDiff(created.outs, second).changes, true);
    const updated = await bootstrapProvider.update!("lab-bootstrap", created.outs, second);
    assert.deepEqual(updated.outs!.result, { "lab-db-1": "1 changes", "lab-child-1": "1 changes" });
    assert.equal(fs.readFileSync(path.join(dir, "lab-child-1", "app.conf"), "utf8"), "v2");

    const same = await bootstrapProvider.update!("lab-bootstrap", updated.outs, second);
    assert.deepEqual(same.outs!.result, { "lab-db-1": "no changes", "lab-child-1": "no changes" });

    // A machine with another host key at a pinned address: refused, unless the stack replaced that machine.
    const pinned = fs.readFileSync(path.join(dir, "known_hosts"), "utf8");
    const other = pinned.replace(
      /ssh-ed25519 \S+/,
      `ssh-ed25519 ${Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from("ssh-ed25519"), Buffer.from("another machine")]).toString("base64")}`,
    );
    assert.notEqual(other, pinned);
    fs.writeFileSync(path.join(dir, "known_hosts"), other);
    const withIds = { ...second, machineIds: { "lab-db-1": "m-1", "lab-child-1": "m-2" } };
    await assert.rejects(
      bootstrapProvider.update!("lab-bootstrap", { ...same.outs, machineIds: withIds.machineIds }, withIds),
      /Host key of .* changed/,
    );
    const replaced = await bootstrapProvider.update!(
      "lab-bootstrap",
      { ...same.outs, machineIds: withIds.machineIds },
      { ...withIds, machineIds: { ...withIds.machineIds, "lab-db-1": "m-9" } },
    );
    assert.deepEqual(replaced.outs!.machineIds, { "lab-db-1": "m-9", "lab-child-1": "m-2" });
    assert.equal(fs.readFileSync(path.join(dir, "known_hosts"), "utf8"), pinned, "the replaced machine's key is pinned anew");

    await assert.rejects(
      bootstrapProvider.update!("lab-bootstrap", same.outs, inputs("v2", `echo 'pg_ctl: could not start' >&2; exit 4`)),
      (e: Error) => {
        assert.match(e.message, /lab-db-1 +FAILED at script s \(exit 4\):\n.*\| pg_ctl: could not start/);
        assert.match(e.message, /lab-child-1 +skipped: needs lab-db-1 failed at script s/);
        return true;
      },
    );
  });
});
