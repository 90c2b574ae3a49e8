import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { testCa, testLeaf } from "../../test/acme-certs";
import { ariCertIdFrom, certInfo, chainTrusted, leafPem, namesMatch, serialDerHex } from "./cert";

describe("ARI certID (RFC 9773)", () => {
  it("matches the RFC's example (AKI 69:88:5B…, serial 00:87:65:43:21)", () => {
    assert.equal(ariCertIdFrom("69885b6b87464041e1b37b847ba0ae2cde01c8d4", "0087654321"), "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
    // The same serial given without its sign octet (as OpenSSL prints it) gives the same certID.
    assert.equal(ariCertIdFrom("69885b6b87464041e1b37b847ba0ae2cde01c8d4", "87654321"), "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
  });

  it("is read from a certificate: the issuer's key id and the serial's DER octets", async () => {
    const ca = await testCa();
    const leaf = await testLeaf(ca, {
      names: ["www.example.org", "example.org"],
      notBefore: new Date("2027-01-01T00:00:00Z"),
      notAfter: new Date("2027-03-01T00:00:00Z"),
      serial: "87654321",
    });
    const info = certInfo(leaf.chainPem);
    const ski = Buffer.from(ca.cert.getExtension("2.5.29.14")!.value).subarray(2).toString("base64url");
    assert.equal(info.certId, `${ski}.AIdlQyE`);
    assert.equal(info.serial, "0087654321");
    assert.deepEqual(info.names, ["example.org", "www.example.org"]);
    assert.equal(info.notBefore, Date.parse("2027-01-01T00:00:00Z"));
    assert.equal(info.notAfter, Date.parse("2027-03-01T00:00:00Z"));
    assert.ok(namesMatch(info, ["www.example.org", "EXAMPLE.org"]));
    assert.ok(!namesMatch(info, ["www.example.org"]));
    assert.ok(!namesMatch(info, ["www.example.org", "example.org", "api.example.org"]));
  });

  it("the serial's octets are the minimal positive DER INTEGER content (property)", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: (1n << 160n) - 1n }), fc.nat(3), (n, pad) => {
        const hex = "00".repeat(pad) + n.toString(16);
        const der = Buffer.from(serialDerHex(hex), "hex");
        assert.equal(BigInt(`0x${der.toString("hex")}`), n, "same value");
        assert.ok(der[0] < 0x80, "positive: high bit of the first octet clear");
        assert.ok(der.length === 1 || der[0] !== 0 || der[1] >= 0x80, "minimal: a leading 00 only before a high bit");
      }),
    );
  });

  it("reads the leaf of a chain and says when there is no certificate", () => {
    assert.throws(() => leafPem("nothing here"), /no PEM certificate/);
  });
});

describe("chainTrusted: does the served chain lead to a root of this machine's trust store", () => {
  it("yes with its issuer in the store (sent in the chain or not), no with another CA's store or an empty one", async () => {
    const ca = await testCa();
    const other = await testCa("another CA");
    const leaf = await testLeaf(ca, {
      names: ["www.example.org"],
      notBefore: new Date(Date.now() - 3600_000),
      notAfter: new Date(Date.now() + 86400_000),
    });
    assert.equal(chainTrusted(leaf.chainPem, `${other.pem}\n${ca.pem}`), true);
    assert.equal(chainTrusted(leafPem(leaf.chainPem), ca.pem), true, "the leaf alone, issued by a root of the store");
    assert.equal(chainTrusted(leaf.chainPem, other.pem), false, "a CA that reset its root (the lab's pebble at every start)");
    assert.equal(chainTrusted(leaf.chainPem, ""), false);
    assert.equal(chainTrusted("", ca.pem), false);
  });

  it("no for a certificate that names the root as its issuer but was signed by another key", async () => {
    const ca = await testCa("same name CA");
    const impostor = await testCa("same name CA");
    const leaf = await testLeaf(impostor, {
      names: ["www.example.org"],
      notBefore: new Date(Date.now() - 3600_000),
      notAfter: new Date(Date.now() + 86400_000),
    });
    assert.equal(chainTrusted(leafPem(leaf.chainPem), ca.pem), false);
  });
});
