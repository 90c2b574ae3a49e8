/** A fixed cluster for the role tests (the lab's shape): fake secrets, never used on a machine. */
import * as path from "node:path";
import { SAMPLE_APP, type Inventory, type InventoryNode, type Role } from "../model";
import type { AcmeContext, RoleContext } from "./types";
import type { HealthContext } from "./health";

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
    primary: "lab-db-1",
    standby: "lab-db-2",
    nodes: [
      n("lab-db-1", "parent", 11, "a"),
      n("lab-db-2", "standby", 12, "b"),
      n("lab-child-1", "child", 21, "a"),
      n("lab-child-2", "child", 22, "b"),
      n("lab-worker", "worker", 31, "a"),
    ],
    ssh: { user: "root", port: 22 },
    dns: { kind: "rfc2136", server: "10.231.0.2", port: 53, zone: "lab.test", keyName: "lab-update", algorithm: "hmac-sha256" },
    acme: { email: "ops@lab.test", directoryUrl: "https://10.231.0.3:14000/dir" },
    syncReplication: "strict",
    ...overrides,
  };
}

/** Data devices of the fixture's database nodes (the lab's kind of by-id path). */
export const FIXTURE_DATA_DEVICES = {
  "lab-db-1": { db: "/dev/disk/by-id/scsi-0LAB_Volume_lab-db-1-db", share: "/dev/disk/by-id/scsi-0LAB_Volume_lab-db-1-share" },
  "lab-db-2": { db: "/dev/disk/by-id/scsi-0LAB_Volume_lab-db-2-db", share: "/dev/disk/by-id/scsi-0LAB_Volume_lab-db-2-share" },
} as const;

/** The fixture inventory with data volumes on the parent and the standby. */
export function fixtureInventoryWithVolumes(overrides: Partial<Inventory> = {}): Inventory {
  const inv = fixtureInventory(overrides);
  const devices: Record<string, { db: string; share: string }> = FIXTURE_DATA_DEVICES;
  return { ...inv, nodes: inv.nodes.map((n) => (devices[n.name] ? { ...n, dataDevices: { ...devices[n.name] } } : n)) };
}

/** The lab's certificate settings with a stand-in agent program (the real one comes from ops/acme/bundle.ts). */
export function fixtureAcme(overrides: Partial<AcmeContext> = {}): AcmeContext {
  return {
    certificate: {
      challenge: "http-01",
      names: ["www.lab.test"],
      checkEverySeconds: 5,
      backoff: { baseSeconds: 5, capSeconds: 60 },
      dnsKeyName: "lab-acme",
    },
    agentSource: "// fixture stand-in for the bundled agent (ops/acme/bundle.ts)\n'use strict';\n",
    ...overrides,
  };
}

/** The lab's health agent settings with a stand-in program (the real one comes from ops/health/bundle.ts). */
export function fixtureHealth(overrides: Partial<HealthContext> = {}): HealthContext {
  return {
    spec: {
      enabled: true,
      intervalSeconds: 1,
      probeTimeoutSeconds: 1,
      failuresToRemove: 3,
      successesToRestore: 2,
      dnsKeyName: "lab-health",
    },
    agentSource: "// fixture stand-in for the bundled health agent (ops/health/bundle.ts)\n'use strict';\n",
    dnsSecret: "Zml4dHVyZS1oZWFsdGgta2V5",
    ...overrides,
  };
}

export function fixtureContext(overrides: Partial<RoleContext> = {}): RoleContext {
  return {
    inventory: fixtureInventory(),
    secrets: {
      dbPassword: "fixture-db-pass",
      replicationPassword: "fixture-repl-pass",
      redisPassword: "fixtureredispass",
      djangoSecretKey: "fixture secret key $with (odd) chars!",
      tlsPassphrase: "fixtureTlsPassphrase",
    },
    shareMount: "nfs",
    appDir: path.resolve(__dirname, "..", "app"),
    adminCidrs: ["10.231.0.1/32", "2001:db8::/64"],
    acme: fixtureAcme(),
    app: SAMPLE_APP,
    appSecrets: {},
    health: fixtureHealth(),
    ...overrides,
  };
}
