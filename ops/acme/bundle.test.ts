import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { testCa, testLeaf } from "../../test/acme-certs";
import { goodConfig } from "../../test/acme-config";
import { bundleAgent } from "./bundle";
import { certInfo } from "./cert";
import { storePaths } from "./run";
import { emptyState, withEvent, writeState } from "./state";

describe("bundleAgent: one self-contained file for the nodes", () => {
  // Outside the repository, so nothing can resolve from its node_modules.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "acme-bundle-"));
  const bundle = path.join(dir, "acme-agent.js");
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== "NODE_PATH" && k !== "NODE_OPTIONS"));
  const agent = (...args: string[]) => spawnSync(process.execPath, [bundle, ...args], { cwd: dir, env, encoding: "utf8" });
  let text = "";
  before(async () => {
    text = await bundleAgent();
    fs.writeFileSync(bundle, text, { mode: 0o644 });
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("is one CommonJS file with a shebang, the same text every time", async () => {
    assert.match(text, /^#!\/usr\/bin\/env node\n"use strict";/);
    assert.equal(await bundleAgent(), text);
    assert.ok(!text.includes(process.cwd()), "no absolute paths of this checkout");
  });

  it("runs with node alone: --help on every verb", () => {
    const top = agent("--help");
    assert.equal(top.status, 0, top.stderr);
    for (const verb of ["run", "status", "renew", "revoke", "issue"]) {
      assert.match(top.stdout, new RegExp(`\\n  ${verb} `));
      const r = agent(verb, "--help");
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`Usage: django-ha-acme ${verb}`));
    }
  });

  it("status --json reads a served certificate and state from a share directory", async () => {
    const store = path.join(dir, "tls");
    const config = { ...goodConfig, store, webroot: path.join(dir, "acme") };
    fs.writeFileSync(path.join(dir, "acme.json"), JSON.stringify(config));
    const p = storePaths(store, config.certName);
    fs.mkdirSync(p.certDir, { recursive: true });
    fs.mkdirSync(p.acmeDir, { recursive: true });
    const now = Date.now();
    const leaf = await testLeaf(await testCa(), {
      names: config.names,
      notBefore: new Date(now - 86400_000),
      notAfter: new Date(now + 89 * 86400_000),
    });
    fs.writeFileSync(p.fullchain, leaf.chainPem);
    writeState(store, withEvent(emptyState(), now, "issued", "by the test"));
    const r = agent("--config", path.join(dir, "acme.json"), "--secrets-file", path.join(dir, "none.env"), "status", "--json");
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout) as {
      certificate: { serial: string };
      next: { action: string; reason: string };
      history: { event: string }[];
    };
    assert.equal(report.certificate.serial, certInfo(leaf.chainPem).serial);
    assert.equal(report.next.action, "wait");
    assert.match(report.next.reason, /a third of the lifetime left/);
    assert.deepEqual(
      report.history.map((h) => h.event),
      ["issued"],
    );
  });

  it("exit status 2 with key, value and fix for a bad config; 2 for renew without --force", () => {
    fs.writeFileSync(path.join(dir, "bad.json"), JSON.stringify({ ...goodConfig, challenge: "tls-alpn-01" }));
    const bad = agent("--config", path.join(dir, "bad.json"), "status");
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /challenge = "tls-alpn-01": must be/);
    assert.equal(agent("renew").status, 2);
  });
});
