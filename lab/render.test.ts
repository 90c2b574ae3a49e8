import assert from "node:assert/strict";
import * as path from "node:path";
import { describe, it } from "node:test";
import { packagesFor } from "../roles/packages";
import {
  acmeChallengeNames,
  isInfrastructure,
  LabMachine,
  renderAcmeNodeFirewall,
  renderDnsNodeFirewall,
  renderHosts,
  renderNamedLocal,
  renderNamedOptions,
  renderResolvConf,
  renderSshdConfig,
  renderTsigKey,
  renderZone,
  servicesToDisable,
} from "./render";
import { LAB_SSHD_DROP_IN } from "./node";
import { SSHD_DROP_IN } from "../roles/common";
import { renderSshdDropIn } from "../roles/files/sshd";

const machines: LabMachine[] = [
  { name: "lab-dns", address: "10.231.0.2", kind: "dns" },
  { name: "lab-db-1", address: "10.231.0.11", kind: "parent" },
  { name: "lab-child-1", address: "10.231.0.21", kind: "child" },
];

describe("node files", () => {
  it("/etc/hosts names every lab machine, short and in the zone", () => {
    assert.equal(
      renderHosts(machines[1], machines, "lab.test"),
      [
        "127.0.0.1\tlocalhost",
        "::1\tlocalhost ip6-localhost ip6-loopback",
        "",
        "# lab machines (written by django-ha lab)",
        "10.231.0.2\tlab-dns.lab.test lab-dns",
        "10.231.0.11\tlab-db-1.lab.test lab-db-1",
        "10.231.0.21\tlab-child-1.lab.test lab-child-1",
        "",
      ].join("\n"),
    );
  });
  it("resolv.conf points at the lab DNS node only", () => {
    assert.equal(
      renderResolvConf("lab.test"),
      "# written by django-ha lab\nnameserver 10.231.0.2\nsearch lab.test\noptions timeout:1 attempts:2\n",
    );
  });
  it("sshd: keys only for root, no passwords", () => {
    const c = renderSshdConfig();
    assert.match(c, /^PermitRootLogin prohibit-password$/m);
    assert.match(c, /^PasswordAuthentication no$/m);
    assert.match(c, /^KbdInteractiveAuthentication no$/m);
  });
  it("sshd: sorts after the roles' drop-in and overrides none of its settings (sshd keeps the first value)", () => {
    const keywords = (text: string) =>
      new Map(
        text
          .split("\n")
          .filter((l) => /^[A-Za-z]/.test(l))
          .map((l) => [l.split(/\s+/)[0].toLowerCase(), l.split(/\s+/).slice(1).join(" ")]),
      );
    const lab = keywords(renderSshdConfig());
    const roles = keywords(renderSshdDropIn({ port: 2222 }));
    assert.ok(path.basename(SSHD_DROP_IN) < LAB_SSHD_DROP_IN, `${path.basename(SSHD_DROP_IN)} sorts before ${LAB_SSHD_DROP_IN}`);
    assert.ok(!lab.has("port"), "Port adds a listener in every file that names it: only the roles set it");
    for (const [k, v] of lab) if (roles.has(k)) assert.equal(v, roles.get(k), `${k}: the lab says ${v}, the roles ${roles.get(k)}`);
  });
});

