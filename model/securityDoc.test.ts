/**
 * docs/security-model.md shows the firewall policy as two tables; they are generated here from the policy data
 * (model/firewall.ts) and must equal what the doc holds between its policy-table markers.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { firewallGroups, NODE_BASE_RULES, type IcmpType, type NodeBaseRule, type RuleSource } from "./firewall";

const DOC = path.resolve(__dirname, "..", "docs", "security-model.md");
const SSH = 22;

function source(s: RuleSource): string {
  switch (s.kind) {
    case "internet":
      return "anywhere (0.0.0.0/0, ::/0)";
    case "cidrs":
      return "`django-ha:adminCidrs`";
    case "members":
      return "cluster members (private addresses)";
    case "peers":
      return "the group's own machines (private addresses)";
    default: {
      const never: never = s;
      throw new Error(`unknown source ${JSON.stringify(never)}`);
    }
  }
}

function baseRuleWhat(r: NodeBaseRule): string {
  switch (r.kind) {
    case "loopback":
      return "loopback";
    case "conntrack":
      return `connection state ${r.states.join(", ")}: ${r.verdict}`;
    case "icmp":
      return `ICMPv${r.family} ${r.types.map((t) => t.name).join(", ")}`;
    case "port":
      return `${r.protocol}/${r.port} from ${r.fromCidr}`;
    default: {
      const never: never = r;
      throw new Error(`unknown base rule ${JSON.stringify(never)}`);
    }
  }
}

/** ICMP types by family, as the doc writes them: "v4 echo-request (8), …; v6 …". */
function icmpWhat(types: readonly IcmpType[]): string {
  return ([4, 6] as const)
    .map(
      (f) =>
        `v${f} ${types
          .filter((t) => t.family === f)
          .map((t) => `${t.name} (${t.number})`)
          .join(", ")}`,
    )
    .join("; ");
}

/** The policy as the doc's two markdown tables. */
export function policyTables(): string {
  const groups = firewallGroups({ adminCidrs: ["198.51.100.1/32"], sshPort: SSH });
  const port = (p: number) => (p === SSH ? "`sshPort` (22)" : String(p));
  return [
    "| group | roles | port | from | why |",
    "| --- | --- | --- | --- | --- |",
    ...groups.flatMap((g) =>
      g.inbound.map((r) => `| ${g.name} | ${g.roles.join(", ")} | ${r.protocol}/${port(r.port)} | ${source(r.source)} | ${r.purpose} |`),
    ),
    ...groups
      .filter((g) => g.icmp.length)
      .map((g) => `| ${g.name} | ${g.roles.join(", ")} | ICMP: ${icmpWhat(g.icmp)} | anywhere | ping and path-MTU discovery's errors |`),
    ...groups
      .filter((g) => g.outboundAll)
      .map((g) => `| ${g.name} | ${g.roles.join(", ")} | all outbound | anywhere | package mirrors, ACME, provider APIs, DNS updates |`),
    "",
    "| every node's ruleset first (nftables) | what the cloud firewalls do for it |",
    "| --- | --- |",
    ...NODE_BASE_RULES.map((r) => `| ${baseRuleWhat(r)} | ${r.why} |`),
  ].join("\n");
}

describe("docs/security-model.md", () => {
  it("shows the firewall policy as it is in model/firewall.ts", () => {
    const doc = fs.readFileSync(DOC, "utf8");
    const m = /<!-- policy-table:start -->\n([\s\S]*?)\n<!-- policy-table:end -->/.exec(doc);
    assert.ok(m, "docs/security-model.md has no policy-table markers");
    assert.equal(
      m[1],
      policyTables(),
      "the doc's policy tables differ from model/firewall.ts: paste the expected text between the markers",
    );
  });
});
