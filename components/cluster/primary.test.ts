/**
 * A failover is recorded as django-ha:primary. Changing it must never replace, resize or re-attach a
 * machine or a volume: every per-machine resource is keyed by the machine (db-1, db-2), never by its role.
 * The program is rendered offline (setMocks) with either database machine as the primary, and the two runs
 * are compared resource by resource.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Inventory, planTags, withPrimary } from "../../model";
import { configFor, TEST_SECRETS } from "../../test/configs";
import { ProgramRun, RecordedResource, runProgram } from "../plan/offlineEngine";

const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\ntest-only\n-----END OPENSSH PRIVATE KEY-----\n";
/** The bootstrap run: its plans and inventory follow the roles (that is how the machines converge on them). */
const BOOTSTRAP_RUN = "pulumi-nodejs:dynamic/bootstrap:Run";
const STACK = "shop";

const render = async (provider: "digitalocean" | "aws" | "hosts", primary?: string): Promise<ProgramRun> => {
  const run = await runProgram(configFor(provider, 2, primary ? { primary } : {}), {
    stack: STACK,
    secrets: { ...TEST_SECRETS, sshPrivateKey: KEY },
  });
  assert.equal(run.error, undefined, String(run.error));
  return run;
};

const byUrn = (run: ProgramRun) => new Map(run.resources.map((r) => [r.urn, r]));
const without = (inputs: Record<string, unknown>, key: string) => Object.fromEntries(Object.entries(inputs).filter(([k]) => k !== key));

