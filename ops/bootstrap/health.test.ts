import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fixtureHealth, fixtureInventory } from "../../roles/fixtures";
import type { HealthSpec } from "../../model";
import { UserError } from "../../model/errors";
import { healthContextFor, healthDnsSecret } from "./health";

const narrow: HealthSpec = fixtureHealth().spec;
const broad: HealthSpec = { ...narrow, dnsKeyName: undefined };
const off: HealthSpec = { ...narrow, enabled: false };
const rfc2136 = fixtureInventory();
const digitalocean = fixtureInventory({ dns: { kind: "digitalocean", domain: "lab.test", recordName: "www" } });
const route53 = fixtureInventory({ dns: { kind: "route53", hostedZoneId: "Z1", recordName: "www.lab.test" } });

describe("the health agent's DNS credential of a bootstrap outside Pulumi", () => {
  it("none when the agent is off or on Route 53 (its own health checks)", () => {
    assert.equal(healthDnsSecret({ stack: "s", inventory: rfc2136, health: off, env: {} }), undefined);
    assert.equal(healthDnsSecret({ stack: "s", inventory: route53, health: broad, env: {} }), undefined);
  });

  it("hosts: the narrow key's secret from DJANGO_HA_HEALTH_TSIG_SECRET, else the record's; digitalocean: DJANGO_HA_HEALTH_DNS_TOKEN; a missing one says how to set it", () => {
    assert.equal(
      healthDnsSecret({ stack: "s", inventory: rfc2136, health: narrow, env: { DJANGO_HA_HEALTH_TSIG_SECRET: "bmFycm93" } }),
      "bmFycm93",
    );
    assert.equal(
      healthDnsSecret({ stack: "s", inventory: rfc2136, health: broad, env: { DJANGO_HA_TSIG_SECRET: "YnJvYWQ=" } }),
      "YnJvYWQ=",
    );
    assert.equal(
      healthDnsSecret({
        stack: "s",
        inventory: digitalocean,
        health: broad,
        env: { DJANGO_HA_HEALTH_DNS_TOKEN: "dop_v1_x", DIGITALOCEAN_TOKEN: "dop_v1_provider" },
      }),
      "dop_v1_x",
    );
    assert.throws(
      () => healthDnsSecret({ stack: "shop", inventory: rfc2136, health: narrow, env: {} }),
      (e: unknown) =>
        e instanceof UserError &&
        /DJANGO_HA_HEALTH_TSIG_SECRET is not set: .*lab-health.*pulumi config get --stack shop django-ha:healthTsigSecret/.test(e.message),
    );
    assert.throws(
      () => healthDnsSecret({ stack: "shop", inventory: digitalocean, health: broad, env: { DIGITALOCEAN_TOKEN: "dop_v1_provider" } }),
      /DJANGO_HA_HEALTH_DNS_TOKEN is not set: .*domain read\/update/,
    );
  });

  it("a source that made the DNS server's keys (the lab) is asked by key name; a dry run stands in for a secret it cannot read", async () => {
    const capabilities = { tsigSecret: (name: string) => `secret-of-${name}` };
    assert.equal(
      healthDnsSecret({ stack: "lab", inventory: rfc2136, health: narrow, capabilities, env: {} }),
      `secret-of-${narrow.dnsKeyName}`,
    );
    assert.equal(healthDnsSecret({ stack: "lab", inventory: rfc2136, health: broad, capabilities, env: {} }), "secret-of-lab-update");
    const missing = {
      tsigSecret: () => {
        throw new UserError("The lab's health agent's TSIG key does not exist: run `npm run lab -- up` first.");
      },
    };
    const labDry = await healthContextFor({ stack: "lab", inventory: rfc2136, health: narrow, capabilities: missing, env: {} }, true);
    assert.equal(labDry.dnsSecret, "notyetset");
    const dry = await healthContextFor({ stack: "shop", inventory: rfc2136, health: narrow, env: {} }, true);
    assert.equal(dry.dnsSecret, "notyetset");
    assert.match(dry.agentSource, /^#!\/usr\/bin\/env node/);
    await assert.rejects(
      healthContextFor({ stack: "shop", inventory: rfc2136, health: narrow, env: {} }),
      /DJANGO_HA_HEALTH_TSIG_SECRET is not set/,
    );
    assert.equal(
      (await healthContextFor({ stack: "shop", inventory: route53, health: broad, env: {} })).agentSource,
      "",
      "nothing bundled where the agent does not run",
    );
  });
});
