import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { STACKS_DIR } from "../model";
import { planConfig, previewStackFile, renderPlan, SECRET_PLACEHOLDER, secretKeysOf } from "./plan";
import { awsConfig } from "../test/configs";
import { manualBootstrapSteps } from "../components/bootstrap/nextStep";

const stacks = fs
  .readdirSync(STACKS_DIR)
  .filter((f) => /^Pulumi\..+\.yaml$/.test(f))
  .map((f) => f.slice(7, -5));
const root = path.resolve(__dirname, "..");
const cli = (...args: string[]) =>
  spawnSync(process.execPath, ["--import", "tsx", path.join(root, "scripts/plan-cli.ts"), ...args], { cwd: root, encoding: "utf8" });

describe("offline plan: every stack in stacks/", () => {
  it("covers the examples and the lab", () => {
    for (const s of ["digitalocean-example", "aws-example", "hosts-example", "lab"]) assert.ok(stacks.includes(s), s);
  });

  for (const stack of stacks) {
    it(stack, async () => {
      const report = await previewStackFile(stack);
      const text = renderPlan(report);
      const { spec } = report;
      assert.match(text, new RegExp(`provider ${spec.provider}`));
      assert.ok(text.includes(`${spec.recordFqdn}  A  TTL ${spec.ttl} s  members (children only): `), "record line");
      const members = text.split("\n").find((l) => l.includes("members (children only)"))!;
      assert.equal(members.split(": ")[1].split(", ").length, spec.childCount);
      assert.doesNotMatch(members, /parent|standby|worker/);
      for (const port of ["22", "80", "443", "5432", "2049", "6379"]) assert.match(text, new RegExp(`tcp/${port} `));
      if (spec.provider === "hosts") assert.match(text, /existing machines, not estimated/);
      else assert.match(text, /total \d+\.\d\d USD\/month/);
      assert.match(text, /list prices recorded \d{4}-\d\d-\d\d/);
      assert.match(text, /source: /);
      // The tree holds every registered resource, under its component.
      for (const r of report.run.resources) assert.ok(text.includes(`  ${r.name}`), `${r.name} missing from the tree`);
      assert.ok(!text.includes(SECRET_PLACEHOLDER));
    });
  }
});

describe("offline plan: details", () => {
  it("shows sizes, zones and firewall rules of the resources", async () => {
    const text = renderPlan(await planConfig(awsConfig(3), "inline"));
    assert.match(text, /aws:Instance {2}shop-aws-db-1-instance {2}— shop-db-1 {2}type t3\.medium {2}zone eu-west-1a/);
    assert.match(text, /‹shop-inline-web› in {2}tcp\/443 from ::\/0/);
    assert.match(text, /‹shop-inline-data› in {2}tcp\/5432 from members of ‹shop-inline-admin›/);
    assert.match(text, /HTTPS ‹shop-child-1 public address›:443\/health\//);
  });

  it("finds the secrets a stack file sets", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "plan-"));
    const file = path.join(dir, "Pulumi.s.yaml");
    fs.writeFileSync(file, "config:\n  django-ha:dnsTsigSecret:\n    secure: AAABAxyz\n  django-ha:ttl: 30\n  aws:region: eu-west-1\n");
    assert.deepEqual(secretKeysOf(file), ["dnsTsigSecret"]);
    fs.rmSync(dir, { recursive: true });
  });
});