describe("bind9 config", () => {
  it("zone: SOA, NS and one A per machine, negative TTL = record TTL", () => {
    assert.equal(
      renderZone({ zone: "lab.test", nameServer: "lab-dns", machines, ttl: 30, serial: 7 }),
      [
        "$ORIGIN lab.test.",
        "$TTL 30",
        "@\tIN SOA lab-dns.lab.test. hostmaster.lab.test. ( 7 3600 600 86400 30 )",
        "@\tIN NS lab-dns.lab.test.",
        "lab-dns\tIN A 10.231.0.2",
        "lab-db-1\tIN A 10.231.0.11",
        "lab-child-1\tIN A 10.231.0.21",
        "",
      ].join("\n"),
    );
  });
  it("zone: extra A records after the machines (acme → the CA)", () => {
    const zone = renderZone({
      zone: "lab.test",
      nameServer: "lab-dns",
      machines: machines.slice(0, 1),
      ttl: 30,
      serial: 7,
      aliases: [{ label: "acme", address: "10.231.0.3" }],
    });
    assert.match(zone, /^lab-dns\tIN A 10\.231\.0\.2\nacme\tIN A 10\.231\.0\.3\n$/m);
  });
  it("updates only with the TSIG keys: the update key anywhere, the ACME key only TXT at the _acme-challenge names, the health key only A at the record; authoritative only", () => {
    const local = renderNamedLocal({
      zone: "lab.test",
      zoneFile: "/var/lib/bind/db.lab.test",
      keyFiles: ["/etc/bind/k.key", "/etc/bind/a.key"],
      updateKey: "lab-update",
      acme: { key: "lab-acme", challengeNames: ["_acme-challenge.lab.test", "_acme-challenge.www.lab.test"] },
      health: { key: "lab-health", recordNames: ["www.lab.test"] },
    });
    assert.match(local, /include "\/etc\/bind\/k\.key";\ninclude "\/etc\/bind\/a\.key";/);
    assert.doesNotMatch(local, /allow-update/, "BIND refuses allow-update beside update-policy");
    assert.match(
      local,
      /\tupdate-policy \{\n\t\tgrant lab-update zonesub ANY;\n\t\tgrant lab-acme name _acme-challenge\.lab\.test\. TXT;\n\t\tgrant lab-acme name _acme-challenge\.www\.lab\.test\. TXT;\n\t\tgrant lab-health name www\.lab\.test\. A;\n\t\};/,
    );
    assert.match(local, /type primary;/);
    const opts = renderNamedOptions();
    assert.match(opts, /recursion no;/);
    assert.match(opts, /allow-transfer \{ none; \};/);
  });
  it("TSIG key file in BIND syntax", () => {
    assert.equal(
      renderTsigKey("lab-update", "c2VjcmV0", "hmac-sha256"),
      'key "lab-update" {\n\talgorithm hmac-sha256;\n\tsecret "c2VjcmV0";\n};\n',
    );
  });
});

describe("acmeChallengeNames", () => {
  it("one _acme-challenge name per name in the zone (a wildcard's without *.), unique and sorted; names outside the zone dropped", () => {
    assert.deepEqual(
      acmeChallengeNames("lab.test", ["www.lab.test", "lab.test", "*.lab.test", "WWW.lab.test.", "example.com", "notlab.test"]),
      ["_acme-challenge.lab.test", "_acme-challenge.www.lab.test"],
    );
  });
});

describe("isInfrastructure", () => {
  it("is the DNS server and the ACME CA, no cluster role", () => {
    assert.deepEqual(
      (["dns", "acme", "parent", "standby", "child", "worker"] as const).filter((kind) => isInfrastructure({ kind })),
      ["dns", "acme"],
    );
  });
});

describe("servicesToDisable", () => {
  it("a child keeps nginx and uWSGI, not the database, NFS server or DNS server", () => {
    assert.deepEqual(servicesToDisable(packagesFor("child")), [
      "lsyncd.service",
      "named.service",
      "nfs-ganesha.service",
      "postgresql.service",
      "redis-server.service",
    ]);
  });
  it("the parent keeps postgres, redis, lsyncd; ganesha stays off until the bootstrap configures and enables it", () => {
    assert.deepEqual(servicesToDisable(packagesFor("parent")), ["named.service", "nfs-ganesha.service", "nginx.service", "uwsgi.service"]);
  });
  it("the DNS node keeps only named: no rpcbind (service and socket), no database, no web", () => {
    assert.deepEqual(servicesToDisable(["bind9", "bind9-dnsutils", "openssh-server"]), [
      "lsyncd.service",
      "nfs-ganesha.service",
      "nginx.service",
      "postgresql.service",
      "redis-server.service",
      "rpcbind.service",
      "rpcbind.socket",
      "uwsgi.service",
    ]);
  });
});

describe("renderAcmeNodeFirewall", () => {
  it("accepts ACME from anywhere, management and SSH from the lab host only", () => {
    const conf = renderAcmeNodeFirewall();
    assert.match(conf, /policy drop;/);
    assert.match(conf, /^\s+tcp dport 14000 accept/m);
    assert.match(conf, /ip saddr \{ 10\.231\.0\.1\/32 \} tcp dport 15000 accept/);
    assert.match(conf, /ip saddr \{ 10\.231\.0\.1\/32 \} tcp dport 22 accept/);
    assert.doesNotMatch(conf, /dport (53|80|443)\b/);
  });
});

describe("renderDnsNodeFirewall", () => {
  // nft -c parses it in roles/tools.test.ts (the image's nft, like every node's ruleset).
  it("accepts DNS from anywhere and SSH from the lab host only", () => {
    const conf = renderDnsNodeFirewall();
    assert.match(conf, /policy drop;/);
    assert.match(conf, /ip saddr \{ 10\.231\.0\.1\/32 \} tcp dport 22 accept/);
    assert.match(conf, /^\s+tcp dport 53 accept/m);
    assert.match(conf, /^\s+udp dport 53 accept/m);
    assert.doesNotMatch(conf, /dport (111|2049|5432|6379)/);
  });
});
