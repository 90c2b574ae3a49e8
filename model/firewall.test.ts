import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { describeSource, firewallGroups, inboundFor, NODE_BASE_RULES } from "./firewall";
import { SERVICE_PORTS } from "./ports";

describe("firewall policy (model/firewall.ts)", () => {
  const groups = firewallGroups({ adminCidrs: ["203.0.113.7/32"], sshPort: 2222 });

  it("opens exactly the service ports the config schema protects sshPort and dns.port from (model/ports.ts), besides SSH", () => {
    const opened = [
      ...groups.flatMap((g) => g.inbound).filter((r) => r.port !== 2222),
      ...NODE_BASE_RULES.flatMap((r) => (r.kind === "port" ? [r] : [])),
    ].map((r) => `${r.protocol}/${r.port}`);
    assert.deepEqual([...new Set(opened)].sort(), SERVICE_PORTS.map((p) => `${p.protocol}/${p.port}`).sort());
  });

  it("puts SSH from the admin networks on every role, the web on children only, the data ports on the database machines", () => {
    for (const role of ["parent", "standby", "child", "worker"] as const)
      assert.ok(
        inboundFor(groups, role).some((r) => r.port === 2222 && describeSource(r.source) === "203.0.113.7/32"),
        role,
      );
    assert.deepEqual(
      inboundFor(groups, "child")
        .filter((r) => r.source.kind === "internet")
        .map((r) => r.port),
      [80, 443],
    );
    assert.deepEqual(
      inboundFor(groups, "worker").map((r) => r.port),
      [2222],
    );
  });

  it("says, for each base rule, what the cloud firewalls do for it", () => {
    for (const r of NODE_BASE_RULES) assert.ok(r.why.length > 20, JSON.stringify(r));
  });
});
