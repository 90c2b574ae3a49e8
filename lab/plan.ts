import { UserError, type Inventory } from "../model";
import { ACME_NODE, BASE_PACKAGES, DNS_NODE, INFRA_PACKAGES, LAB_NET, NETNS_PREFIX } from "./config";
import type { Bind } from "./node";
import type { AttachedVolume } from "./volumes";
import type { LabMachine } from "./render";
import { packagesFor } from "../roles/packages";

const RESERVED: Record<string, string> = {
  [LAB_NET.hostAddress]: "the host's end of the lab bridge",
  [LAB_NET.dnsAddress]: "the lab DNS node",
  [LAB_NET.pebbleAddress]: "the lab's ACME CA (pebble, lab-acme)",
  [LAB_NET.outsideAddress]: "the lab's outside namespace",
};

/**
 * The machines the lab boots: the DNS node and the ACME CA, then the stack's nodes. Checks every address is a free host of the
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
      problems.push(
        `${key} = ${JSON.stringify(n.publicAddress)}: the lab runs nodes on ${LAB_NET.cidr} only; give an address such as ${base}.40`,
      );
    } else if (RESERVED[n.publicAddress]) {
      problems.push(
        `${key} = ${JSON.stringify(n.publicAddress)}: reserved for ${RESERVED[n.publicAddress]}; pick another address in ${LAB_NET.cidr}`,
      );
    } else if (seen.has(n.publicAddress)) {
      problems.push(
        `${key} = ${JSON.stringify(n.publicAddress)}: already used by ${seen.get(n.publicAddress)}; give each node its own address`,
      );
    }
    if (n.name === DNS_NODE || n.name === ACME_NODE || !/^[a-z0-9][a-z0-9-]{0,40}$/.test(n.name) || n.name === "outside") {
      problems.push(
        `django-ha:hosts (node ${n.name}).name = ${JSON.stringify(n.name)}: lab node names are lowercase letters, digits and "-" (not "${DNS_NODE}", "${ACME_NODE}" or "outside")`,
      );
    }
    seen.set(n.publicAddress, n.name);
  }
  if (problems.length) throw new UserError(`The lab cannot boot this stack:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  return [
    { name: DNS_NODE, address: LAB_NET.dnsAddress, kind: "dns" },
    { name: ACME_NODE, address: LAB_NET.pebbleAddress, kind: "acme" },
    ...inv.nodes.map((n): LabMachine => ({ name: n.name, address: n.publicAddress, kind: n.role })),
  ];
}

/**
 * What a lab machine is now: its role in the inventory (after a failover recorded in django-ha:primary, the
 * database machines' roles differ from those at `up`), else what `up` recorded (the DNS machine). Pure.
 */
export function currentKind(machine: Pick<LabMachine, "name" | "kind">, inventory: Pick<Inventory, "nodes">): LabMachine["kind"] {
  return inventory.nodes.find((n) => n.name === machine.name)?.role ?? machine.kind;
}

/**
 * A node's volumes (database machines) and every database machine's share volume (children, worker: they mount
 * the primary's, and after a failover the other one's, so both are present); absent without dataDevices.
 */
export interface NodeVolumes {
  own: Pick<AttachedVolume, "guest" | "loop">[];
  shares: Pick<AttachedVolume, "guest" | "loop">[];
}

/**
 * Host directories and devices bound into a node and extra system calls it needs. Pure.
 *
 * With data volumes (the stack's dataDevices), the database machines get their own loop devices at the by-id path
 * and at the kernel name; children and the worker get both database machines' share devices at their by-id paths
 * and mount the primary's (shareMount "lab-device"; after a failover the new primary's, which is already there):
 * the same block device as the primary's, so one kernel superblock behind every mount and every node
 * sees the same files at once, as NFS clients would (the lab has no kernel NFS client). Without dataDevices the
 * share is a host directory bound into every node, as before.
 */
export function nodeMounts(kind: LabMachine["kind"], shareDir: string, volumes?: NodeVolumes): { binds: Bind[]; syscalls: string[] } {
  const primary = { host: `${shareDir}/primary`, guest: "/srv/share" };
  const device = (v: Pick<AttachedVolume, "guest" | "loop">): Bind[] => [
    { host: v.loop, guest: v.guest },
    { host: v.loop, guest: v.loop },
  ];
  switch (kind) {
    case "parent":
      return { binds: volumes ? volumes.own.flatMap(device) : [primary], syscalls: ["open_by_handle_at"] };
    case "standby":
      return {
        binds: volumes ? volumes.own.flatMap(device) : [{ host: `${shareDir}/replica`, guest: "/srv/share" }],
        syscalls: ["open_by_handle_at"],
      };
    case "child":
    case "worker":
      // No kernel NFS client in the lab: the primary's share device (or the host dir) stands in for the NFS mount.
      // Every database machine's share device at its by-id path: the roles mount the primary's (shareMount
      // "lab-device", from the inventory), so a failover that repoints the children finds the new primary's.
      if (volumes?.shares.length) return { binds: volumes.shares.map((v) => ({ host: v.loop, guest: v.guest })), syscalls: [] };
      return { binds: [primary], syscalls: [] };
    case "dns":
    case "acme":
      return { binds: [], syscalls: [] };
    default: {
      const never: never = kind;
      throw new Error(`unknown machine kind ${String(never)}`);
    }
  }
}

/** Each machine's volumes from the attached ones (undefined for every machine when the stack has none). Pure. */
export function volumesFor(attached: AttachedVolume[]): (machine: string) => NodeVolumes | undefined {
  if (!attached.length) return () => undefined;
  const shares = attached.filter((v) => v.purpose === "share");
  return (machine) => ({ own: attached.filter((v) => v.node === machine), shares });
}

/** Packages a real machine of this kind would carry: decides which baked services stay enabled. Pure. */
export function wantedPackages(kind: LabMachine["kind"]): string[] {
  if (kind === "dns") return [...BASE_PACKAGES, ...INFRA_PACKAGES];
  // The ACME CA runs pebble only (its unit is the lab's own): named and the rest stay off there.
  if (kind === "acme") return [...BASE_PACKAGES, "pebble"];
  return packagesFor(kind);
}

export const OUTSIDE = { name: "outside", netns: `${NETNS_PREFIX}outside`, address: LAB_NET.outsideAddress } as const;
