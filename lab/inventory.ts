/** The lab as a stack: its inventory (the stack file, or a failover's record) and its DNS operations. */
import * as fs from "node:fs";
import { Rfc2136Dns } from "../ops/dns/rfc2136";
import { dnsFor } from "../ops/targets/dns";
import { hostsInventory, loadStackSpec, UserError, type Inventory } from "../model";
import { labPaths } from "./config";
import { readTsigKey } from "./keys";
import { withLabRecord } from "./record";

/** The lab's inventory of a stack (the same shape a cloud stack outputs). */
export function labInventory(stack = "lab"): Inventory {
  const spec = loadStackSpec(stack);
  if (spec.provider !== "hosts")
    throw new UserError(`Stack "${stack}" has django-ha:provider = "${spec.provider}": the lab boots a "hosts" stack; use --stack lab.`);
  // A failover's record (lab/record.ts) wins over the stack file: the volumes hold the databases as they are now.
  return withLabRecord(hostsInventory(spec), stack);
}

/** The lab's DnsOperations: its inventory's RFC 2136 target (dnsFor), signed with the lab's TSIG key file. */
export function labDns(): Rfc2136Dns {
  const paths = labPaths();
  const key = readTsigKey(paths);
  const inv = fs.existsSync(paths.inventory) ? (JSON.parse(fs.readFileSync(paths.inventory, "utf8")) as Inventory) : labInventory();
  if (inv.dns.kind !== "rfc2136") throw new Error(`lab inventory has DNS kind ${inv.dns.kind}, expected rfc2136`);
  // The key file is what the lab DNS server was configured with: its name and algorithm win.
  const dns = dnsFor(
    { ...inv, dns: { ...inv.dns, keyName: key.name, algorithm: key.algorithm } },
    { tsigSecret: key.secret, stack: "lab" },
  );
  if (!(dns instanceof Rfc2136Dns)) throw new Error(`lab DNS is ${dns.describe}, expected rfc2136`);
  return dns;
}
