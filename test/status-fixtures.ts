/** Probe outputs of a healthy lab cluster, as the nodes print them, for the ops/status and scripts/status tests. */
import { hostsInventory, type Inventory, type InventoryNode } from "../model";
import { keyServices } from "../ops/status/probe";
import { hostsStackSpec } from "./hosts-spec";

export const NOW = new Date("2026-12-01T07:00:00Z");
export const labInv = (): Inventory => hostsInventory(hostsStackSpec("lab"));

const row = (key: string, value: string) => `${key}\t${value}\n`;

/** What a node's probe prints; `over` replaces or drops (undefined) keys. */
export function probeOutput(node: InventoryNode, inv: Inventory, over: Record<string, string[] | undefined> = {}): string {
  const facts: Record<string, string[]> = {
    system: ["running"],
    unit: keyServices(node.role).map((u) => `${u} active`),
    disk: ["/ 10737418240 2147483648"],
  };
  if (node.role === "parent" || node.role === "standby") {
    facts.disk.push("/var/lib/postgresql 1073741824 107374182", "/srv/share 2147483648 21474836");
    const primary = node.name === inv.primary;
    facts.pg_recovery = [primary ? "f" : "t"];
    if (primary) {
      facts.replica = ["standby\tstreaming\tsync\t0\t0.000512"];
      facts.lsyncd_age = ["3"];
      facts.lsyncd_delays = ["0"];
    } else facts.standby_lag = ["0\t2"];
  }
  if (node.role === "child") {
    facts.cert_path = [`/srv/share/tls/${inv.recordFqdn}/fullchain.pem`];
    facts.cert_end = ["Mar  1 07:00:00 2027 GMT"];
    facts.cert_subject = [`CN=${inv.recordFqdn}`];
    facts.cert_selfsigned = ["2"];
    facts.health = ["200 0.004512 0"];
  }
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) delete facts[k];
    else facts[k] = v;
  }
  return Object.entries(facts)
    .flatMap(([k, vs]) => vs.map((v) => row(k, v)))
    .join("");
}
