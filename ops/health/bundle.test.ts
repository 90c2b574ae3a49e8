import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { bundleHealthAgent } from "./bundle";

describe("bundleHealthAgent: one self-contained file for the database machines", () => {
  // Outside the repository, so nothing can resolve from its node_modules.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "health-bundle-"));
  const bundle = path.join(dir, "health-agent.js");
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== "NODE_PATH" && k !== "NODE_OPTIONS"));
  const agent = (...args: string[]) => spawnSync(process.execPath, [bundle, ...args], { cwd: dir, env, encoding: "utf8", timeout: 30_000 });
  let text = "";
  before(async () => {
    text = await bundleHealthAgent();
    fs.writeFileSync(bundle, text, { mode: 0o644 });
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("is one CommonJS file with a shebang, the same text every time, no path of this checkout", async () => {
    assert.match(text, /^#!\/usr\/bin\/env node\n"use strict";/);
    assert.equal(await bundleHealthAgent(), text);
    assert.ok(!text.includes(process.cwd()), "no absolute paths of this checkout");
  });

  it("runs with node alone: --help on every verb", () => {
    const top = agent("--help");
    assert.equal(top.status, 0, top.stderr);
    for (const verb of ["run", "status"]) {
      assert.match(top.stdout, new RegExp(`\\n  ${verb} `));
      const r = agent(verb, "--help");
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`Usage: django-ha-health ${verb}`));
    }
  });

  it("a bad config is refused with the key, the value and the fix", () => {
    const file = path.join(dir, "health.json");
    fs.writeFileSync(file, JSON.stringify({ fqdn: "www.lab.test", ttl: 30, children: [], dns: { provider: "rfc2136" } }));
    const r = agent("run", "--once", "--config", file, "--lock", path.join(dir, "lock"));
    assert.equal(r.status, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /children = \[\]: must list the cluster's children/);
    assert.match(r.stderr, /dns\.server = undefined/);
  });

  it("run --once on a machine that is not the primary idles, records the round, and status shows it", () => {
    const file = path.join(dir, "ok.json");
    const state = path.join(dir, "state.json");
    fs.writeFileSync(
      file,
      JSON.stringify({
        fqdn: "www.lab.test",
        ttl: 30,
        children: [{ name: "lab-child-1", address: "10.231.0.21", privateAddress: "10.231.0.21" }],
        dns: { provider: "rfc2136", server: "10.231.0.2", port: 53, zone: "lab.test", keyName: "lab-update", algorithm: "hmac-sha256" },
      }),
    );
    // No PostgreSQL here: the primary check says no, so nothing is probed and DNS is never asked.
    const r = spawnSync(process.execPath, [bundle, "run", "--once", "--config", file, "--lock", path.join(dir, "lock"), "--state", state], {
      cwd: dir,
      env: { ...env, DJANGO_HA_DNS_TSIG_SECRET: "c2VjcmV0" },
      encoding: "utf8",
      timeout: 30_000,
    });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^not the primary \(PostgreSQL did not answer .*\): idle\n$/);
    const shown = agent("status", "--state", state);
    assert.equal(shown.status, 0, shown.stderr);
    assert.match(shown.stdout, /: idle \(not the primary\); record unknown\n/);
    const missing = agent("run", "--once", "--config", file, "--lock", path.join(dir, "lock2"), "--state", state);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /DJANGO_HA_DNS_TSIG_SECRET is not set: the bootstrap writes it to \/etc\/django-ha\/health.env/);
  });
});