describe("offline plan: command line", () => {
  it("prints the plan and exits 0", () => {
    const r = cli("--stack", "digitalocean-example", "--summary");
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /total 122\.00 USD\/month/);
    assert.match(r.stdout, /planned offline in \d+\.\d s/);
  });

  it("prints JSON with every resource, secrets reduced to their length", () => {
    const r = cli("--stack", "hosts-example", "--json");
    assert.equal(r.status, 0, r.stderr);
    const json = JSON.parse(r.stdout) as {
      primary: string;
      standby: string;
      resources: { type: string; inputs: Record<string, unknown> }[];
      cost: { estimated: boolean };
    };
    assert.deepEqual(json.resources.map((x) => x.type).sort(), [
      "django-ha:cluster:HaCluster",
      "django-ha:hosts:Machines",
      "django-ha:secrets:ClusterSecrets",
      ...Array(5).fill("random:index/randomPassword:RandomPassword"),
    ]);
    for (const x of json.resources.filter((y) => y.type.startsWith("random:"))) assert.deepEqual(Object.keys(x.inputs), ["length"]);
    assert.equal(json.cost.estimated, false);
    assert.deepEqual([json.primary, json.standby], ["shop-db-1", "shop-db-2"]);
  });

  it("prints a ConfigError's message and exits 1 without a stack trace", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "plan-"));
    fs.writeFileSync(
      path.join(dir, "Pulumi.bad.yaml"),
      'config:\n  django-ha:provider: digitalocean\n  django-ha:domain: example.com\n  django-ha:acmeEmail: ops@your-company.com\n  django-ha:region: nyc3\n  django-ha:adminCidrs: ["0.0.0.0/0"]\n  django-ha:sshPublicKeys: ["ssh-ed25519 AAAA a@b"]\n  django-ha:ttl: 10\n',
    );
    const r = cli("--stack", "bad", "--stacks-dir", dir);
    fs.rmSync(dir, { recursive: true });
    assert.equal(r.status, 1);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /Invalid django-ha config in .*Pulumi\.bad\.yaml \(2 problems\)/);
    assert.match(r.stderr, /django-ha:ttl = 10: is below digitalocean's minimum of 30 s; set it to 30/);
    assert.match(r.stderr, /django-ha:adminCidrs\[0\] = "0\.0\.0\.0\/0": opens SSH to the whole Internet/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });

  it("names the known stacks when asked for an unknown one", () => {
    const r = cli("--stack", "no-such-stack");
    assert.equal(r.status, 1);
    assert.match(r.stderr, /No stack "no-such-stack".*Known stacks: .*digitalocean-example/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });
});

describe("offline plan: the bootstrap", () => {
  it("without django-ha:sshPrivateKey, the notes name the commands that finish the job", async () => {
    const report = await previewStackFile("digitalocean-example");
    assert.ok(report.notes.includes(manualBootstrapSteps("digitalocean-example", "digitalocean")), report.notes.join("\n"));
    assert.equal(report.run.resources.filter((r) => /bootstrap/i.test(r.type)).length, 0);
  });

  it("with the key set as a secret, plans the Bootstrap and never prints the key or the rendered plans", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "plan-"));
    const example = fs.readFileSync(path.join(STACKS_DIR, "Pulumi.digitalocean-example.yaml"), "utf8");
    fs.writeFileSync(
      path.join(dir, "Pulumi.shop.yaml"),
      `${example.trimEnd()}\n  django-ha:sshPrivateKey:\n    secure: v1:c2VjcmV0:c2VjcmV0\n`,
    );
    const text = cli("--stack", "shop", "--stacks-dir", dir, "--summary");
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /bootstrap:Bootstrap +1/);
    assert.match(text.stdout, /django-ha:sshPrivateKey is set: `pulumi up` also bootstraps every node/);
    const json = cli("--stack", "shop", "--stacks-dir", dir, "--json");
    assert.equal(json.status, 0, json.stderr);
    const run = (JSON.parse(json.stdout) as { resources: { type: string; inputs: Record<string, unknown> }[] }).resources.find(
      (r) => r.type === "pulumi-nodejs:dynamic/bootstrap:Run",
    )!;
    assert.equal(run.inputs.privateKey, "[secret]");
    assert.equal(run.inputs.plans, "[secret]");
    assert.equal(run.inputs.__provider, undefined);
    assert.match(String(run.inputs.plansHash), /^[0-9a-f]{64}$/);
    assert.doesNotMatch(json.stdout, new RegExp(SECRET_PLACEHOLDER));
    fs.rmSync(dir, { recursive: true });
  });
});

