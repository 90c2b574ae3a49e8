/** A fixed cluster for the role tests (the lab's shape): fake secrets, never used on a machine. */
import * as path from "node:path";
import type { Inventory, InventoryNode, Role } from "../spec";
import type { RoleContext } from "./types";

function n(name: string, role: Role, last: number, zone: string): InventoryNode {
  return { name, role, publicAddress: `10.231.0.${last}`, privateAddress: `10.231.0.${last}`, zone };
}

export function fixtureInventory(overrides: Partial<Inventory> = {}): Inventory {
  return {
    version: 1,
    provider: "hosts",
    cluster: "lab",
    region: "existing",
    domain: "lab.test",
    recordFqdn: "www.lab.test",
    ttl: 30,
    primaryHostname: "primary.lab.internal",
    primary: "lab-parent",
    standby: "lab-standby",
    nodes: [n("lab-parent", "parent", 11, "a"), n("lab-standby", "standby", 12, "b"), n("lab-child-1", "child", 21, "a"), n("lab-child-2", "child", 22, "b"), n("lab-worker", "worker", 31, "a")],
    ssh: { user: "root", port: 22 },
    dns: { kind: "rfc2136", server: "10.231.0.2", port: 53, zone: "lab.test", keyName: "lab-update", algorithm: "hmac-sha256" },
    acme: { email: "ops@lab.test", directoryUrl: "https://10.231.0.3:14000/dir" },
    syncReplication: "strict",
    ...overrides,
  };
}

export function fixtureContext(overrides: Partial<RoleContext> = {}): RoleContext {
  return {
    inventory: fixtureInventory(),
    secrets: { dbPassword: "fixture-db-pass", replicationPassword: "fixture-repl-pass", redisPassword: "fixtureredispass", djangoSecretKey: "fixture secret key $with (odd) chars!" },
    shareMount: "nfs",
    appDir: path.resolve(__dirname, "..", "app"),
    adminCidrs: ["10.231.0.1/32", "2001:db8::/64"],
    ...overrides,
  };
}
