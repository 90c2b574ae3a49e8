import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { testCa, testLeaf } from "../../test/acme-certs";
import { ariCertIdFrom, certInfo, leafPem, namesMatch, serialDerHex } from "./cert";

describe("ARI certID (RFC 9773)", () => {
  it("matches the RFC's example (AKI 69:88:5B…, serial 00:87:65:43:21)", () => {
    assert.equal(ariCertIdFrom("69885b6b87464041e1b37b847ba0ae2cde01c8d4", "0087654321"), "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
    // The same serial given without its sign octet (as OpenSSL prints it) gives the same certID.
    assert.equal(ariCertIdFrom("69885b6b87464041e1b37b847ba0ae2cde01c8d4", "87654321"), "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
  });

  it("is read from a certificate: the issuer's key id and the serial's DER octets", async () => {
    const ca = await testCa();
    const leaf = await testLeaf(ca, { names: ["www.example.org", "example.org"], notBefore: new Date("2027-01-01T00:00:00Z"), notAfter: new Date("2027-03-01T00:00:00Z"), serial: "87654321" });
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
