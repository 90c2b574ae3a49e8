import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
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

  it("the lab: health-tsig.key for the narrow key, dns/tsig.json for the record's; a dry run stands in for a secret it cannot read", async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "dha-health-"));
    try {
      fs.writeFileSync(
        path.join(root, "health-tsig.key"),
        'key "lab-health" {\n\talgorithm hmac-sha256;\n\tsecret "bGFiLWhlYWx0aA==";\n};\n',
        { mode: 0o600 },
      );
      fs.mkdirSync(path.join(root, "dns"));
      fs.writeFileSync(
        path.join(root, "dns", "tsig.json"),
        JSON.stringify({ name: "lab-update", algorithm: "hmac-sha256", secret: "bGFiLXVwZGF0ZQ==" }),
      );
      assert.equal(healthDnsSecret({ stack: "lab", inventory: rfc2136, health: narrow, labRoot: root, env: {} }), "bGFiLWhlYWx0aA==");
      assert.equal(healthDnsSecret({ stack: "lab", inventory: rfc2136, health: broad, labRoot: root, env: {} }), "bGFiLXVwZGF0ZQ==");
      assert.throws(
        () => healthDnsSecret({ stack: "lab", inventory: rfc2136, health: narrow, labRoot: path.join(root, "none"), env: {} }),
        /does not exist: start the lab/,
      );
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
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
