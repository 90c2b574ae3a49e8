/**
 * Keys on the share are only ever stored encrypted: PKCS#8 PEM, aes-256-cbc, passphrase from
 * DJANGO_HA_TLS_PASSPHRASE (the children decrypt with `openssl pkey -passin env:...`).
 */
import { createPrivateKey, X509Certificate } from "node:crypto";
import { UserError } from "../../model/errors";
import { leafPem } from "./cert";

export function encryptKey(keyPem: string | Buffer, passphrase: string): string {
  if (!passphrase)
    throw new UserError("DJANGO_HA_TLS_PASSPHRASE is empty: keys are never stored in plain text; set it in /etc/django-ha/acme.env");
  return createPrivateKey(keyPem).export({ format: "pem", type: "pkcs8", cipher: "aes-256-cbc", passphrase }).toString();
}

/** The plain PKCS#8 PEM; a UserError naming the file when the passphrase does not open it. */
export function decryptKey(encryptedPem: string, passphrase: string, file: string): string {
  if (!/-----BEGIN ENCRYPTED PRIVATE KEY-----/.test(encryptedPem)) {
    throw new UserError(
      `${file} is not an encrypted PKCS#8 key: keys on the share must be encrypted; delete it and let the agent write a new one`,
    );
  }
  try {
    return createPrivateKey({ key: encryptedPem, format: "pem", passphrase }).export({ format: "pem", type: "pkcs8" }).toString();
  } catch {
    throw new UserError(
      `${file} cannot be decrypted with DJANGO_HA_TLS_PASSPHRASE: the passphrase in /etc/django-ha/acme.env differs from the one that encrypted it (re-run the bootstrap so every node has the stack's passphrase)`,
    );
  }
}

/** The key belongs to the chain's leaf certificate. */
export function keyMatchesCert(keyPem: string, chainPem: string): boolean {
  return new X509Certificate(leafPem(chainPem)).checkPrivateKey(createPrivateKey(keyPem));
}
