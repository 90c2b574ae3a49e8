/**
 * The Pulumi program (index.ts, loaded after setMocks by components/plan/offlineEngine.ts) with and without
 * `django-ha:sshPrivateKey`: with it, `pulumi up` bootstraps the machines it creates in the same update;
 * without it, no Bootstrap is registered and the stack output names the commands that finish the job.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { configFor, Provider, TEST_SECRETS } from "../../test/configs";
import { ProgramRun, RecordedResource, runProgram } from "../plan/offlineEngine";
import { manualBootstrapSteps } from "./nextStep";

/** How the engine marks a secret value on the wire (the mocks see it as is). */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\ntest-only\n-----END OPENSSH PRIVATE KEY-----\n";
const RUN = "pulumi-nodejs:dynamic/bootstrap:Run";

const isSecret = (v: unknown) => typeof v === "object" && v !== null && SECRET_SIG in v;
const machineTypes: Record<Provider, RegExp> = {
  digitalocean: /^digitalocean:/,
  aws: /^aws:/,
  hosts: /^$/,
};

for (const provider of ["digitalocean", "aws", "hosts"] as const) {
  describe(`program (${provider}) with django-ha:sshPrivateKey`, () => {
    let run: ProgramRun;
    const load = async () =>
      (run ??= await runProgram(configFor(provider, 2), { stack: "shop", secrets: { ...TEST_SECRETS, sshPrivateKey: KEY } }));

    it("registers the Bootstrap under the cluster, after everything the target creates", async () => {
      const r = await load();
      assert.equal(r.error, undefined);
      const component = r.resources.filter((x) => x.type === "django-ha:bootstrap:Bootstrap");
      assert.deepEqual(
        component.map((c) => [c.name, c.parent]),
        [["shop-bootstrap", "shop"]],
      );
      const work = r.resources.filter((x) => x.type === RUN);
      assert.deepEqual(
        work.map((w) => [w.name, w.parent]),
        [["shop-bootstrap-run", "shop-bootstrap"]],
      );
      const created: RecordedResource[] = r.resources.filter((x) => x.custom && machineTypes[provider].test(x.type));
      if (provider !== "hosts") assert.ok(created.some((x) => /droplet:Droplet|instance:Instance/.test(x.type)));
      const missing = created.map((x) => x.name).filter((n) => !work[0].dependsOn.includes(n));
      assert.deepEqual(missing, [], "the bootstrap waits for every machine, volume attachment, firewall rule and record");
    });

    it("keeps the key and the rendered plans secret; the content hash (what a diff shows) is not", async () => {
      const r = await load();
      const inputs = r.resources.find((x) => x.type === RUN)!.inputs;
      assert.ok(isSecret(inputs.privateKey), "privateKey is secret");
      assert.equal((inputs.privateKey as unknown as { value: string }).value, KEY);
      assert.ok(isSecret(inputs.plans), "plans are secret");
      assert.match(String(inputs.plansHash), /^[0-9a-f]{64}$/);
      const inv = inputs.inventory as { nodes: { name: string }[] };
      assert.equal(inv.nodes.length, 5);
    });

    it("gives the bootstrap each node's machine id, so a machine the provider replaces is bootstrapped again", async () => {
      const r = await load();
      const ids = r.resources.find((x) => x.type === RUN)!.inputs.machineIds as Record<string, string>;
      const nodes = (r.resources.find((x) => x.type === RUN)!.inputs.inventory as { nodes: { name: string }[] }).nodes.map((n) => n.name);
      if (provider === "hosts") {
        assert.deepEqual(ids, {}, "existing hosts are not the stack's machines");
        return;
      }
      assert.deepEqual(Object.keys(ids).sort(), [...nodes].sort());
      assert.deepEqual(r.outputs.machineIds, ids, "the stack exports the same ids (what fencing powers off)");
      const machines = r.resources.filter((x) => /droplet:Droplet|instance:Instance/.test(x.type));
      for (const m of machines) assert.ok(Object.values(ids).includes(m.id), `${m.name}'s id ${m.id} is among the machine ids`);
    });

    it("says that nothing is left to do", async () => {
      const r = await load();
      assert.match(String(r.outputs.nextStep), /^none: pulumi up bootstrapped every node/);
      assert.deepEqual(r.warnings, []);
    });
  });

  describe(`program (${provider}) without django-ha:sshPrivateKey`, () => {
    it("registers no Bootstrap and names the exact commands that finish the job", async () => {
      const r = await runProgram(configFor(provider, 2), { stack: "shop", secrets: TEST_SECRETS });
      assert.equal(r.error, undefined);
      assert.deepEqual(
        r.resources.filter((x) => /bootstrap/i.test(x.type)),
        [],
      );
      assert.equal(r.outputs.nextStep, manualBootstrapSteps("shop", provider));
      assert.deepEqual(r.warnings, [manualBootstrapSteps("shop", provider)], "pulumi up ends with the same steps as a warning");
      assert.equal(r.outputs.bootstrapResult, undefined);
    });
  });
}

describe("manualBootstrapSteps", () => {
  it("cloud stacks: the key for pulumi up, or inventory + secrets from the stack and npm run bootstrap", () => {
    assert.equal(
      manualBootstrapSteps("shop", "digitalocean"),
      [
        "`pulumi up` does not bootstrap the machines (no django-ha:sshPrivateKey): nothing of the site runs on them until that is done. Either",
        "  let pulumi up do it, now and whenever what the roles render changes:",
        "    pulumi config set --secret django-ha:sshPrivateKey --stack shop < ~/.ssh/id_ed25519 && pulumi up --stack shop",
        "  or run the bootstrap yourself (from this checkout; --identity is the key whose public half is in django-ha:sshPublicKeys):",
        "    pulumi stack output inventory --json --stack shop > shop-inventory.json",
        "    (umask 077 && mkdir -p .django-ha/shop && pulumi stack output secrets --json --show-secrets --stack shop > .django-ha/shop/secrets.json)",
        "    npm run bootstrap -- --stack shop --inventory shop-inventory.json --identity ~/.ssh/id_ed25519",
      ].join("\n"),
    );
  });

  it("a project with secrets: the bootstrap gets them from DJANGO_HA_APP_SECRETS", () => {
    const lines = manualBootstrapSteps("shop", "hosts", ["STRIPE_KEY"]).split("\n");
    assert.equal(lines.at(-2), '    export DJANGO_HA_APP_SECRETS="$(pulumi config get --stack shop django-ha:appSecrets)"');
    assert.doesNotMatch(manualBootstrapSteps("shop", "hosts"), /DJANGO_HA_APP_SECRETS/);
  });

  it("hosts stacks: the inventory is the stack file, so no inventory file", () => {
    const text = manualBootstrapSteps("shop-hosts", "hosts");
    assert.doesNotMatch(text, /inventory/);
    assert.match(text, /\n {4}npm run bootstrap -- --stack shop-hosts --identity ~\/\.ssh\/id_ed25519$/);
  });
});
