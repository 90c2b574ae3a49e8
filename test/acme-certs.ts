/**
 * Certificates for the ACME agent's tests: a small CA and leaves with chosen validity, serial and names,
 * made with @peculiar/x509 over WebCrypto (no network, no openssl process).
 */
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const alg = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };

export interface TestCa {
  keys: CryptoKeyPair;
  cert: x509.X509Certificate;
  pem: string;
}

export async function testCa(name = "django-ha test CA"): Promise<TestCa> {
  const keys = (await webcrypto.subtle.generateKey(alg, true, ["sign", "verify"])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: "01",
    name: `CN=${name}`,
    notBefore: new Date(Date.now() - 86400_000),
    notAfter: new Date(Date.now() + 3650 * 86400_000),
    keys,
    signingAlgorithm: alg,
    extensions: [new x509.BasicConstraintsExtension(true, 0, true), await x509.SubjectKeyIdentifierExtension.create(keys.publicKey)],
  });
  return { keys, cert, pem: cert.toString("pem") };
}

export interface LeafOptions {
  names: string[];
  notBefore: Date;
  notAfter: Date;
  /** Hex. Defaults to a random 16-byte serial. */
  serial?: string;
}

/** A leaf signed by `ca` (AKI = the CA's SKI), its chain PEM (leaf + CA) and its private key as PKCS#8 PEM. */
export async function testLeaf(ca: TestCa, o: LeafOptions): Promise<{ chainPem: string; keyPem: string; cert: x509.X509Certificate }> {
  const keys = (await webcrypto.subtle.generateKey(alg, true, ["sign", "verify"])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber:
      o.serial ??
      Buffer.from(webcrypto.getRandomValues(new Uint8Array(16)))
        .toString("hex")
        .replace(/^[89a-f]/, "1"),
    subject: `CN=${o.names[0]}`,
    issuer: ca.cert.subject,
    notBefore: o.notBefore,
    notAfter: o.notAfter,
    signingAlgorithm: alg,
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    extensions: [
      new x509.SubjectAlternativeNameExtension(o.names.map((value) => ({ type: "dns" as const, value }))),
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert, false),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", keys.privateKey)).toString("base64");
  const keyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8.match(/.{1,64}/g)?.join("\n")}\n-----END PRIVATE KEY-----\n`;
  return { chainPem: `${cert.toString("pem")}\n${ca.pem}\n`, keyPem, cert };
}
