/** HaCluster with `bootstrap` set registers the Bootstrap under it, fed by the cluster's inventory and secrets (mocks). */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { configFromKeys, hostsInventory } from "../../model";

const registered: { type: string; name: string; inputs: Record<string, unknown>; parent?: string }[] = [];
pulumi.runtime.setMocks(
  {
    newResource(args) {
      registered.push({ type: args.type, name: args.name, inputs: args.inputs, parent: (args as { parent?: string }).parent });
      const extra =
        args.type === "random:index/randomPassword:RandomPassword" ? { result: "p".repeat(Number(args.inputs.length ?? 16)) } : {};
      return { id: args.custom === false ? undefined : `${args.name}-id`, state: { ...args.inputs, ...extra } };
    },
    call: (args) => args.inputs,
  },
  "django-ha",
  "lab",
  true,
);

import { HaCluster } from "../cluster";
import { hostsStackSpec } from "../../test/hosts-spec";

const resolve = <T>(o: pulumi.Output<T>): Promise<T> => new Promise((r) => o.apply((v) => r(v)));

describe("HaCluster + bootstrap", () => {
  const spec = hostsStackSpec("lab");

  it("the secret config key with the SSH key is not part of the validated spec", () => {
    assert.deepEqual(configFromKeys({ "django-ha:sshPrivateKey": "-----BEGIN OPENSSH PRIVATE KEY-----", "django-ha:clusterName": "lab" }), {
      clusterName: "lab",
    });
  });

  it("without bootstrap args registers no Bootstrap", async () => {
    registered.length = 0;
    const c = new HaCluster("plain", { spec });
    await resolve(c.inventory);
    assert.equal(c.bootstrap, undefined);
    assert.equal(registered.filter((r) => r.type.includes("bootstrap")).length, 0);
  });

  it("with bootstrap args runs the bootstrap over the cluster's own inventory", async () => {
    registered.length = 0;
    const c = new HaCluster("lab", {
      spec,
      bootstrap: { privateKey: pulumi.secret("-----BEGIN OPENSSH PRIVATE KEY-----\n"), healthDnsSecret: pulumi.secret("dGVzdC1oZWFsdGg=") },
    });
    assert.ok(c.bootstrap);
    assert.match(await resolve(c.bootstrap.plansHash), /^[0-9a-f]{64}$/);
    const run = registered.find((r) => r.type === "pulumi-nodejs:dynamic/bootstrap:Run")!;
    assert.equal(run.name, "lab-bootstrap-run");
    const inv = run.inputs.inventory as { nodes: { name: string; publicAddress: string }[] };
    assert.deepEqual(
      inv.nodes.map((n) => [n.name, n.publicAddress]),
      hostsInventory(spec).nodes.map((n) => [n.name, n.publicAddress]),
    );
    assert.equal(registered.filter((r) => r.type === "django-ha:bootstrap:Bootstrap").length, 1);
  });
});
