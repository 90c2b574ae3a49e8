/**
 * The certificate in the Pulumi program: which secret config key holds the renewal agent's DNS-01 credential,
 * and that it (and the generated TLS passphrase) reach the database machines' acme.env in the secret plans.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { configFor, TEST_SECRETS } from "../../test/configs";
import { runProgram } from "../plan/offlineEngine";
import { parseClusterSpec } from "../../model";
import type { NodePlan } from "../../roles/types";
import { acmeDnsSecretKey } from "../cluster";

const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\ntest-only\n-----END OPENSSH PRIVATE KEY-----\n";
const RUN = "pulumi-nodejs:dynamic/bootstrap:Run";

describe("the DNS-01 credential's config key", () => {
  const key = (provider: "digitalocean" | "aws" | "hosts", certificate: Record<string, unknown>) =>
    acmeDnsSecretKey(parseClusterSpec(configFor(provider, 2, { certificate })));
  it("none for http-01, none on AWS (the instance role); acmeDnsToken on DigitalOcean; on hosts the narrow key's secret, else the record's", () => {
    assert.equal(key("digitalocean", {}), undefined);
    assert.equal(key("hosts", { dnsKeyName: "shop-acme" }), undefined);
    assert.equal(key("aws", { challenge: "dns-01" }), undefined);
    assert.equal(key("digitalocean", { challenge: "dns-01" }), "acmeDnsToken");
    assert.equal(key("hosts", { challenge: "dns-01", dnsKeyName: "shop-acme" }), "acmeTsigSecret");
    assert.equal(key("hosts", { challenge: "dns-01" }), "dnsTsigSecret");
  });
});

describe("program (hosts, dns-01 with a narrower TSIG key) with django-ha:sshPrivateKey", () => {
  it("renders the narrow key's secret and the generated passphrase into both database machines' acme.env, and nothing into the children's", async () => {
    const secrets = { ...TEST_SECRETS, sshPrivateKey: KEY, acmeTsigSecret: "bmFycm93LWFjbWUta2V5" };
    const run = await runProgram(configFor("hosts", 2, { certificate: { challenge: "dns-01", dnsKeyName: "shop-acme" } }), {
      stack: "shop",
      secrets,
    });
    assert.equal(run.error, undefined, String(run.error));
    const plans = (run.resources.find((x) => x.type === RUN)!.inputs.plans as unknown as { value: NodePlan[] }).value;
    const acmeEnv = (p: NodePlan) => p.actions.find((a) => a.kind === "file" && a.file.path === "/etc/django-ha/acme.env");
    const db = plans.filter((p) => p.role === "parent" || p.role === "standby");
    assert.equal(db.length, 2);
    for (const p of db) {
      const env = acmeEnv(p);
      assert.ok(env && env.kind === "file");
      assert.match(env.file.content, /^DJANGO_HA_TLS_PASSPHRASE=m{48}$/m, "the @pulumi/random passphrase (the mocks answer m…)");
      assert.match(env.file.content, /^DJANGO_HA_DNS_TSIG_SECRET=bmFycm93LWFjbWUta2V5$/m);
      const config = p.actions.find((a) => a.kind === "file" && a.file.path === "/etc/django-ha/acme.json");
      assert.ok(config && config.kind === "file");
      assert.equal(JSON.parse(config.file.content).dns.keyName, "shop-acme");
    }
    for (const p of plans.filter((x) => x.role === "child" || x.role === "worker")) assert.equal(acmeEnv(p), undefined, p.node.name);
  });
});