describe("offline plan: protected resources and quotas", () => {
  it("marks exactly the data volumes as protected, in the tree and in a list", async () => {
    for (const [stack, volumeType] of [
      ["digitalocean-example", "digitalocean:Volume"],
      ["aws-example", "aws:Volume"],
    ] as const) {
      const report = await previewStackFile(stack);
      const text = renderPlan(report);
      const marked = text.split("\n").filter((l) => l.includes("[protected]"));
      assert.equal(marked.length, 4, `${stack}: parent and standby, db and share`);
      for (const l of marked) assert.ok(l.includes(volumeType), l);
      const list = text.slice(text.indexOf("Protected resources ("), text.indexOf("Quotas"));
      for (const r of report.run.resources.filter((x) => x.protect)) assert.ok(list.includes(r.name), `${r.name} not listed`);
      assert.equal(list.trim().split("\n").length - 1, 4);
    }
    assert.match(renderPlan(await previewStackFile("hosts-example")), /Protected resources: none/);
  });

  it("shows the default quotas a stack would exceed, with how to raise them", async () => {
    const cases: [Record<string, unknown>, RegExp, RegExp][] = [
      [awsConfig(1), /ok {7}Elastic IP addresses per region \(eu-west-1\): default 5, this stack needs 4/, /^(?![\s\S]*EXCEEDS)/],
      [awsConfig(2), /ok {7}Elastic IP addresses per region \(eu-west-1\): default 5, this stack needs 5/, /^(?![\s\S]*EXCEEDS)/],
      [
        awsConfig(3),
        /EXCEEDS {2}Elastic IP addresses per region \(eu-west-1\): default 5, this stack needs 6\n {11}raise it: .*--quota-code L-0263D0A3 --desired-value 8/,
        /ok {7}Route 53 health checks per account: default 200, this stack needs 3/,
      ],
      [
        awsConfig(201),
        /EXCEEDS {2}Route 53 health checks per account: default 200, this stack needs 201\n {11}raise it: Service Quotas console, region us-east-1 → Amazon Route 53/,
        /EXCEEDS {2}Elastic IP/,
      ],
      // The admin group holds one rule per admin CIDR and one per ICMP type (4 for IPv4): 56 CIDRs fit, 57 do not.
      [
        awsConfig(1, { adminCidrs: Array.from({ length: 56 }, (_, i) => `198.51.100.${i}/32`) }),
        /ok {7}inbound rules per security group .*: default 60, this stack needs 60/,
        /^(?![\s\S]*EXCEEDS)/,
      ],
      [
        awsConfig(1, { adminCidrs: Array.from({ length: 57 }, (_, i) => `198.51.100.${i}/32`) }),
        /EXCEEDS {2}inbound rules per security group .*: default 60, this stack needs 61/,
        /L-0EA8095F/,
      ],
    ];
    for (const [config, a, b] of cases) {
      const text = renderPlan(await planConfig(config, "inline"), { tree: false });
      const quotas = text.slice(text.indexOf("Quotas ("), text.indexOf("Estimated monthly cost"));
      assert.match(quotas, a);
      assert.match(quotas, b);
    }
    const doText = renderPlan(await previewStackFile("digitalocean-example"), { tree: false });
    assert.match(
      doText,
      /EXCEEDS {2}Droplets per account \(new accounts\): default 3, this stack needs 6\n {11}raise it: see yours with `doctl account get`/,
    );
    assert.match(renderPlan(await previewStackFile("hosts-example"), { tree: false }), /Quotas: none/);
  });

  it("puts protect and the quotas in the JSON", () => {
    const r = cli("--stack", "aws-example", "--json");
    assert.equal(r.status, 0, r.stderr);
    const json = JSON.parse(r.stdout) as { resources: { type: string; protect: boolean }[]; quotas: { quota: string; exceeds: boolean }[] };
    assert.deepEqual(
      json.resources.filter((x) => x.protect).map((x) => x.type),
      Array(4).fill("aws:ebs/volume:Volume"),
    );
    assert.deepEqual(
      json.quotas.filter((q) => q.exceeds).map((q) => q.quota),
      ["Elastic IP addresses per region (eu-west-1)"],
    );
  });
});
