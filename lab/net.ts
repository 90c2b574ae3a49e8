import { createHash } from "node:crypto";
import { LAB_NET, NETNS_PREFIX, NFT_TABLE, VETH_PREFIX } from "./config";
import type { Command } from "../ops/process";

const ip = (...args: string[]): Command => ({ cmd: "ip", args });

/** Network namespace of a lab machine. */
export function netnsName(machine: string): string {
  return `${NETNS_PREFIX}${machine}`;
}

/** Host end of a machine's veth: `vh-<name>`, or a stable hash when that exceeds Linux's 15 characters. Pure. */
export function vethName(machine: string): string {
  const plain = `${VETH_PREFIX}${machine}`;
  if (plain.length <= 15) return plain;
  return `${VETH_PREFIX}${createHash("sha256").update(machine).digest("hex").slice(0, 12)}`;
}

/** The lab bridge with the host's address on it. */
export function bridgeCommands(): Command[] {
  return [
    ip("link", "add", LAB_NET.bridge, "type", "bridge"),
    ip("addr", "add", `${LAB_NET.hostAddress}/${LAB_NET.prefix}`, "dev", LAB_NET.bridge),
    ip("link", "set", LAB_NET.bridge, "up"),
  ];
}

/**
 * A namespace with one veth into the bridge and a static address. No default route: a node reaches the lab
 * network and nothing else.
 */
export function namespaceCommands(machine: string, address: string): Command[] {
  const ns = netnsName(machine);
  const veth = vethName(machine);
  return [
    ip("netns", "add", ns),
    ip("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns),
    ip("link", "set", veth, "master", LAB_NET.bridge, "up"),
    ip("-n", ns, "link", "set", "lo", "up"),
    ip("-n", ns, "addr", "add", `${address}/${LAB_NET.prefix}`, "dev", "eth0"),
    ip("-n", ns, "link", "set", "eth0", "up"),
  ];
}

/**
 * nftables table of the lab: nothing from the lab bridge is forwarded anywhere else by the host, even when
 * the host forwards for others. Input is nft's own syntax, fed on stdin (`nft -f -`).
 */
export function nftRuleset(): string {
  return [
    `table inet ${NFT_TABLE} {`,
    "\tchain forward {",
    "\t\ttype filter hook forward priority -10; policy accept;",
    `\t\tiifname "${LAB_NET.bridge}" oifname != "${LAB_NET.bridge}" drop`,
    `\t\toifname "${LAB_NET.bridge}" iifname != "${LAB_NET.bridge}" drop`,
    "\t}",
    "}",
    "",
  ].join("\n");
}

export const nftDeleteTable = (): Command => ({ cmd: "nft", args: ["delete", "table", "inet", NFT_TABLE] });

/** Lab namespaces in `ip netns list` output. Pure. */
export function parseLabNetns(output: string): string[] {
  return output
    .split("\n")
    .map((l) => l.trim().split(/\s+/)[0])
    .filter((n): n is string => !!n && n.startsWith(NETNS_PREFIX));
}

/** Lab links (bridge and host veth ends) in `ip -o link show` output. Pure. */
export function parseLabLinks(output: string): string[] {
  const names = output
    .split("\n")
    .map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1])
    .filter((n): n is string => !!n);
  return names.filter((n) => n === LAB_NET.bridge || n.startsWith(VETH_PREFIX));
}
