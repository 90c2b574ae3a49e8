/** Valid stack configs (keys without the `django-ha:` prefix) for tests and benchmarks. Documentation addresses only. */
export const SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDocumentationKeyForTestsOnly tests@example";
export const ADMIN_CIDRS = ["203.0.113.7/32", "2001:db8::/48"];

export type Provider = "digitalocean" | "aws" | "hosts";

const common = (children: number) => ({
  clusterName: "shop",
  domain: "example.com",
  recordName: "www",
  acmeEmail: "ops@your-company.com",
  adminCidrs: ADMIN_CIDRS,
  ...(children ? { childCount: children } : {}),
});

export function digitaloceanConfig(children = 2, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { provider: "digitalocean", region: "nyc3", sshPublicKeys: [SSH_KEY], ...common(children), ...overrides };
}

export function awsConfig(children = 2, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    provider: "aws",
    region: "eu-west-1",
    zones: ["eu-west-1a", "eu-west-1b", "eu-west-1c"],
    sshPublicKeys: [SSH_KEY],
    ...common(children),
    ...overrides,
  };
}

/** An existing-machines cluster with `children` children over zones a and b (198.51.100.x public, 10.0.0.x private). */
export function hostsConfig(children = 2, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const host = (n: number, zone: string, name?: string) => ({
    address: `198.51.100.${n}`,
    privateAddress: `10.0.0.${n}`,
    zone,
    ...(name ? { name } : {}),
  });
  return {
    provider: "hosts",
    ...common(0),
    hosts: {
      databases: [host(11, "a"), host(12, "b")],
      children: Array.from({ length: children }, (_, i) => host(21 + i, i % 2 ? "a" : "b")),
      worker: host(13, "a"),
    },
    dns: { server: "198.51.100.53", tsigKeyName: "shop-update" },
    ...overrides,
  };
}

export function configFor(provider: Provider, children: number, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  switch (provider) {
    case "digitalocean":
      return digitaloceanConfig(children, overrides);
    case "aws":
      return awsConfig(children, overrides);
    case "hosts":
      return hostsConfig(children, overrides);
    default: {
      const never: never = provider;
      throw new Error(`unknown provider ${String(never)}`);
    }
  }
}

/** Placeholder secret config a run needs (the hosts target's TSIG secret). */
export const TEST_SECRETS = {
  dnsTsigSecret: "dGVzdC1vbmx5LXRzaWctc2VjcmV0",
  healthTsigSecret: "dGVzdC1vbmx5LWhlYWx0aC1zZWNyZXQ=",
  healthDnsToken: "dop_v1_health_test",
};
