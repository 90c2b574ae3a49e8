/**
 * The lab's ACME CA: pebble (Let's Encrypt's test CA, Debian's package) on its own node, lab-acme. The lab makes
 * its own CA (openssl, kept in .lab/pebble/) that signs pebble's listener certificate for acme.<zone> and
 * 10.231.0.3; after pebble starts, its issuing root (made anew at every start) is fetched from the management port,
 * verified against the lab CA, into .lab/pebble/roots.pem, and both go into every node's system trust store.
 */
import * as fs from "node:fs";
import * as https from "node:https";
import * as os from "node:os";
import * as path from "node:path";
import { ACME_LABEL, LAB_NET, PEBBLE_PORTS, type LabPaths } from "./config";
import { run, type Command } from "../ops/process";
import { setTimeout as sleep } from "node:timers/promises";

/** Where pebble's files sit on lab-acme. */
export const PEBBLE_NODE_FILES = {
  config: "/etc/pebble/django-ha-lab.json",
  cert: "/etc/pebble/django-ha-lab-listener.pem",
  key: "/etc/pebble/django-ha-lab-listener.key",
  unit: "/etc/systemd/system/django-ha-lab-pebble.service",
} as const;
export const PEBBLE_UNIT = "django-ha-lab-pebble.service";

/** The trust-store files every lab node carries (update-ca-certificates reads *.crt there). */
export const TRUST_FILES = {
  labCa: "/usr/local/share/ca-certificates/django-ha-lab-ca.crt",
  pebbleRoot: "/usr/local/share/ca-certificates/django-ha-lab-pebble-root.crt",
} as const;

/** The directory URL clients use (what stacks/Pulumi.lab.yaml names). Pure. */
export function pebbleDirectoryUrl(address: string = LAB_NET.pebbleAddress): string {
  return `https://${address}:${PEBBLE_PORTS.acme}/dir`;
}

/** pebble's JSON config: ACME on 14000, management on 15000, validation on 80/443, certificates valid `validitySeconds`. Pure. */
export function renderPebbleConfig(validitySeconds: number): string {
  if (!Number.isInteger(validitySeconds) || validitySeconds < 1)
    throw new Error(
      `acmeValiditySeconds = ${validitySeconds}: must be a whole number of seconds ≥ 1 (e.g. 120 for renewal tests, 7776000 = 90 days)`,
    );
  const config = {
    pebble: {
      listenAddress: `0.0.0.0:${PEBBLE_PORTS.acme}`,
      managementListenAddress: `0.0.0.0:${PEBBLE_PORTS.management}`,
      certificate: PEBBLE_NODE_FILES.cert,
      privateKey: PEBBLE_NODE_FILES.key,
      httpPort: 80,
      tlsPort: 443,
      ocspResponderURL: "",
      externalAccountBindingRequired: false,
      certificateValidityPeriod: validitySeconds,
      retryAfter: { authz: 3, order: 5 },
    },
  };
  return JSON.stringify(config, null, 2) + "\n";
}

/**
 * pebble's unit: names resolved by the lab DNS (`-dnsserver`), no random validation sleeps, no authorization
 * reuse (every order is validated again, as Let's Encrypt will with 7-hour reuse). No restart on failure: a new
 * pebble has a new root, which the nodes would not trust — a failure must show, not heal into that. Pure.
 */
export function renderPebbleUnit(dnsServer: string = LAB_NET.dnsAddress): string {
  return [
    "# written by django-ha lab: the lab's ACME CA",
    "[Unit]",
    "Description=pebble ACME test CA (django-ha lab)",
    "After=network.target nftables.service",
    "",
    "[Service]",
    "Environment=PEBBLE_VA_NOSLEEP=1",
    "Environment=PEBBLE_AUTHZREUSE=0",
    `ExecStart=/usr/bin/pebble -config ${PEBBLE_NODE_FILES.config} -dnsserver ${dnsServer}:53`,
    "Restart=no",
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ].join("\n");
}

/** openssl config of the lab CA (self-signed, may sign server certificates only). Pure. */
export function labCaOpensslConfig(): string {
  return [
    "[req]",
    "distinguished_name = dn",
    "prompt = no",
    "x509_extensions = ca",
    "[dn]",
    "CN = django-ha lab CA",
    "[ca]",
    "basicConstraints = critical, CA:true, pathlen:0",
    "keyUsage = critical, keyCertSign, cRLSign",
    "subjectKeyIdentifier = hash",
    "",
  ].join("\n");
}

/** openssl extensions of pebble's listener certificate: acme.<zone> and the CA's address. Pure. */
export function listenerExtensions(zone: string, address: string = LAB_NET.pebbleAddress): string {
  return [
    "[leaf]",
    "basicConstraints = critical, CA:false",
    "keyUsage = critical, digitalSignature",
    "extendedKeyUsage = serverAuth",
    `subjectAltName = DNS:${ACME_LABEL}.${zone}, IP:${address}`,
    "authorityKeyIdentifier = keyid",
    "subjectKeyIdentifier = hash",
    "",
  ].join("\n");
}

