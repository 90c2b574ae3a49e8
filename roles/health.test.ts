import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ACME_PATHS } from "./acme";
import { APP_WATCH, APP_WATCH_SERVICE } from "./appwatch";
import { clusterFacts } from "./context";
import { fixtureContext, fixtureHealth, fixtureInventory } from "./fixtures";
import { healthAgentConfig, HEALTH_PATHS, HEALTH_SERVICE } from "./health";
import { renderClusterPlans } from "./plan";
import type { Action, NodePlan } from "./types";
import { parseHealthConfig } from "../ops/health/config";

const fileOf = (plan: NodePlan, p: string) =>
  plan.actions.find((a): a is Extract<Action, { kind: "file" }> => a.kind === "file" && a.file.path === p)?.file;
const runs = (plan: NodePlan, unit: string) =>
  plan.actions.some((a) => a.kind === "service" && a.name === unit && a.state === "started" && a.enabled);

describe("the health agent on the database machines", () => {
  const plans = renderClusterPlans(fixtureContext());

  it("both database machines get the agent, its wrapper, config, credential and service; never a child it judges, nor the worker", () => {
    for (const plan of plans) {
      const db = plan.role === "parent" || plan.role === "standby";
      assert.equal(runs(plan, HEALTH_SERVICE), db, plan.node.name);
      assert.equal(!!fileOf(plan, HEALTH_PATHS.env), db, `${plan.node.name}: the DNS credential only where the agent runs`);
      if (!db) continue;
      assert.equal(fileOf(plan, HEALTH_PATHS.agent)!.content, fixtureHealth().agentSource);
      assert.equal(fileOf(plan, HEALTH_PATHS.config)!.mode, "0600");
      assert.equal(fileOf(plan, HEALTH_PATHS.env)!.mode, "0600");
      assert.equal(
        fileOf(plan, HEALTH_PATHS.env)!.content,
        `# django-ha: the health agent's DNS credential (${HEALTH_SERVICE}); root only\nDJANGO_HA_DNS_TSIG_SECRET=${fixtureHealth().dnsSecret}\n`,
      );
    }
    const [primary, standby] = plans.filter((p) => p.role === "parent" || p.role === "standby");
    assert.equal(
      fileOf(primary, HEALTH_PATHS.config)!.content,
      fileOf(standby, HEALTH_PATHS.config)!.content,
      "the same config on both: a failover changes nothing",
    );
    for (const plan of plans) {
      for (const a of plan.actions)
        if (a.kind === "file" && a.file.path !== HEALTH_PATHS.env)
          assert.ok(
            !a.file.content.includes(fixtureHealth().dnsSecret!),
            `${plan.node.name} ${a.file.path} must not hold the DNS credential`,
          );
    }
  });

  it("health.json is what the agent parses: the record's children (public for the record, private for the probe), the narrow key, the ready marker", () => {
    const c = healthAgentConfig(clusterFacts(fixtureContext()))!;
    const parsed = parseHealthConfig(JSON.stringify(c));
    assert.deepEqual(parsed, c);
    const children = fixtureInventory().nodes.filter((n) => n.role === "child");
    assert.deepEqual(
      c.children,
      children.map((n) => ({ name: n.name, address: n.publicAddress, privateAddress: n.privateAddress })),
    );
    assert.deepEqual(c.dns, {
      provider: "rfc2136",
      server: "10.231.0.2",
      port: 53,
      zone: "lab.test",
      keyName: "lab-health",
      algorithm: "hmac-sha256",
    });
    assert.equal(c.readyFile, ACME_PATHS.ready);
    assert.equal(c.intervalSeconds, 1);
  });

  it("not installed when off or on Route 53 (aws: the record's health checks); the record's key when no narrower one is named", () => {
    const off = renderClusterPlans(
      fixtureContext({ health: fixtureHealth({ spec: { ...fixtureHealth().spec, enabled: false }, agentSource: "" }) }),
    );
    assert.ok(off.every((p) => !runs(p, HEALTH_SERVICE)));
    const inv = fixtureInventory();
    const route53 = fixtureContext({
      inventory: { ...inv, dns: { kind: "route53", hostedZoneId: "Z1", recordName: "www" } },
      health: fixtureHealth({ agentSource: "", dnsSecret: undefined }),
    });
    assert.ok(renderClusterPlans(route53).every((p) => !runs(p, HEALTH_SERVICE)));
    const broad = fixtureHealth({ spec: { ...fixtureHealth().spec, dnsKeyName: undefined } });
    const dns = healthAgentConfig(clusterFacts(fixtureContext({ health: broad })))!.dns;
    assert.ok(dns.provider === "rfc2136" && dns.keyName === (inv.dns.kind === "rfc2136" ? inv.dns.keyName : ""));
  });

  it("refuses to render without the program or the credential, naming the secret to set", () => {
    assert.throws(
      () => renderClusterPlans(fixtureContext({ health: fixtureHealth({ agentSource: " " }) })),
      /health\.agentSource is empty/,
    );
    assert.throws(
      () => renderClusterPlans(fixtureContext({ health: fixtureHealth({ dnsSecret: undefined }) })),
      /health\.dnsSecret is missing: .*lab-health; set django-ha:healthTsigSecret/,
    );
    assert.throws(
      () => renderClusterPlans(fixtureContext({ health: fixtureHealth({ dnsSecret: "a b" }) })),
      /health\.dnsSecret contains a space/,
    );
  });

  it("every child runs the app watchdog; nginx's site checks its flag", () => {
    for (const plan of plans.filter((p) => p.role === "child")) {
      assert.ok(runs(plan, APP_WATCH_SERVICE), plan.node.name);
      assert.match(fileOf(plan, APP_WATCH.script)!.content, /--max-time 3 -H 'Host: www\.lab\.test' "\$url"/);
    }
  });
});
