import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { acmeAgentConfig, acmeDnsConfig, ACME_PATHS, ACME_TIMER, renderAcmeEnv } from "./acme";
import { clusterFacts } from "./context";
import { fixtureAcme, fixtureContext, fixtureInventory } from "./fixtures";
import { renderClusterPlans } from "./plan";
import { TLS_PATHS, TLS_SYNC_TIMER } from "./tls";
import type { Action, NodePlan } from "./types";
import { agentSecrets, parseAgentConfig } from "../ops/acme/config";

const fileOf = (plan: NodePlan, p: string) =>
  plan.actions.find((a): a is Extract<Action, { kind: "file" }> => a.kind === "file" && a.file.path === p)?.file;
const dns01 = (dnsSecret?: string) =>
  fixtureAcme({
    certificate: { ...fixtureAcme().certificate, challenge: "dns-01", names: ["www.lab.test", "lab.test", "*.lab.test"] },
    ...(dnsSecret ? { dnsSecret } : {}),
  });

describe("the renewal agent on the database machines", () => {
  const plans = renderClusterPlans(fixtureContext());

  it("both database machines (primary and standby) get node, the agent, its wrapper, config, secrets and timer; children and the worker do not", () => {
    for (const plan of plans) {
      const db = plan.role === "parent" || plan.role === "standby";
      assert.equal(!!fileOf(plan, ACME_PATHS.agent), db, plan.node.name);
      assert.equal(
        plan.actions.some((a) => a.kind === "packages" && a.names.includes("nodejs")),
        db,
        plan.node.name,
      );
      assert.equal(
        plan.actions.some((a) => a.kind === "service" && a.name === ACME_TIMER && a.state === "started" && a.enabled),
        db,
        plan.node.name,
      );
      if (!db) continue;
      assert.equal(fileOf(plan, ACME_PATHS.agent)!.content, fixtureAcme().agentSource);
      assert.equal(fileOf(plan, ACME_PATHS.config)!.mode, "0600");
      assert.equal(fileOf(plan, ACME_PATHS.env)!.mode, "0600");
      assert.equal(fileOf(plan, ACME_PATHS.wrapper)!.mode, "0755");
    }
    const [primary, standby] = plans.filter((p) => p.role === "parent" || p.role === "standby");
    assert.equal(
      fileOf(primary, ACME_PATHS.config)!.content,
      fileOf(standby, ACME_PATHS.config)!.content,
      "the same config on both: a failover changes nothing",
    );
  });

  it("acme.json: the record name as certName, every child's private address, the share's webroot and store", () => {
    const c = acmeAgentConfig(clusterFacts(fixtureContext()));
    assert.deepEqual(c, {
      directoryUrl: "https://10.231.0.3:14000/dir",
      email: "ops@lab.test",
      certName: "www.lab.test",
      names: ["www.lab.test"],
      challenge: "http-01",
      webroot: "/srv/share/acme",
      store: "/srv/share/tls",
      children: [
        { name: "lab-child-1", address: "10.231.0.21" },
        { name: "lab-child-2", address: "10.231.0.22" },
      ],
      checkEverySeconds: 5,
      backoff: { baseSeconds: 5, capSeconds: 60 },
      appUser: "950:950",
    });
  });

  it("dns-01 on RFC 2136: the narrower key's name, its secret in acme.env (never in acme.json)", () => {
    const f = clusterFacts(fixtureContext({ acme: dns01("bGFiLWFjbWUtc2VjcmV0") }));
    const c = acmeAgentConfig(f);
    assert.deepEqual(c.dns, {
      provider: "rfc2136",
      server: "10.231.0.2",
      port: 53,
      zone: "lab.test",
      keyName: "lab-acme",
      algorithm: "hmac-sha256",
    });
    assert.deepEqual(c.names, ["www.lab.test", "lab.test", "*.lab.test"]);
    assert.doesNotMatch(JSON.stringify(c), /bGFiLWFjbWUtc2VjcmV0/);
    assert.match(renderAcmeEnv(f), /^DJANGO_HA_TLS_PASSPHRASE=fixtureTlsPassphrase\nDJANGO_HA_DNS_TSIG_SECRET=bGFiLWFjbWUtc2VjcmV0\n$/m);
  });

  it("dns-01 without a narrower key uses the record's key", () => {
    assert.equal(
      acmeDnsConfig(fixtureInventory().dns, undefined).provider === "rfc2136" &&
        (acmeDnsConfig(fixtureInventory().dns, undefined) as { keyName: string }).keyName,
      "lab-update",
    );
  });

  it("dns-01 on DigitalOcean (a token in acme.env) and Route 53 (the instance role: nothing in acme.env)", () => {
    const doInv = fixtureInventory({ provider: "digitalocean", dns: { kind: "digitalocean", domain: "lab.test", recordName: "www" } });
    const fDo = clusterFacts(fixtureContext({ inventory: doInv, acme: dns01("dop_v1_token") }));
    assert.deepEqual(acmeAgentConfig(fDo).dns, { provider: "digitalocean", domain: "lab.test" });
    assert.match(renderAcmeEnv(fDo), /^DIGITALOCEAN_TOKEN=dop_v1_token$/m);
    const awsInv = fixtureInventory({
      provider: "aws",
      dns: { kind: "route53", hostedZoneId: "Z0MOCKHOSTEDZONE", recordName: "www.lab.test" },
    });
    const fAws = clusterFacts(fixtureContext({ inventory: awsInv, acme: dns01() }));
    assert.deepEqual(acmeAgentConfig(fAws).dns, { provider: "route53", hostedZoneId: "Z0MOCKHOSTEDZONE" });
    assert.equal(
      renderAcmeEnv(fAws)
        .split("\n")
        .filter((l) => l && !l.startsWith("#"))
        .join("\n"),
      "DJANGO_HA_TLS_PASSPHRASE=fixtureTlsPassphrase",
    );
  });

  it("the agent's own parser accepts what the roles write (acme.json, and acme.env as the service's environment)", () => {
    const envOf = (text: string) =>
      Object.fromEntries(
        text
          .split("\n")
          .filter((l) => l && !l.startsWith("#"))
          .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
      );
    const doInv = fixtureInventory({ provider: "digitalocean", dns: { kind: "digitalocean", domain: "lab.test", recordName: "www" } });
    for (const ctx of [
      fixtureContext(),
      fixtureContext({ acme: dns01("bGFiLWFjbWU=") }),
      fixtureContext({ inventory: doInv, acme: dns01("dop_v1_token") }),
    ]) {
      const plan = renderClusterPlans(ctx).find((p) => p.role === "parent")!;
      const config = parseAgentConfig(fileOf(plan, ACME_PATHS.config)!.content);
      assert.equal(config.certName, "www.lab.test");
      const secrets = agentSecrets(config, envOf(fileOf(plan, ACME_PATHS.env)!.content));
      assert.equal(secrets.passphrase, "fixtureTlsPassphrase");
      assert.equal(
        secrets.tsigSecret ?? secrets.digitalOceanToken,
        ctx.acme.certificate.challenge === "dns-01" ? ctx.acme.dnsSecret : undefined,
      );
    }
  });

  it("http-01 writes no dns block and no DNS credential", () => {
    const f = clusterFacts(fixtureContext({ acme: fixtureAcme({ dnsSecret: "unused" }) }));
    assert.equal(acmeAgentConfig(f).dns, undefined);
    assert.doesNotMatch(renderAcmeEnv(f), /unused/);
  });

  it("refuses, before rendering anything, a missing agent, a missing DNS-01 credential, names without the record, an empty passphrase", () => {
    const ctx = fixtureContext();
    assert.throws(
      () => renderClusterPlans({ ...ctx, acme: fixtureAcme({ agentSource: " " }) }),
      /acme.agentSource is empty: pass the bundled agent/,
    );
    assert.throws(
      () => renderClusterPlans({ ...ctx, acme: dns01() }),
      /acme.dnsSecret is missing: dns-01 on RFC 2136 signs with the TSIG key lab-acme; set django-ha:acmeTsigSecret/,
    );
    assert.throws(
      () => renderClusterPlans({ ...ctx, acme: fixtureAcme({ certificate: { ...fixtureAcme().certificate, names: ["lab.test"] } }) }),
      /must start with the record name www.lab.test/,
    );
    assert.throws(() => renderClusterPlans({ ...ctx, secrets: { ...ctx.secrets, tlsPassphrase: "" } }), /secrets.tlsPassphrase is empty/);
    assert.throws(() => renderClusterPlans({ ...ctx, acme: dns01("has space") }), /acme.dnsSecret contains a space/);
  });
});

