/**
 * The lab's infrastructure machines, configured in their root directories before they boot: lab-dns (bind9,
 * authoritative for the lab zone, RFC 2136 with two TSIG keys) and lab-acme (pebble, the ACME CA).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { Inventory } from "../model";
import { ACME_LABEL, DNS_NODE, LAB_NET, type LabPaths } from "./config";
import { run } from "../ops/process";
import type { TsigKey } from "./keys";
import type { NodeState } from "./node";
import { PEBBLE_NODE_FILES, PEBBLE_UNIT, renderPebbleConfig, renderPebbleUnit } from "./pebble";
import {
  acmeChallengeNames,
  renderAcmeNodeFirewall,
  renderDnsNodeFirewall,
  renderNamedLocal,
  renderNamedOptions,
  renderTsigKey,
  renderZone,
  type LabMachine,
} from "./render";

type Owner = { uid: number; gid: number };

function ownerIds(root: string, user: string): Owner {
  const line = fs
    .readFileSync(path.join(root, "etc/passwd"), "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${user}:`));
  if (!line) throw new Error(`user ${user} missing in the image (${root}/etc/passwd)`);
  const f = line.split(":");
  return { uid: Number(f[2]), gid: Number(f[3]) };
}

/** Write a file into a node's root with its mode (and owner), whatever the umask. */
function putter(root: string) {
  return (file: string, content: string, mode: number, owner?: Owner) => {
    const p = path.join(root, file);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content, { mode });
    fs.chmodSync(p, mode);
    if (owner) fs.chownSync(p, owner.uid, owner.gid);
  };
}

/**
 * The names whose `_acme-challenge` TXT records the ACME key may write: the zone's apex, the record, every lab
 * machine, the CA's own name, and any further names given (a stack's certificate names). Pure.
 */
export function labChallengeNames(
  inv: Pick<Inventory, "domain" | "recordFqdn">,
  machines: readonly LabMachine[],
  extra: readonly string[] = [],
): string[] {
  const zone = inv.domain;
  return acmeChallengeNames(zone, [zone, inv.recordFqdn, `${ACME_LABEL}.${zone}`, ...machines.map((m) => `${m.name}.${zone}`), ...extra]);
}

/**
 * lab-dns: the zone (with acme.<zone>), both TSIG keys and the update policy (the ACME key: the lab's names and the
 * stack's certificate names), and a firewall that answers DNS only.
 */
export async function configureDnsNode(
  node: NodeState,
  machines: LabMachine[],
  inv: Inventory,
  keys: { update: TsigKey; acme: TsigKey; health: TsigKey },
  certificateNames: readonly string[] = [],
): Promise<void> {
  const bind = ownerIds(node.root, "bind");
  const put = putter(node.root);
  const keyFile = (k: TsigKey) => `/etc/bind/${k.name}.key`;
  const zoneFile = `/var/lib/bind/db.${inv.domain}`;
  put("etc/bind/named.conf.options", renderNamedOptions(), 0o644);
  put(
    "etc/bind/named.conf.local",
    renderNamedLocal({
      zone: inv.domain,
      zoneFile,
      keyFiles: [keyFile(keys.update), keyFile(keys.acme), keyFile(keys.health)],
      updateKey: keys.update.name,
      acme: { key: keys.acme.name, challengeNames: labChallengeNames(inv, machines, certificateNames) },
      health: { key: keys.health.name, recordNames: [inv.recordFqdn] },
    }),
    0o644,
  );
  for (const k of [keys.update, keys.acme, keys.health])
    put(keyFile(k).slice(1), renderTsigKey(k.name, k.secret, k.algorithm), 0o640, { uid: 0, gid: bind.gid });
  const serial = Math.floor(Date.now() / 1000);
  const aliases = [{ label: ACME_LABEL, address: LAB_NET.pebbleAddress }];
  put(zoneFile.slice(1), renderZone({ zone: inv.domain, nameServer: DNS_NODE, machines, ttl: inv.ttl, serial, aliases }), 0o644, bind);
  // Answer DNS only (SSH from the lab host): the node loads its firewall at boot, before named and sshd listen.
  put("etc/nftables.conf", renderDnsNodeFirewall(), 0o755);
  await run({ cmd: "systemctl", args: [`--root=${node.root}`, "enable", "--no-reload", "nftables.service"] });
}

/** lab-acme: pebble's config, listener certificate (signed by the lab CA), unit, and its firewall. */
export async function configureAcmeNode(
  node: NodeState,
  paths: Pick<LabPaths, "pebbleCert" | "pebbleKey">,
  validitySeconds: number,
): Promise<void> {
  const put = putter(node.root);
  put(PEBBLE_NODE_FILES.config.slice(1), renderPebbleConfig(validitySeconds), 0o644);
  put(PEBBLE_NODE_FILES.cert.slice(1), fs.readFileSync(paths.pebbleCert, "utf8"), 0o644);
  put(PEBBLE_NODE_FILES.key.slice(1), fs.readFileSync(paths.pebbleKey, "utf8"), 0o600);
  put(PEBBLE_NODE_FILES.unit.slice(1), renderPebbleUnit(), 0o644);
  put("etc/nftables.conf", renderAcmeNodeFirewall(), 0o755);
  await run({ cmd: "systemctl", args: [`--root=${node.root}`, "enable", "--no-reload", "nftables.service", PEBBLE_UNIT] });
}
