/**
 * The ACME account contact, checked the way Let's Encrypt checks it before it creates an account
 * (Boulder policy/pa.go `ValidEmail`: the address must parse, its domain must be a valid host name ending
 * in an ICANN TLD, and example.com/.net/.org are forbidden). Pure.
 */

/** Let's Encrypt's own directories (production and staging): there the reserved-domain rules apply. */
export const LETS_ENCRYPT_HOSTS = ["acme-v02.api.letsencrypt.org", "acme-staging-v02.api.letsencrypt.org"];

/** Boulder's forbiddenMailDomains (RFC 2606 §3 second-level example domains). */
const FORBIDDEN_MAIL_DOMAINS = ["example.com", "example.net", "example.org"];

/**
 * Top-level names that are not ICANN TLDs and never will be, so Let's Encrypt refuses them (Boulder
 * requires an ICANN TLD): the IANA Special-Use Domain Names registry (RFC 2606: test, example, invalid,
 * localhost; RFC 6762: local; RFC 7686: onion; RFC 9476: alt; RFC 8375 home.arpa and the rest of arpa),
 * ICANN's private-use .internal (2024), and the names ICANN deferred indefinitely for collisions (corp,
 * home, mail), plus the common private suffixes localdomain and lan.
 */
const NON_PUBLIC_TLDS = [
  "test",
  "example",
  "invalid",
  "localhost",
  "local",
  "onion",
  "alt",
  "arpa",
  "internal",
  "corp",
  "home",
  "mail",
  "localdomain",
  "lan",
];

// RFC 5322 atext, and dots between atoms (dot-atom): what Go's net/mail accepts without quoting.
const localPart = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const ldhLabel = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Problems with `address` as an ACME contact, as fixes; empty when Let's Encrypt (or the custom CA) would take it. */
export function acmeEmailProblems(given: string, directoryUrl: string): string[] {
  // The plain address first (mailto: and display names refused), then the address inside is checked too,
  // so one run names every problem.
  const trimmed = given.trim();
  if (/^mailto:/i.test(trimmed)) {
    const inner = trimmed.replace(/^mailto:/i, "");
    return [
      `is a mailto: URI; write the plain address, ${inner} (the ACME client adds mailto: itself)`,
      ...acmeEmailProblems(inner, directoryUrl).map((p) => `the address in it ${p}`),
    ];
  }
  const angle = /<([^<>]+)>/.exec(trimmed);
  if (angle)
    return [
      `has a display name; write the plain address, ${angle[1].trim()}`,
      ...acmeEmailProblems(angle[1].trim(), directoryUrl).map((p) => `the address in it ${p}`),
    ];
  const address = given;
  if (trimmed !== address || /\s/.test(address)) return [`contains spaces; write the plain address, e.g. ops@your-company.com`];
  const at = address.lastIndexOf("@");
  if (at < 1 || address.indexOf("@") !== at)
    return [`must be one e-mail address such as ops@your-company.com (one @, a name before it, a domain after it)`];
  const local = address.slice(0, at);
  const domain = address.slice(at + 1).toLowerCase();
  if (local.length > 64 || !localPart.test(local))
    return [
      `has a local part (${JSON.stringify(local)}) an ACME server cannot parse; use letters, digits and . _ + - (no leading, trailing or double dots)`,
    ];
  if (domain.startsWith("[") || /^\d+(\.\d+){3}$/.test(domain) || domain.includes(":"))
    return [`has an IP address as its domain; use a mailbox at a domain name, e.g. ops@your-company.com`];
  const labels = domain.split(".");
  if (
    domain.length > 253 ||
    labels.length < 2 ||
    labels.length > 10 ||
    !labels.every((l) => ldhLabel.test(l)) ||
    labels.some((l) => l.length >= 4 && l.slice(2, 4) === "--" && !l.startsWith("xn"))
  ) {
    return [
      `has a domain (${JSON.stringify(domain)}) that is not a valid host name; use a mailbox at a registered domain, e.g. ops@your-company.com`,
    ];
  }
  const letsEncrypt = LETS_ENCRYPT_HOSTS.some((h) => directoryUrl.startsWith(`https://${h}/`));
  if (!letsEncrypt) return [];
  const tld = labels[labels.length - 1];
  if (FORBIDDEN_MAIL_DOMAINS.includes(domain))
    return [
      `is at ${domain}, which Let's Encrypt refuses for contacts (a documentation domain); use a mailbox you read, at your own domain`,
    ];
  if (NON_PUBLIC_TLDS.includes(tld) || !/^([a-z]{2,63}|xn--[a-z0-9-]{1,59})$/.test(tld)) {
    return [
      `is at a reserved or non-public domain (.${tld}), which Let's Encrypt refuses: its domain must end in a public top-level domain; use a mailbox you read, at your own domain (a private ACME directory such as the lab's pebble accepts any)`,
    ];
  }
  return [];
}
