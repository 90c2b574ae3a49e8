import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { hostsInventory } from "../../model";
import { acknowledged, ClientConfig, oneLine } from "./client";
import { clientConfig, compareWithNode } from "./load";
import { clusterCaFile, curlVerify } from "../lab-tls";
import type { Sample } from "./timeline";
import { hostsStackSpec } from "../hosts-spec";

const write = (id: string, ok: boolean): Sample => ({ kind: "write", seq: 0, id, target: "x", start: 0, end: 1, ok, status: ok ? 201 : 0 });

describe("drill load", () => {
  it("the client targets the lab's round-robin name through the lab's DNS server, and its settings validate", () => {
    const inv = hostsInventory(hostsStackSpec("lab"));
    const cfg = clientConfig(inv, "drill-abc", { writesPerSecond: 20, caFile: "/lab/pebble/roots.pem" });
    assert.equal(cfg.fqdn, inv.recordFqdn);
    assert.equal(cfg.caFile, "/lab/pebble/roots.pem", "the client verifies the chain against that CA");
    assert.equal(inv.dns.kind === "rfc2136" && cfg.dnsServer, inv.dns.kind === "rfc2136" && inv.dns.server);
    assert.equal(cfg.writesPerSecond, 20);
    assert.deepEqual(ClientConfig.parse(cfg), cfg);
    assert.throws(() => ClientConfig.parse({ ...cfg, idPrefix: "x'; drop table" }), /letters, digits/);
    assert.throws(() => clientConfig({ ...inv, dns: { kind: "digitalocean", domain: "d", recordName: "www" } }, "p"), /lab's DNS server/);
    assert.throws(() => ClientConfig.parse({ ...cfg, caFile: "" }), /caFile/, "no CA, no client: it never runs unverified");
  });

  it("a write counts only on 201 with the note's id; a read only on 200 with the list", () => {
    assert.equal(acknowledged("write", { status: 201, body: '{"id": 7, "node": "c"}' }), true);
    assert.equal(acknowledged("write", { status: 200, body: '{"id": 7}' }), false);
    assert.equal(acknowledged("write", { status: 201, body: "<html>" }), false);
    assert.equal(acknowledged("write", { status: 503, body: '{"error": "read-only"}' }), false);
    assert.equal(acknowledged("read", { status: 200, body: '{"notes": []}' }), true);
    assert.equal(acknowledged("read", { status: 200, body: "{}" }), false);
    assert.equal(acknowledged("read", { status: 502, body: "Bad Gateway" }), false);
    assert.equal(oneLine("<!doctype html>\n<html>\n <h1>Server Error (500)</h1>\n</html>\n"), "Server Error (500)");
  });

  it("every acknowledged id must be on the node; unacknowledged ones that committed are counted, not lost", () => {
    const samples = [write("p-0", true), write("p-1", true), write("p-2", false), write("p-3", false)];
    assert.deepEqual(compareWithNode(samples, new Set(["p-0", "p-1", "p-3"])), { acked: 2, missing: [], unacknowledgedPresent: 1 });
    assert.deepEqual(compareWithNode(samples, new Set(["p-0"])), { acked: 2, missing: ["p-1"], unacknowledgedPresent: 0 });
  });
});

describe("lab TLS for clients", () => {
  it("verifies against pebble's root of the running lab, and says how to get one when no lab is up", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lab-tls-"));
    try {
      const paths = { pebbleRoots: path.join(dir, "roots.pem") };
      assert.throws(() => clusterCaFile(paths), /roots\.pem is missing: no lab is up \(`npm run lab -- up` fetches pebble's root there\)/);
      fs.writeFileSync(paths.pebbleRoots, "-----BEGIN CERTIFICATE-----\n");
      assert.deepEqual(curlVerify(paths), ["--cacert", paths.pebbleRoots]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
