import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { nsupdateScript, Rfc2136Dns, validateChange } from "./rfc2136";

const server = { server: "10.231.0.2", port: 53, zone: "lab.test", keyName: "lab-update", algorithm: "hmac-sha256", secret: "c2VjcmV0" };

describe("nsupdateScript", () => {
  it("replace: delete the RRset, add each member with the TTL, one send (atomic)", () => {
    assert.equal(
      nsupdateScript(server, [{ op: "replace", fqdn: "www.lab.test", addresses: ["10.231.0.21", "10.231.0.22"], ttl: 30 }]),
      [
        "server 10.231.0.2 53",
        "key hmac-sha256:lab-update c2VjcmV0",
        "zone lab.test.",
        "update delete www.lab.test. A",
        "update add www.lab.test. 30 IN A 10.231.0.21",
        "update add www.lab.test. 30 IN A 10.231.0.22",
        "send",
        "",
      ].join("\n"),
    );
  });
  it("add and remove touch one address only; port defaults to 53", () => {
    const { port: _port, ...noPort } = server;
    assert.equal(
      nsupdateScript(noPort, [
        { op: "add", fqdn: "www.lab.test.", address: "10.231.0.23", ttl: 30 },
        { op: "remove", fqdn: "www.lab.test", address: "10.231.0.21" },
      ]),
      [
        "server 10.231.0.2 53",
        "key hmac-sha256:lab-update c2VjcmV0",
        "zone lab.test.",
        "update add www.lab.test. 30 IN A 10.231.0.23",
        "update delete www.lab.test. IN A 10.231.0.21",
        "send",
        "",
      ].join("\n"),
    );
  });
  it("TXT: setTxt replaces the TXT RRset with quoted values, removeTxt deletes each value", () => {
    assert.equal(
      nsupdateScript(server, [
        { op: "setTxt", fqdn: "_acme-challenge.www.lab.test", values: ["abc-_1", "def"], ttl: 60 },
        { op: "removeTxt", fqdn: "_acme-challenge.lab.test", values: ["xyz"] },
      ]),
      [
        "server 10.231.0.2 53",
        "key hmac-sha256:lab-update c2VjcmV0",
        "zone lab.test.",
        "update delete _acme-challenge.www.lab.test. TXT",
        'update add _acme-challenge.www.lab.test. 60 IN TXT "abc-_1"',
        'update add _acme-challenge.www.lab.test. 60 IN TXT "def"',
        'update delete _acme-challenge.lab.test. IN TXT "xyz"',
        "send",
        "",
      ].join("\n"),
    );
  });
  it("TXT values that would break the quoting are refused before nsupdate runs", async () => {
    assert.throws(
      () =>
        validateChange("lab.test", { op: "setTxt", fqdn: "_acme-challenge.lab.test", values: ['a"\nupdate delete lab.test. A'], ttl: 60 }),
      /values\[0\]/,
    );
    await assert.rejects(new Rfc2136Dns(server).setTxt("_acme-challenge.other.test", ["x"], 60), /not in zone "lab\.test"/);
  });
  it("replace with no members empties the record", () => {
    assert.match(
      nsupdateScript(server, [{ op: "replace", fqdn: "www.lab.test", addresses: [], ttl: 30 }]),
      /update delete www\.lab\.test\. A\nsend/,
    );
  });
});

describe("validateChange", () => {
  it("refuses names outside the zone, bad addresses and TTLs, naming value and fix", () => {
    assert.throws(
      () => validateChange("lab.test", { op: "add", fqdn: "www.example.com", address: "10.0.0.1", ttl: 30 }),
      /"www\.example\.com" is not in zone "lab\.test": use a name ending in \.lab\.test/,
    );
    assert.throws(
      () => validateChange("lab.test", { op: "add", fqdn: "www.lab.test", address: "10.0.0.256", ttl: 30 }),
      /address "10\.0\.0\.256" .* not an IPv4 address/,
    );
    assert.throws(() => validateChange("lab.test", { op: "replace", fqdn: "www.lab.test", addresses: ["x"], ttl: 30 }), /address "x"/);
    assert.throws(
      () => validateChange("lab.test", { op: "add", fqdn: "www.lab.test", address: "10.0.0.1", ttl: 0 }),
      /ttl 0 .* between 1 and 604800/,
    );
    assert.throws(
      () => validateChange("lab.test", { op: "add", fqdn: "w w.lab.test", address: "10.0.0.1", ttl: 30 }),
      /characters a DNS name cannot have/,
    );
  });
  it("accepts the zone apex and names inside it", () => {
    validateChange("lab.test", { op: "add", fqdn: "lab.test", address: "10.0.0.1", ttl: 30 });
    validateChange("lab.test.", { op: "remove", fqdn: "a.b.lab.test.", address: "10.0.0.1" });
  });
});

describe("Rfc2136Dns", () => {
  it("refuses an empty secret and never shows the secret in its description", () => {
    assert.throws(() => new Rfc2136Dns({ ...server, secret: "" }), /TSIG secret for key "lab-update" is empty/);
    const d = new Rfc2136Dns(server);
    assert.equal(d.describe, "rfc2136 10.231.0.2:53 zone lab.test key lab-update");
    assert.doesNotMatch(d.describe, /c2VjcmV0/);
  });
  it("rejects bad input before running nsupdate", async () => {
    const d = new Rfc2136Dns(server);
    await assert.rejects(d.addMember("www.other.test", { name: "x", address: "10.231.0.21" }, 30), /not in zone "lab\.test"/);
  });
});
