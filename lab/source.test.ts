/** The lab as a machine source: which stacks it holds, its key and known_hosts, its TSIG keys by name, its capabilities. */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { hostsInventory, loadStackSpec, UserError } from "../model";
import { renderStackPlans, resolveStack } from "../ops/bootstrap";
import { acmeDnsSecret } from "../ops/bootstrap/acme";
import { healthDnsSecret } from "../ops/bootstrap/health";
import { labPaths } from "./config";
import { ensureAcmeTsigKey, ensureHealthTsigKey, ensureTsigKey } from "./keys";
import { labCapabilities, labSource, labTsigSecret } from "./source";
import { hostsStackSpec } from "../test/hosts-spec";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "lab-source-"));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const REPO_STACKS = path.resolve(__dirname, "..", "stacks");
const stacks = path.join(tmp, "stacks");
fs.mkdirSync(stacks);
for (const s of ["lab", "lab-wide"]) fs.copyFileSync(path.join(REPO_STACKS, `Pulumi.${s}.yaml`), path.join(stacks, `Pulumi.${s}.yaml`));
const inventoryOf = (stack: string) => JSON.stringify(hostsInventory(hostsStackSpec(stack, stacks)));

describe("labSource", () => {
  it("holds stack lab: .lab/inventory.json with the lab's own key and known_hosts; a dry run works before it is up", async () => {
    const paths = labPaths(path.join(tmp, "lab"));
    const source = labSource(paths);
    assert.throws(
      () => resolveStack({ stack: "lab", stacksDir: stacks, stateRoot: tmp, sources: [source] }),
      (e: unknown) =>
        e instanceof UserError && /The lab is not up: .*inventory\.json does not exist\. Start it with: npm run lab -- up/.test(e.message),
    );
    const offline = resolveStack({ stack: "lab", stacksDir: stacks, stateRoot: tmp, sources: [source], offline: true });
    assert.match(offline.inventorySource, /stacks\/Pulumi\.lab\.yaml \(the lab is not up\)/);
    fs.mkdirSync(paths.root);
    fs.writeFileSync(paths.inventory, inventoryOf("lab"));
    const t = resolveStack({ stack: "lab", stacksDir: stacks, stateRoot: tmp, sources: [source] });
    assert.equal(t.inventorySource, paths.inventory);
    assert.equal(t.identityFile, paths.sshKey);
    assert.equal(t.knownHostsPath, paths.knownHosts);
    assert.equal(t.shareMount, "lab-device", "the lab's children mount the primary's share volume");
    assert.equal(t.capabilities.generatesAppSecrets, true);
    assert.equal(t.secretsFile, path.join(tmp, "lab", "secrets.json"), "operator state stays in .django-ha/<stack>");
    const flags = resolveStack({ stack: "lab", stacksDir: stacks, stateRoot: tmp, sources: [source], identity: "/k", knownHosts: "/kh" });
    assert.deepEqual([flags.identityFile, flags.knownHostsPath], ["/k", "/kh"], "--identity and --known-hosts win");
    // A dry run with the lab's capabilities: no TSIG key files yet (stand-ins), nothing written.
    const [plan] = await renderStackPlans(t, { only: ["lab-child-1"] });
    assert.equal(plan.node.name, "lab-child-1");
    assert.equal(fs.existsSync(t.secretsFile), false, "planning writes no secrets");
  });

  it("holds another hosts stack only when the running lab was booted from it (same names and addresses)", () => {
    const paths = labPaths(path.join(tmp, "wide"));
    fs.mkdirSync(paths.root);
    fs.writeFileSync(paths.inventory, inventoryOf("lab-wide"));
    const wide = resolveStack({ stack: "lab-wide", stacksDir: stacks, stateRoot: tmp, sources: [labSource(paths)] });
    assert.equal(wide.shareMount, "lab-device");
    assert.equal(wide.identityFile, paths.sshKey);
    assert.equal(wide.inventory.nodes.filter((n) => n.role === "child").length, 4);
    fs.writeFileSync(paths.inventory, inventoryOf("lab"));
    assert.equal(labSource(paths).machinesOf("lab-wide", loadStackSpec("lab-wide", stacks), false), undefined);
    const plain = resolveStack({ stack: "lab-wide", stacksDir: stacks, stateRoot: tmp, sources: [labSource(paths)], identity: "/k" });
    assert.equal(plain.inventorySource, "stacks/Pulumi.lab-wide.yaml", "the stack file, as any hosts stack");
    assert.equal(plain.shareMount, "nfs");
    assert.deepEqual(plain.capabilities, {});
  });
});

describe("the lab's TSIG keys", () => {
  const paths = labPaths(path.join(tmp, "keys"));

  it("are found by the name the stack file gives them; a missing one says to bring the lab up", () => {
    assert.throws(
      () => labTsigSecret(paths, "lab-acme"),
      (e: unknown) => e instanceof UserError && /does not exist: run `npm run lab -- up` first/.test(e.message),
    );
    const update = ensureTsigKey(paths);
    const acme = ensureAcmeTsigKey(paths);
    const health = ensureHealthTsigKey(paths);
    assert.equal(labTsigSecret(paths, "lab-update"), update.secret);
    assert.equal(labTsigSecret(paths, "lab-acme"), acme.secret);
    assert.equal(labTsigSecret(paths, "lab-health"), health.secret);
    assert.equal(new Set([update.secret, acme.secret, health.secret]).size, 3);
    assert.throws(
      () => labTsigSecret(paths, "shop-acme"),
      /The lab's DNS server has no TSIG key "shop-acme": its keys are lab-update, lab-acme, lab-health/,
    );
  });

  it("reach the certificate and health agents' credentials through the capabilities, the environment unused", () => {
    const spec = hostsStackSpec("lab", stacks);
    const inventory = hostsInventory(spec);
    const capabilities = labCapabilities("lab", paths);
    const env = { DJANGO_HA_ACME_TSIG_SECRET: "ZW52", DJANGO_HA_HEALTH_TSIG_SECRET: "ZW52", DJANGO_HA_TSIG_SECRET: "ZW52" };
    const dns01 = { ...spec.certificate, challenge: "dns-01" as const };
    assert.equal(acmeDnsSecret({ stack: "lab", inventory, certificate: dns01, capabilities, env }), labTsigSecret(paths, "lab-acme"));
    assert.equal(
      acmeDnsSecret({ stack: "lab", inventory, certificate: { ...dns01, dnsKeyName: undefined }, capabilities, env }),
      labTsigSecret(paths, "lab-update"),
    );
    assert.equal(healthDnsSecret({ stack: "lab", inventory, health: spec.health, capabilities, env }), labTsigSecret(paths, "lab-health"));
  });
});