for (const provider of ["digitalocean", "aws", "hosts"] as const) {
  describe(`django-ha:primary on ${provider}: a failover changes roles, never machines`, () => {
    let runs: [ProgramRun, ProgramRun] | undefined;
    const load = async () => (runs ??= [await render(provider), await render(provider, "shop-db-2")]);

    it("registers the same resources (same URNs) with primary shop-db-1 and shop-db-2", async () => {
      const [first, second] = await load();
      assert.deepEqual([...byUrn(second).keys()].sort(), [...byUrn(first).keys()].sort());
      assert.ok(
        first.resources.some((r) => r.urn.includes("db-1")) || provider === "hosts",
        "per-machine resources carry the machine's key",
      );
      // Tag resources are named for the tag they create (role tags included); everything else never for a role.
      for (const r of first.resources.filter((x) => x.type !== "digitalocean:index/tag:Tag"))
        assert.doesNotMatch(r.urn, /-(parent|standby)(-|$)/, `${r.urn} is named for a role`);
    });

    it("gives every machine, volume, attachment, firewall and key the same inputs; only role tags differ", async () => {
      const [first, second] = await load();
      const other = byUrn(second);
      const roleTags = new Set(Object.values(planTags({ clusterName: "shop", stack: STACK, tags: {} }).roles));
      let machines = 0;
      for (const a of first.resources) {
        const b = other.get(a.urn)!;
        if (a.type === BOOTSTRAP_RUN) continue;
        if (a.type === "digitalocean:index/droplet:Droplet" || a.type === "aws:ec2/instance:Instance") machines++;
        const what = `${a.type} ${a.name}`;
        assert.deepEqual(without(b.inputs, "tags"), without(a.inputs, "tags"), what);
        const [ta, tb] = [a.inputs.tags, b.inputs.tags];
        if (Array.isArray(ta)) {
          // DigitalOcean: the role tag (…-parent / …-standby) is the only one that may change, in place.
          assert.ok(Array.isArray(tb) && tb.length === ta.length, what);
          ta.forEach((t: string, i) =>
            assert.ok(t === tb[i] || (roleTags.has(t) && roleTags.has(tb[i])), `${what}: tag ${t} became ${tb[i]}`),
          );
        } else if (ta !== undefined) {
          // AWS: the django-ha:role tag is the only one that may change.
          assert.deepEqual(
            without(tb as Record<string, unknown>, "django-ha:role"),
            without(ta as Record<string, unknown>, "django-ha:role"),
            what,
          );
        }
      }
      assert.equal(machines, provider === "hosts" ? 0 : 5);
    });

    it("tags the database machines with their current role", async () => {
      if (provider === "hosts") return;
      const [first, second] = await load();
      const roleOf = (run: ProgramRun, name: string): string => {
        const m = run.resources.find(
          (r) =>
            (r.type === "digitalocean:index/droplet:Droplet" && r.inputs.name === name) ||
            (r.type === "aws:ec2/instance:Instance" && (r.inputs.tags as Record<string, string>).Name === name),
        ) as RecordedResource;
        if (provider === "aws") return (m.inputs.tags as Record<string, string>)["django-ha:role"];
        return (m.inputs.tags as string[]).find((t) => /-(parent|standby)$/.test(t))!.replace(/^.*-/, "");
      };
      assert.deepEqual([roleOf(first, "shop-db-1"), roleOf(first, "shop-db-2")], ["parent", "standby"]);
      assert.deepEqual([roleOf(second, "shop-db-1"), roleOf(second, "shop-db-2")], ["standby", "parent"]);
    });

    it("keeps firewall membership off the role tags: the database machines are targeted by their common tag", async () => {
      if (provider !== "digitalocean") return;
      const [first] = await load();
      const tags = planTags({ clusterName: "shop", stack: STACK, tags: {} });
      const moving = [tags.roles.parent, tags.roles.standby];
      const firewalls = first.resources.filter((r) => r.type === "digitalocean:index/firewall:Firewall");
      assert.equal(firewalls.length, 3);
      for (const fw of firewalls) {
        const used = [
          ...(fw.inputs.tags as string[]),
          ...((fw.inputs.inboundRules as { sourceTags?: string[] }[]) ?? []).flatMap((r) => r.sourceTags ?? []),
        ];
        assert.deepEqual(
          used.filter((t) => moving.includes(t)),
          [],
          fw.name,
        );
      }
      assert.ok(firewalls.some((fw) => (fw.inputs.tags as string[]).includes(tags.database)));
    });

    it("aliases the database machines to their names before db-1/db-2 (parent, standby), so older stacks keep them", async () => {
      if (provider === "hosts") return;
      const [first, second] = await load();
      for (const run of [first, second]) {
        const nodes: RecordedResource[] = run.resources.filter((r) => r.type === `django-ha:${provider}:Node`);
        const aliasesOf = (key: string): string[] => nodes.find((r) => r.name.endsWith(`-${key}`))!.aliases;
        assert.deepEqual(aliasesOf("db-1"), [`shop-${provider}-parent`]);
        assert.deepEqual(aliasesOf("db-2"), [`shop-${provider}-standby`]);
        for (const key of ["child-1", "child-2", "worker"]) assert.deepEqual(aliasesOf(key), []);
      }
    });

    it("exports the inventory with the new primary: withPrimary of the first one", async () => {
      const [first, second] = await load();
      const [a, b] = [first.outputs.inventory as Inventory, second.outputs.inventory as Inventory];
      assert.deepEqual([a.primary, a.standby], ["shop-db-1", "shop-db-2"]);
      assert.deepEqual([b.primary, b.standby], ["shop-db-2", "shop-db-1"]);
      assert.deepEqual(b, withPrimary(a, "shop-db-2"));
    });

    it("re-runs the bootstrap with the new roles (its plans change, the machines it targets do not)", async () => {
      const [first, second] = await load();
      const runOf = (run: ProgramRun) => run.resources.find((r) => r.type === BOOTSTRAP_RUN)!;
      const [a, b] = [runOf(first), runOf(second)];
      assert.equal(a.urn, b.urn);
      assert.notDeepEqual(b.inputs, a.inputs);
      assert.deepEqual(b.inputs.machineIds, a.inputs.machineIds);
    });
  });
}