describe("the children's certificate", () => {
  const child = renderClusterPlans(fixtureContext()).find((p) => p.role === "child")!;

  it("nginx serves /etc/django-ha/tls/; a placeholder there first; the sync, its passphrase and its 10 s timer", () => {
    const site = child.actions.find(
      (a): a is Extract<Action, { kind: "file" }> => a.kind === "file" && a.file.path.startsWith("/etc/nginx/"),
    )!.file.content;
    assert.match(site, /ssl_certificate \/etc\/django-ha\/tls\/fullchain.pem;\n\s+ssl_certificate_key \/etc\/django-ha\/tls\/privkey.pem;/);
    assert.doesNotMatch(site, /\/srv\/share\/tls/);
    const names = child.actions.map((a) => (a.kind === "file" ? a.file.path : a.kind === "packages" ? "packages" : a.name));
    assert.ok(
      names.indexOf("tls-placeholder") < names.indexOf("/etc/nginx/sites-enabled/django-ha"),
      "the placeholder exists before nginx is pointed at it",
    );
    assert.ok(names.indexOf(TLS_SYNC_TIMER) > names.indexOf("nginx"), "the sync timer starts once nginx serves the site");
    assert.equal(fileOf(child, TLS_PATHS.env)!.mode, "0600");
    assert.equal(fileOf(child, TLS_PATHS.env)!.content.trim().split("\n").pop(), "DJANGO_HA_TLS_PASSPHRASE=fixtureTlsPassphrase");
    assert.match(fileOf(child, "/etc/systemd/system/django-ha-tls-sync.timer")!.content, /^OnUnitActiveSec=10s$/m);
  });

  it("checks /health/ with the certificate verified: never -k anywhere in any plan", () => {
    const check = child.checks.find((c) => c.name.startsWith("app /health/ through nginx"))!;
    assert.match(check.script, /--cacert \/etc\/django-ha\/tls\/fullchain.pem/);
    for (const plan of renderClusterPlans(fixtureContext())) {
      for (const text of [
        ...plan.checks.map((c) => c.script),
        ...plan.actions.map((a) => (a.kind === "script" ? a.script : a.kind === "file" ? a.file.content : "")),
      ]) {
        assert.doesNotMatch(text, /curl[^\n]* (-k|-[a-zA-Z]*k[a-zA-Z]*|--insecure)\b/, plan.node.name);
      }
    }
  });

  it("the parent no longer makes a placeholder on the share; it removes the old layout's plain-text one", () => {
    const parent = renderClusterPlans(fixtureContext()).find((p) => p.role === "parent")!;
    const script = parent.actions.find((a) => a.kind === "script" && a.name === "tls-share-placeholder-gone");
    assert.ok(script && script.kind === "script");
    assert.match(
      script.script,
      /if \[ -f "\$dir\/SELF-SIGNED" \]; then\n {2}rm -f "\$dir\/SELF-SIGNED" "\$dir\/privkey.pem" "\$dir\/fullchain.pem"/,
    );
    assert.ok(!parent.actions.some((a) => a.kind === "script" && a.name === "tls-self-signed"));
  });
});
