import { UserError, type Inventory } from "../spec";
import { BASE_PACKAGES, DNS_NODE, INFRA_PACKAGES, LAB_NET, NETNS_PREFIX } from "./config";
import type { Bind } from "./node";
import type { LabMachine } from "./render";
import { packagesFor } from "../roles/packages";

const RESERVED: Record<string, string> = {
  [LAB_NET.hostAddress]: "the host's end of the lab bridge",
  [LAB_NET.dnsAddress]: "the lab DNS node",
  [LAB_NET.pebbleAddress]: "the future ACME (pebble) node",
  [LAB_NET.outsideAddress]: "the lab's outside namespace",
};

/**
 * The machines the lab boots: the DNS node, then the stack's nodes. Checks every address is a free host of the
 * lab network before anything is made. Pure.
 */
export function labMachines(inv: Pick<Inventory, "nodes">): LabMachine[] {
  const problems: string[] = [];
  const seen = new Map<string, string>();
  const base = LAB_NET.hostAddress.split(".").slice(0, 3).join(".");
  for (const n of inv.nodes) {
    const key = `django-ha:hosts (node ${n.name}).address`;
    const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(n.publicAddress);
    const last = m ? Number(m[4]) : NaN;
    if (!m || `${m[1]}.${m[2]}.${m[3]}` !== base || !(last >= 1 && last <= 254)) {
      problems.push(`${key} = ${JSON.stringify(n.publicAddress)}: the lab runs nodes on ${LAB_NET.cidr} only; give an address such as ${base}.40`);
    } else if (RESERVED[n.publicAddress]) {
      problems.push(`${key} = ${JSON.stringify(n.publicAddress)}: reserved for ${RESERVED[n.publicAddress]}; pick another address in ${LAB_NET.cidr}`);
    } else if (seen.has(n.publicAddress)) {
      problems.push(`${key} = ${JSON.stringify(n.publicAddress)}: already used by ${seen.get(n.publicAddress)}; give each node its own address`);
    }
    if (n.name === DNS_NODE || !/^[a-z0-9][a-z0-9-]{0,40}$/.test(n.name) || n.name === "outside") {
      problems.push(`django-ha:hosts (node ${n.name}).name = ${JSON.stringify(n.name)}: lab node names are lowercase letters, digits and "-" (not "${DNS_NODE}" or "outside")`);
    }
    seen.set(n.publicAddress, n.name);
  }
  if (problems.length) throw new UserError(`The lab cannot boot this stack:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  return [{ name: DNS_NODE, address: LAB_NET.dnsAddress, kind: "dns" }, ...inv.nodes.map((n): LabMachine => ({ name: n.name, address: n.publicAddress, kind: n.role }))];
}

/** Host directories bound into a node and extra system calls it needs. Pure. */
export function nodeMounts(kind: LabMachine["kind"], shareDir: string): { binds: Bind[]; syscalls: string[] } {
  const primary = { host: `${shareDir}/primary`, guest: "/srv/share" };
  switch (kind) {
    case "parent":
      return { binds: [primary], syscalls: ["open_by_handle_at"] };
    case "standby":
      return { binds: [{ host: `${shareDir}/replica`, guest: "/srv/share" }], syscalls: ["open_by_handle_at"] };
    case "child":
    case "worker":
      // No kernel NFS client in the lab: the host dir stands in for the NFS mount of the parent's export.
      return { binds: [primary], syscalls: [] };
    case "dns":
      return { binds: [], syscalls: [] };
    default: {
      const never: never = kind;
      throw new Error(`unknown machine kind ${String(never)}`);
    }
  }
}

/** Packages a real machine of this kind would carry: decides which baked services stay enabled. Pure. */
export function wantedPackages(kind: LabMachine["kind"]): string[] {
  return kind === "dns" ? [...BASE_PACKAGES, ...INFRA_PACKAGES] : packagesFor(kind);
}

export const OUTSIDE = { name: "outside", netns: `${NETNS_PREFIX}outside`, address: LAB_NET.outsideAddress } as const;
