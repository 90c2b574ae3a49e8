import * as path from "node:path";
import { DEBIAN_SUITE } from "../model/debian";

/** Repository root (lab/ sits directly under it). */
export const REPO_ROOT = path.resolve(__dirname, "..");

/** Bump when the bake steps change in a way the package lists don't show: forces a new image. */
export const IMAGE_FORMAT_VERSION = 2;
/** The suite the image is baked from: the nodes' Debian release (model/debian.ts). */
export { DEBIAN_SUITE };

/** What every lab node needs to boot as a machine and be reached over SSH. */
export const BASE_PACKAGES = ["systemd", "systemd-sysv", "dbus", "openssh-server", "iproute2", "python3", "sudo", "ca-certificates"];

/**
 * Lab infrastructure besides the cluster: the authoritative DNS server, the ACME test CA (pebble: Debian 13's
 * 2.6.0 offers renewal information, no profiles) and the tools tests run inside nodes.
 * cloud-init is the nodes' release's own (what a Debian cloud image boots with), for the user-data tests
 * (components/plan); the bake disables it on every lab node (/etc/cloud/cloud-init.disabled).
 */
export const INFRA_PACKAGES = ["bind9", "bind9-dnsutils", "cloud-init", "pebble"];

/**
 * Debian packages the projects the lab deploys ask for in django-ha:app.debianPackages (the sample app asks for
 * none; test/projects/ list theirs, and a unit test holds them to this list): baked in, because lab nodes reach no
 * Debian mirror.
 */
export const LAB_APP_PACKAGES = ["python3-markdown"];

/** The lab network. Only these addresses ever see lab traffic. */
export const LAB_NET = {
  bridge: "labbr0",
  cidr: "10.231.0.0/24",
  prefix: 24,
  hostAddress: "10.231.0.1",
  dnsAddress: "10.231.0.2",
  /** The lab's ACME CA (pebble, node lab-acme, also acme.<zone>). */
  pebbleAddress: "10.231.0.3",
  outsideAddress: "10.231.0.250",
  /** The lab's local Python package index (lab/pyindex.ts), served by the host on its bridge address. */
  pythonIndexPort: 3141,
} as const;

/** Prefixes every lab-made object carries, so cleanup finds leftovers without the state file. */
export const NETNS_PREFIX = "lab-";
export const VETH_PREFIX = "vh-";
export const NFT_TABLE = "django_ha_lab";
export const DNS_NODE = "lab-dns";
export const OUTSIDE_NETNS = "lab-outside";
export const TSIG_KEY_NAME = "lab-update";
export const TSIG_ALGORITHM = "hmac-sha256";
/** The lab's ACME CA machine (pebble). */
export const ACME_NODE = "lab-acme";
/** Its name in the lab zone (the listener certificate's name): acme.<zone>. */
export const ACME_LABEL = "acme";
/** The second TSIG key: allowed to change only TXT records at _acme-challenge.<name> (DNS-01). */
export const ACME_TSIG_KEY_NAME = "lab-acme";
/** The health agent's TSIG key: the lab DNS lets it change only A records at the record's name. */
export const HEALTH_TSIG_KEY_NAME = "lab-health";
/** Pebble's ACME port (directory at /dir) and management port (/roots/0: the issuing root). */
export const PEBBLE_PORTS = { acme: 14000, management: 15000 } as const;
/** Pebble's certificate lifetime unless `labUp({ acmeValiditySeconds })` says otherwise: 90 days. */
export const DEFAULT_ACME_VALIDITY_SECONDS = 7_776_000;

/** Where the lab keeps its state: under the repository's .lab/ (gitignored). Override with LAB_DIR. */
export function labDir(): string {
  return process.env.LAB_DIR ? path.resolve(process.env.LAB_DIR) : path.join(REPO_ROOT, ".lab");
}

export interface LabPaths {
  root: string;
  images: string;
  nodes: string;
  share: string;
  state: string;
  lock: string;
  inventory: string;
  sshKey: string;
  knownHosts: string;
  tsigKey: string;
  /** The TSIG secret in nsupdate's key-file format (for `nsupdate -k`). */
  tsigKeyFile: string;
  /** The lab-acme TSIG key (TXT at _acme-challenge.<name> only) in nsupdate's key-file format, mode 0600. */
  acmeTsigKey: string;
  /** The lab-health TSIG key (A records at the record name only), nsupdate key-file format, mode 0600. */
  healthTsigKey: string;
  /** The lab's own CA (kept across `down`, like the SSH key): signs pebble's listener certificate. */
  labCa: string;
  labCaKey: string;
  /** Pebble's listener certificate and key (acme.<zone>, 10.231.0.3), signed by the lab CA. */
  pebbleCert: string;
  pebbleKey: string;
  /** Pebble's issuing root, fetched from its management port at every `up` (pebble makes a new one per start). */
  pebbleRoots: string;
}

/** Every file other code may need from a running lab. */
export function labPaths(root = labDir()): LabPaths {
  return {
    root,
    images: path.join(root, "images"),
    nodes: path.join(root, "nodes"),
    share: path.join(root, "share"),
    state: path.join(root, "state.json"),
    lock: path.join(root, "lock"),
    inventory: path.join(root, "inventory.json"),
    sshKey: path.join(root, "ssh", "id_ed25519"),
    knownHosts: path.join(root, "ssh", "known_hosts"),
    tsigKey: path.join(root, "dns", "tsig.json"),
    tsigKeyFile: path.join(root, "dns", "lab-update.key"),
    acmeTsigKey: path.join(root, "acme-tsig.key"),
    healthTsigKey: path.join(root, "health-tsig.key"),
    labCa: path.join(root, "pebble", "lab-ca.pem"),
    labCaKey: path.join(root, "pebble", "lab-ca.key"),
    pebbleCert: path.join(root, "pebble", "listener.pem"),
    pebbleKey: path.join(root, "pebble", "listener.key"),
    pebbleRoots: path.join(root, "pebble", "roots.pem"),
  };
}
