/** django-ha:appSecrets through the Pulumi program: into the (secret) plans of the children and the worker, nowhere else. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { digitaloceanConfig, TEST_SECRETS } from "../../test/configs";
import { runProgram } from "../plan/offlineEngine";
import type { NodePlan } from "../../roles/types";

const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\ntest-only\n-----END OPENSSH PRIVATE KEY-----\n";
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

describe("program: the app's secrets", () => {
  it("reach /etc/django-ha/app-secrets.env on the children and the worker, inside the secret plans only", async () => {
    const config = digitaloceanConfig(2, { app: { secretKeys: ["STRIPE_KEY"], env: { SHOP_CURRENCY: "EUR" } } });
    const r = await runProgram(config, {
      stack: "shop",
      secrets: { ...TEST_SECRETS, sshPrivateKey: KEY, appSecrets: JSON.stringify({ STRIPE_KEY: "sk_test_program" }) },
    });
    assert.equal(r.error, undefined, String(r.error));
    const run = r.resources.find((x) => x.type === "pulumi-nodejs:dynamic/bootstrap:Run")!;
    const plans = run.inputs.plans as unknown as { [SECRET_SIG]: string; value: NodePlan[] };
    assert.ok(SECRET_SIG in plans, "plans are secret");
    for (const plan of plans.value) {
      const file = plan.actions.flatMap((a) => (a.kind === "file" && a.file.path === "/etc/django-ha/app-secrets.env" ? [a.file] : []))[0];
      if (plan.role === "child" || plan.role === "worker") assert.match(file.content, /^STRIPE_KEY=sk_test_program$/m, plan.node.name);
      else assert.equal(file, undefined, plan.node.name);
    }
    const elsewhere = r.resources.filter((x) => x !== run && JSON.stringify(x.inputs).includes("sk_test_program"));
    assert.deepEqual(
      elsewhere.map((x) => x.name),
      [],
      "the value appears in no other resource's inputs",
    );
  });

  it("secretKeys without django-ha:appSecrets registers nothing and says how to set it", async () => {
    const r = await runProgram(digitaloceanConfig(2, { app: { secretKeys: ["STRIPE_KEY"] } }), { stack: "shop", secrets: TEST_SECRETS });
    assert.match(String(r.error), /django-ha:appSecrets = \(not set\): is required/);
    assert.equal(r.resources.length, 0);
  });
});
