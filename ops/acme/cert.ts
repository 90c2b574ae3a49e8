/**
 * What the agent reads from a certificate: validity, names, serial, and the ARI certID (RFC 9773 §4.1:
 * base64url(AKI keyIdentifier) "." base64url(serial number DER content octets)). @peculiar/x509 parses
 * the extensions node:crypto does not expose (acme-client depends on it too). Pure.
 */
import { X509Certificate } from "node:crypto";
import * as x509 from "@peculiar/x509";

export interface CertInfo {
  /** Serial number as lower-case hex, as DER content octets (leading 00 when the high bit is set). */
  serial: string;
  notBefore: number;
  notAfter: number;
  /** DNS names of the subjectAltName extension, sorted. */
  names: string[];
  /** The ARI certID; undefined when the certificate has no authority key identifier. */
  certId?: string;
}

/** The first certificate of a PEM chain (the leaf). */
export function leafPem(chainPem: string): string {
  const m = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/.exec(chainPem);
  if (!m) throw new Error("no PEM certificate found (expected -----BEGIN CERTIFICATE-----)");
  return `${m[0]}\n`;
}

/** A positive INTEGER's DER content octets from its hex value: minimal, with 00 in front when the high bit is set. */
export function serialDerHex(hex: string): string {
  let h = hex
    .toLowerCase()
    .replace(/[^0-9a-f]/g, "")
    .replace(/^(00)+/, "");
  if (h.length % 2 === 1) h = `0${h}`;
  if (h === "") return "00";
  return parseInt(h.slice(0, 2), 16) >= 0x80 ? `00${h}` : h;
}

/** RFC 9773 certID from the AKI keyIdentifier and the serial (both hex). */
export function ariCertIdFrom(akiKeyIdHex: string, serialHex: string): string {
  const b64u = (hex: string) => Buffer.from(hex, "hex").toString("base64url");
  return `${b64u(akiKeyIdHex)}.${b64u(serialDerHex(serialHex))}`;
}

export function certInfo(chainPem: string): CertInfo {
  const cert = new x509.X509Certificate(leafPem(chainPem));
  const aki = cert.getExtension(x509.AuthorityKeyIdentifierExtension);
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const names = (san?.names.items ?? []).filter((n) => n.type === "dns").map((n) => n.value.toLowerCase());
  return {
    serial: serialDerHex(cert.serialNumber),
    notBefore: cert.notBefore.getTime(),
    notAfter: cert.notAfter.getTime(),
    names: [...new Set(names)].sort(),
    certId: aki?.keyId ? ariCertIdFrom(aki.keyId, cert.serialNumber) : undefined,
  };
}

/** The certificate lists exactly these names (order and case ignored). */
export function namesMatch(info: Pick<CertInfo, "names">, wanted: readonly string[]): boolean {
  const w = [...new Set(wanted.map((n) => n.toLowerCase()))].sort();
  return w.length === info.names.length && w.every((n, i) => n === info.names[i]);
}

/** Every certificate of a PEM bundle, in order. */
export function pemCertificates(bundle: string): string[] {
  return bundle.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
}

/**
 * Whether the chain (leaf first, then the intermediates the CA sent) leads by valid signatures to one of the
 * `roots` (a trust store bundle such as /etc/ssl/certs/ca-certificates.crt). Pure.
 */
export function chainTrusted(chainPem: string, rootsPem: string): boolean {
  const parse = (pems: string[]) =>
    pems.flatMap((p) => {
      try {
        return [new X509Certificate(p)];
      } catch {
        return [];
      }
    });
  const [leaf, ...intermediates] = parse(pemCertificates(chainPem));
  const roots = parse(pemCertificates(rootsPem));
  const issues = (issuer: X509Certificate, cert: X509Certificate) => cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
  let current: X509Certificate | undefined = leaf;
  for (let depth = 0; current && depth <= intermediates.length; depth++) {
    const cert: X509Certificate = current;
    if (roots.some((r) => issues(r, cert))) return true;
    current = intermediates.find((i) => i !== cert && issues(i, cert));
  }
  return false;
}
