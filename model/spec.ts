/**
 * The validated cluster model's types: `ClusterSpec`, a union by provider, and what its branches hold. Produced by
 * parse.ts (parseClusterSpec) from a stack's config; everything downstream reads these, never raw config.
 */
import type { AppSpec } from "./app";
import type { HealthSpec } from "./health";
import type { DataDevices } from "./volumes";
import type { AcmeChallenge, Sizes, SyncPolicy } from "./schema";

export interface NodeHost {
  address: string;
  privateAddress: string;
  zone: string;
  name: string;
  /** database machines: the data volumes' stable device paths; absent = data on the root disk. */
  dataDevices?: DataDevices;
}

/** hosts target: the existing machines (`databases`: db-1, db-2 in config order). */
export interface HostsMachinesSpec {
  databases: [NodeHost, NodeHost];
  children: NodeHost[];
  worker: NodeHost;
}

/** hosts target: the RFC 2136 server that holds the record's zone. */
export interface Rfc2136Spec {
  server: string;
  port: number;
  zone: string;
  tsigKeyName: string;
  tsigAlgorithm: "hmac-sha256" | "hmac-sha512";
}

/** What every target's spec holds. */
export interface ClusterSpecBase {
  clusterName: string;
  /** The Pulumi stack. Provider-side names carry it (model/names.ts), so two stacks of one cluster never share them. */
  stack: string;
  region: string;
  /** Failure domains in use, in order: db-1 in zones[0], db-2 in zones[1] when there are several. */
  zones: string[];
  domain: string;
  /** Record label relative to `domain` ("@" for the apex). */
  recordName: string;
  /** Fully qualified record name, e.g. www.example.com. */
  recordFqdn: string;
  ttl: number;
  childCount: number;
  sizes: Sizes;
  volumes: { dbGb: number; shareGb: number };
  adminCidrs: string[];
  allowSshFromAnywhere: boolean;
  sshPublicKeys: string[];
  ssh: { user: string; port: number };
  acme: { email: string; directoryUrl: string };
  /** The certificate the renewal agent keeps (django-ha:certificate), validated and defaulted. */
  certificate: CertificateSpec;
  /** The health agent on the database machines (django-ha:health), validated and defaulted. */
  health: HealthSpec;
  syncReplication: SyncPolicy;
  tags: Record<string, string>;
  /**
   * The database machine that is the PostgreSQL primary / NFS server / Redis master now (django-ha:primary;
   * defaults to the first). The other one is the synchronous standby.
   */
  primary: string;
  /** The Django project the cluster runs (django-ha:app), validated and defaulted (the sample app by default). */
  app: AppSpec;
}

/** DigitalOcean: droplets, volumes, cloud firewalls and records the stack creates. */
export interface DigitalOceanSpec extends ClusterSpecBase {
  provider: "digitalocean";
}

/** AWS: EC2 instances, EBS, security groups and a Route 53 multivalue record the stack creates. */
export interface AwsSpec extends ClusterSpecBase {
  provider: "aws";
  /** The Route 53 hosted zone holding the record. Defaults to the public zone named `domain`. */
  hostedZoneId?: string;
}

/** Machines that exist already; the record is kept by RFC 2136 updates. */
export interface HostsSpec extends ClusterSpecBase {
  provider: "hosts";
  hosts: HostsMachinesSpec;
  dns: Rfc2136Spec;
}

/**
 * The validated, defaulted description of one cluster: a union by provider, so provider-only fields exist only
 * on their branch and a `switch (spec.provider)` with a `never` default lists every place a new target touches.
 * Everything downstream reads this, never raw config.
 */
export type ClusterSpec = DigitalOceanSpec | AwsSpec | HostsSpec;

/** The `never` default of a switch over the provider (a spec or a provider name): the compiler flags every switch a new provider misses. */
export function unknownProvider(value: never): never {
  const provider = typeof value === "object" && value !== null ? (value as { provider?: unknown }).provider : value;
  throw new Error(`unknown provider ${String(provider)}`);
}

/** The certificate the cluster's renewal agent orders and renews (ops/acme; docs/certificates.md). */
export interface CertificateSpec {
  challenge: AcmeChallenge;
  /** Every name on the certificate: the record's FQDN first, then the extra names, each once. */
  names: string[];
  /** ACME profile to ask for (Let's Encrypt: classic, tlsserver, shortlived). Defaults to the CA's default. */
  profile?: string;
  checkEverySeconds: number;
  backoff: { baseSeconds: number; capSeconds: number };
  /** hosts + dns-01: the narrower TSIG key for `_acme-challenge` TXT records. Defaults to the record's key. */
  dnsKeyName?: string;
}

/** Name of the n-th (1-based) database machine when the config names none: `<cluster>-db-<n>`. Neutral: either may be the primary. */
export function databaseMachineName(clusterName: string, n: number): string {
  return `${clusterName}-db-${n}`;
}

/** `primary.<cluster>.internal`: the one private name every node uses for the current primary. */
export function primaryHostname(spec: Pick<ClusterSpec, "clusterName">): string {
  return `primary.${spec.clusterName}.internal`;
}