/** The openssl commands that make the lab CA and the listener certificate (argument arrays). Pure. */
export function opensslCommands(
  p: Pick<LabPaths, "labCa" | "labCaKey" | "pebbleCert" | "pebbleKey">,
  files: { caConfig: string; leafExt: string; csr: string },
  zone: string,
) {
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  return {
    ca: {
      cmd: "openssl",
      args: ["req", "-x509", ...ec, "-keyout", p.labCaKey, "-out", p.labCa, "-days", "3650", "-config", files.caConfig],
    } satisfies Command,
    csr: {
      cmd: "openssl",
      args: ["req", "-new", ...ec, "-keyout", p.pebbleKey, "-out", files.csr, "-subj", `/CN=${ACME_LABEL}.${zone}`],
    } satisfies Command,
    sign: {
      cmd: "openssl",
      args: [
        "x509",
        "-req",
        "-in",
        files.csr,
        "-CA",
        p.labCa,
        "-CAkey",
        p.labCaKey,
        "-set_serial",
        `0x${Date.now().toString(16)}`,
        "-days",
        "825",
        "-extfile",
        files.leafExt,
        "-extensions",
        "leaf",
        "-out",
        p.pebbleCert,
      ],
    } satisfies Command,
  };
}

/**
 * The lab CA (made once, kept across `down` like the SSH key) and a fresh listener certificate for pebble.
 * Keys 0600 in .lab/pebble/.
 */
export async function ensureLabCa(paths: LabPaths, zone: string): Promise<void> {
  const dir = path.dirname(paths.labCa);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "django-ha-lab-ca-"));
  try {
    const files = { caConfig: path.join(tmp, "ca.cnf"), leafExt: path.join(tmp, "leaf.cnf"), csr: path.join(tmp, "listener.csr") };
    fs.writeFileSync(files.caConfig, labCaOpensslConfig());
    fs.writeFileSync(files.leafExt, listenerExtensions(zone));
    const c = opensslCommands(paths, files, zone);
    if (!fs.existsSync(paths.labCa) || !fs.existsSync(paths.labCaKey)) await run(c.ca);
    await run(c.csr);
    await run(c.sign);
    for (const key of [paths.labCaKey, paths.pebbleKey]) fs.chmodSync(key, 0o600);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** GET over HTTPS, the server verified against `ca` only (never unverified). */
export function getVerified(url: string, ca: string, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca, timeout: timeoutMs, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`no answer from ${url} within ${timeoutMs} ms`)));
    req.on("error", reject);
  });
}

/**
 * Wait until pebble answers on its management port (verified against the lab CA), then write its issuing root to
 * .lab/pebble/roots.pem. Returns the PEM.
 */
export async function fetchPebbleRoot(paths: Pick<LabPaths, "labCa" | "pebbleRoots">, timeoutMs = 60_000): Promise<string> {
  const url = `https://${LAB_NET.pebbleAddress}:${PEBBLE_PORTS.management}/roots/0`;
  const ca = fs.readFileSync(paths.labCa, "utf8");
  const until = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < until) {
    try {
      const r = await getVerified(url, ca, 3_000);
      if (r.status === 200 && /-----BEGIN CERTIFICATE-----/.test(r.body)) {
        fs.writeFileSync(paths.pebbleRoots, r.body.trim() + "\n", { mode: 0o644 });
        return r.body;
      }
      last = `HTTP ${r.status}`;
    } catch (e) {
      last = e instanceof Error ? e.message : String(e);
    }
    await sleep(250);
  }
  throw new Error(
    `pebble's root did not come from ${url} within ${timeoutMs / 1000} s (last: ${last}); see \`npm run lab -- ssh lab-acme -- journalctl -u ${PEBBLE_UNIT}\``,
  );
}

/**
 * Put the lab CA and pebble's root into a node's system trust store (its root directory on the host: the overlay,
 * running or not) and run the node's own update-ca-certificates there. Skips the run when nothing changed.
 * Returns whether the store changed.
 */
export async function installTrust(
  nodeRoot: string,
  certs: { labCa: string; pebbleRoot: string },
  update: (root: string) => Promise<unknown> = (root) => run({ cmd: "chroot", args: [root, "update-ca-certificates"] }),
): Promise<boolean> {
  let changed = false;
  for (const [file, pem] of [
    [TRUST_FILES.labCa, certs.labCa],
    [TRUST_FILES.pebbleRoot, certs.pebbleRoot],
  ] as const) {
    const p = path.join(nodeRoot, file);
    if (fs.existsSync(p) && fs.readFileSync(p, "utf8") === pem) continue;
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, pem, { mode: 0o644 });
    changed = true;
  }
  if (changed) await update(nodeRoot);
  return changed;
}
