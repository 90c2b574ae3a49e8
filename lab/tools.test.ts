/**
 * The lab's infrastructure files checked by the nodes' own tools, in a throw-away node booted from the lab image
 * (test/image-node.ts: private network, no lab needed): named-checkconf/-checkzone on the DNS node's config,
 * nft -c on the CA's firewall, systemd-analyze verify on pebble's unit, pebble 2.6 itself serving its directory
 * with the lab CA's listener certificate, and the image's update-ca-certificates taking the lab's roots.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { bootImageNode, IMAGE_NODE_TIMEOUT_MS, type ImageNode } from "../test/image-node";
import { labPaths } from "./config";
import { labChallengeNames } from "./infra";
import { ensureLabCa, installTrust, PEBBLE_NODE_FILES, PEBBLE_UNIT, renderPebbleConfig, renderPebbleUnit, TRUST_FILES } from "./pebble";
import { renderAcmeNodeFirewall, renderNamedLocal, renderTsigKey, renderZone, type LabMachine } from "./render";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "lab-tools-test-"));
const paths = labPaths(path.join(tmp, "lab"));
let node: ImageNode;
before(
  async () => {
    node = await bootImageNode();
    await ensureLabCa(paths, "lab.test");
  },
  { timeout: IMAGE_NODE_TIMEOUT_MS },
);
after(async () => {
  await node?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const machines: LabMachine[] = [
  { name: "lab-dns", address: "10.231.0.2", kind: "dns" },
  { name: "lab-acme", address: "10.231.0.3", kind: "acme" },
  { name: "lab-child-1", address: "10.231.0.21", kind: "child" },
];

describe("lab DNS config (the image's named-checkconf, named-checkzone)", () => {
  it("accepts the zone with the three keys and the ACME and health keys' update policy; refuses a broken policy", () => {
    const secret = Buffer.alloc(32, 7).toString("base64");
    node.write("/etc/bind/lab-update.key", renderTsigKey("lab-update", secret));
    node.write("/etc/bind/lab-acme.key", renderTsigKey("lab-acme", secret));
    node.write("/etc/bind/lab-health.key", renderTsigKey("lab-health", secret));
    const local = renderNamedLocal({
      zone: "lab.test",
      zoneFile: "/var/lib/bind/db.lab.test",
      keyFiles: ["/etc/bind/lab-update.key", "/etc/bind/lab-acme.key", "/etc/bind/lab-health.key"],
      updateKey: "lab-update",
      acme: { key: "lab-acme", challengeNames: labChallengeNames({ domain: "lab.test", recordFqdn: "www.lab.test" }, machines) },
      health: { key: "lab-health", recordNames: ["www.lab.test"] },
    });
    node.write("/etc/bind/named.conf.local", local);
    const conf = node.run(["named-checkconf", "/etc/bind/named.conf"]);
    assert.equal(conf.status, 0, conf.out);
    node.write(
      "/var/lib/bind/db.lab.test",
      renderZone({
        zone: "lab.test",
        nameServer: "lab-dns",
        machines,
        ttl: 30,
        serial: 1,
        aliases: [{ label: "acme", address: "10.231.0.3" }],
      }),
    );
    const zone = node.run(["named-checkzone", "lab.test", "/var/lib/bind/db.lab.test"]);
    assert.equal(zone.status, 0, zone.out);
    node.write("/etc/bind/named.conf.local", local.replace("zonesub ANY", "zonesub ANYTHING"));
    assert.notEqual(node.run(["named-checkconf", "/etc/bind/named.conf"]).status, 0, "named-checkconf must refuse a broken policy");
    node.write("/etc/bind/named.conf.local", local);
  });
});

describe("lab ACME CA files (the image's nft, systemd, pebble)", () => {
  it("nft -c accepts the CA's firewall", () => {
    const r = node.run(["nft", "-c", "-f", "-"], { input: renderAcmeNodeFirewall().replace("delete table inet django_ha\n", "") });
    assert.equal(r.status, 0, r.out);
  });
  it("systemd-analyze verify accepts pebble's unit", () => {
    node.write(PEBBLE_NODE_FILES.unit, renderPebbleUnit());
    const r = node.run(["systemd-analyze", "verify", PEBBLE_UNIT]);
    assert.equal(r.status, 0, r.out);
    assert.doesNotMatch(r.out, new RegExp(PEBBLE_UNIT));
  });
  it(
    "pebble 2.6 reads the config and serves its directory (with renewalInfo) under the lab CA's listener certificate",
    { timeout: 60_000 },
    async () => {
      node.write(PEBBLE_NODE_FILES.config, renderPebbleConfig(120));
      node.write(PEBBLE_NODE_FILES.cert, fs.readFileSync(paths.pebbleCert, "utf8"));
      node.write(PEBBLE_NODE_FILES.key, fs.readFileSync(paths.pebbleKey, "utf8"), 0o600);
      node.write("/root/lab-ca.pem", fs.readFileSync(paths.labCa, "utf8"));
      const started = node.run([
        "systemd-run",
        "--unit=pebble-check",
        "--setenv=PEBBLE_VA_NOSLEEP=1",
        "/usr/bin/pebble",
        "-config",
        PEBBLE_NODE_FILES.config,
      ]);
      assert.equal(started.status, 0, started.out);
      try {
        const curl = [
          "curl",
          "-s",
          "--fail",
          "--cacert",
          "/root/lab-ca.pem",
          "--resolve",
          "acme.lab.test:14000:127.0.0.1",
          "--retry",
          "20",
          "--retry-delay",
          "1",
          "--retry-connrefused",
          "https://acme.lab.test:14000/dir",
        ];
        const dir = node.run(curl);
        assert.equal(dir.status, 0, dir.out);
        const directory = JSON.parse(dir.out) as Record<string, unknown>;
        assert.match(String(directory.newOrder), /^https:\/\/acme\.lab\.test:14000\//);
        assert.ok(directory.renewalInfo, `pebble 2.6 offers ARI: ${dir.out}`);
        const wrongName = node.run([
          "curl",
          "-sS",
          "--cacert",
          "/root/lab-ca.pem",
          "--resolve",
          "other.lab.test:14000:127.0.0.1",
          "https://other.lab.test:14000/dir",
        ]);
        assert.notEqual(wrongName.status, 0, "the listener certificate is for acme.lab.test and 10.231.0.3 only");
      } finally {
        node.run(["systemctl", "stop", "pebble-check"]);
      }
    },
  );
});

describe("installTrust (the image's update-ca-certificates)", () => {
  it("puts the lab CA and pebble's root into the system store, where openssl finds them", async () => {
    const root = node.root;
    const labCa = fs.readFileSync(paths.labCa, "utf8");
    assert.equal(await installTrust(root, { labCa, pebbleRoot: labCa }), true);
    assert.equal(node.read(TRUST_FILES.labCa), labCa);
    node.write("/root/listener.pem", fs.readFileSync(paths.pebbleCert, "utf8"));
    const verify = node.run(["openssl", "verify", "-CAfile", "/etc/ssl/certs/ca-certificates.crt", "/root/listener.pem"]);
    assert.equal(verify.status, 0, verify.out);
    assert.equal(await installTrust(root, { labCa, pebbleRoot: labCa }), false, "unchanged: update-ca-certificates not run again");
  });
});
