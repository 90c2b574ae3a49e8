import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError, healthDnsSecretKey, healthSecretIssues, parseClusterSpec, PROJECT } from ".";
import { awsConfig, digitaloceanConfig, hostsConfig } from "../test/configs";

const problems = (config: Record<string, unknown>) => {
  try {
    parseClusterSpec(config);
  } catch (e) {
    if (e instanceof ConfigError) return e.issues.map((i) => `${i.key} = ${i.value}: ${i.fix}`);
    throw e;
  }
  return [];
};
const full = (config: Record<string, unknown>, secrets: Record<string, string> = {}) =>
  Object.fromEntries([...Object.entries(config), ...Object.entries(secrets)].map(([k, v]): [string, unknown] => [`${PROJECT}:${k}`, v]));

describe("django-ha:health", () => {
  it("defaults: on for hosts and digitalocean, off on aws (Route 53's health checks); 2 s rounds, 3 failures out, 2 successes back", () => {
    assert.deepEqual(parseClusterSpec(digitaloceanConfig(2)).health, {
      enabled: true,
      intervalSeconds: 2,
      probeTimeoutSeconds: 2,
      failuresToRemove: 3,
      successesToRestore: 2,
    });
    assert.equal(parseClusterSpec(hostsConfig(2)).health.enabled, true);
    assert.equal(parseClusterSpec(awsConfig(2)).health.enabled, false);
    assert.equal(parseClusterSpec(digitaloceanConfig(2, { health: { enabled: false } })).health.enabled, false);
  });

  it("refuses bad values with the key, the value and the fix, all at once", () => {
    const p = problems(
      digitaloceanConfig(2, {
        health: { intervalSeconds: 0.1, failuresToRemove: 0, successesToRestore: 2.5, dnsKeyName: "shop-health", extra: 1 },
      }),
    );
    const text = p.join("\n");
    assert.match(text, /health\.intervalSeconds = 0\.1: must be at least 0\.5 s/);
    assert.match(text, /health\.failuresToRemove = 0: must be at least 1/);
    assert.match(text, /health\.successesToRestore = 2\.5: must be a whole number/);
    assert.match(text, /health/, "the unknown key is named");
    assert.match(text, /extra/);
  });

  it("cross-key rules: dnsKeyName only on hosts, enabled: true refused on aws, a probe timeout spanning more than 5 rounds", () => {
    assert.match(
      problems(digitaloceanConfig(2, { health: { dnsKeyName: "k" } })).join("\n"),
      /health\.dnsKeyName = "?k"?: is only for provider hosts .*healthDnsToken/,
    );
    assert.match(
      problems(awsConfig(2, { health: { enabled: true } })).join("\n"),
      /health\.enabled = true: is for hosts and digitalocean: on aws the record's Route 53 health checks/,
    );
    assert.match(
      problems(hostsConfig(2, { health: { intervalSeconds: 1, probeTimeoutSeconds: 10 } })).join("\n"),
      /health\.probeTimeoutSeconds = 10: is more than 5 rounds/,
    );
    assert.deepEqual(problems(hostsConfig(2, { health: { dnsKeyName: "shop-health", intervalSeconds: 1, probeTimeoutSeconds: 1 } })), []);
  });

  it("the credential: its own DigitalOcean token, the narrow TSIG key's secret on hosts, else the record's key; none on aws or when off", () => {
    assert.equal(healthDnsSecretKey(parseClusterSpec(digitaloceanConfig(2))), "healthDnsToken");
    assert.equal(healthDnsSecretKey(parseClusterSpec(hostsConfig(2))), "dnsTsigSecret");
    assert.equal(healthDnsSecretKey(parseClusterSpec(hostsConfig(2, { health: { dnsKeyName: "shop-health" } }))), "healthTsigSecret");
    assert.equal(healthDnsSecretKey(parseClusterSpec(awsConfig(2))), undefined);
    assert.equal(healthDnsSecretKey(parseClusterSpec(digitaloceanConfig(2, { health: { enabled: false } }))), undefined);
  });

  it("a running program without the credential is refused before anything is created, with the command that sets it", () => {
    const issues = healthSecretIssues(full(digitaloceanConfig(2)), "prod", PROJECT);
    assert.deepEqual(
      issues.map((i) => i.key),
      ["django-ha:healthDnsToken"],
    );
    assert.match(
      issues[0].fix,
      /scoped to domain read and update only .*pulumi config set --secret --stack prod django-ha:healthDnsToken.*health\.enabled false/,
    );
    assert.deepEqual(healthSecretIssues(full(digitaloceanConfig(2), { healthDnsToken: "t" }), "prod", PROJECT), []);
    assert.deepEqual(healthSecretIssues(full(digitaloceanConfig(2, { health: { enabled: false } })), "prod", PROJECT), []);
    assert.deepEqual(healthSecretIssues(full(awsConfig(2)), "prod", PROJECT), []);
    assert.deepEqual(
      healthSecretIssues(full(hostsConfig(2, { health: { dnsKeyName: "shop-health" } })), "prod", PROJECT).map((i) => i.key),
      ["django-ha:healthTsigSecret"],
    );
    assert.deepEqual(
      healthSecretIssues(full(hostsConfig(2)), "prod", PROJECT),
      [],
      "the record's key (dnsTsigSecret) is required elsewhere already",
    );
  });
});
