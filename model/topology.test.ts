import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import catalog from "./catalog.json";
import {
  buildInventory,
  ClusterSpec,
  databaseNodes,
  hostsInventory,
  Inventory,
  InventoryNode,
  parseClusterSpec,
  planNodes,
  recordMembers,
  withPrimary,
} from ".";
import { awsConfig, digitaloceanConfig, hostsConfig } from "../test/configs";
import { parseHostsSpec } from "../test/hosts-spec";

const awsRegions = catalog.aws.regions as Record<string, string[]>;

/** Valid specs for every target: any region, zone subset, child count, cluster name. */
const specs: fc.Arbitrary<ClusterSpec> = fc.oneof(
  fc
    .record({
      region: fc.constantFrom(...catalog.digitalocean.regions),
      n: fc.integer({ min: 1, max: 60 }),
      name: fc.stringMatching(/^[a-z][a-z0-9]{0,10}$/),
    })
    .map(({ region, n, name }) => parseClusterSpec(digitaloceanConfig(n, { region, clusterName: name }))),
  fc
    .constantFrom(...Object.keys(awsRegions))
    .chain((region) =>
      fc.record({
        region: fc.constant(region),
        zones: fc.shuffledSubarray(awsRegions[region], { minLength: 2 }),
        n: fc.integer({ min: 1, max: 60 }),
      }),
    )
    .map(({ region, zones, n }) => parseClusterSpec(awsConfig(n, { region, zones }))),
  fc.integer({ min: 1, max: 30 }).map((n) => parseClusterSpec(hostsConfig(n))),
);

/** The same spec with either database machine as the primary. */
const specsAnyPrimary: fc.Arbitrary<ClusterSpec> = fc.tuple(specs, fc.integer({ min: 0, max: 1 })).map(([spec, i]) => {
  const names = planNodes(spec)
    .filter((n) => n.role === "parent" || n.role === "standby")
    .map((n) => n.name);
  return { ...spec, primary: names[i] };
});

const addressed = (spec: ClusterSpec): InventoryNode[] =>
  planNodes(spec).map((p, i) => ({
    name: p.name,
    role: p.role,
    zone: p.zone,
    publicAddress: `198.51.100.${i + 1}`,
    privateAddress: `10.0.${Math.floor(i / 250)}.${(i % 250) + 1}`,
  }));
const inventoryOf = (spec: ClusterSpec): Inventory =>
  spec.provider === "hosts" ? hostsInventory(spec) : buildInventory(spec, addressed(spec));

describe("planNodes (properties)", () => {
  it("spreads children evenly across zones on cloud targets (max - min <= 1)", () => {
    fc.assert(
      fc.property(
        specs.filter((s) => s.provider !== "hosts"),
        (spec) => {
          const perZone = new Map(spec.zones.map((z) => [z, 0]));
          for (const n of planNodes(spec).filter((x) => x.role === "child")) perZone.set(n.zone, perZone.get(n.zone)! + 1);
          assert.equal(perZone.size, spec.zones.length, "children only in the spec's zones");
          const counts = [...perZone.values()];
          assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, JSON.stringify([...perZone]));
        },
      ),
    );
  });

  it("puts the parent and the standby in different zones whenever there are several", () => {
    fc.assert(
      fc.property(specsAnyPrimary, (spec) => {
        const nodes = planNodes(spec);
        const zone = (role: string) => nodes.find((n) => n.role === role)!.zone;
        if (spec.zones.length >= 2) assert.notEqual(zone("parent"), zone("standby"));
      }),
    );
  });

  it("gives unique names, one parent, one standby, one worker and childCount children", () => {
    fc.assert(
      fc.property(specsAnyPrimary, (spec) => {
        const nodes = planNodes(spec);
        assert.equal(new Set(nodes.map((n) => n.name)).size, nodes.length);
        for (const role of ["parent", "standby", "worker"]) assert.equal(nodes.filter((n) => n.role === role).length, 1);
        assert.equal(nodes.filter((n) => n.role === "child").length, spec.childCount);
      }),
    );
  });

  it("places machines by name, never by role: the primary changes only the two database machines' roles", () => {
    fc.assert(
      fc.property(specsAnyPrimary, (spec) => {
        const nodes = planNodes(spec);
        const parent = nodes.find((n) => n.role === "parent")!;
        assert.equal(parent.name, spec.primary);
        const other = databaseNodes({ nodes: nodes.map((n) => ({ ...n, publicAddress: "", privateAddress: "" })) }).find(
          (n) => n.name !== spec.primary,
        )!;
        const flipped = planNodes({ ...spec, primary: other.name });
        const withoutRoles = (list: typeof nodes) =>
          list.map(({ role, ...rest }) => ({ ...rest, db: role === "parent" || role === "standby" }));
        assert.deepEqual(withoutRoles(flipped), withoutRoles(nodes));
        assert.equal(flipped.find((n) => n.role === "parent")!.name, other.name);
        assert.equal(flipped.find((n) => n.role === "standby")!.name, spec.primary);
      }),
    );
  });

  it("makes the record members exactly the children", () => {
    fc.assert(
      fc.property(specs, (spec) => {
        const inv = inventoryOf(spec);
        const members = recordMembers(inv);
        assert.deepEqual(
          members.map((m) => m.name),
          planNodes(spec)
            .filter((n) => n.role === "child")
            .map((n) => n.name),
        );
        for (const m of members) assert.ok(![inv.primary, inv.standby].includes(m.name));
        assert.ok(!members.some((m) => m.role !== "child"));
      }),
    );
  });
});

describe("planNodes (cases)", () => {
  it("starts the children in the standby's zone so losing the parent's zone keeps the most", () => {
    const nodes = planNodes(parseClusterSpec(awsConfig(4, { zones: ["eu-west-1a", "eu-west-1b"] })));
    assert.deepEqual(
      nodes.map((n) => `${n.name}@${n.zone}`),
      [
        "shop-db-1@eu-west-1a",
        "shop-db-2@eu-west-1b",
        "shop-child-1@eu-west-1b",
        "shop-child-2@eu-west-1a",
        "shop-child-3@eu-west-1b",
        "shop-child-4@eu-west-1a",
        "shop-worker@eu-west-1a",
      ],
    );
  });

  it("is for hosts specs only: the compiler refuses a cloud spec (whose inventory comes from its machines)", () => {
    const cloud = parseClusterSpec(digitaloceanConfig(2));
    // @ts-expect-error a DigitalOcean spec has no hosts: typecheck fails here if hostsInventory takes any ClusterSpec again
    assert.throws(() => hostsInventory(cloud));
    assert.throws(() => parseHostsSpec(awsConfig(2)), /config of cluster shop targets aws, not hosts/);
  });

  it("keeps the hosts target's names, zones and addresses", () => {
    const inv = hostsInventory(parseHostsSpec(hostsConfig(2)));
    assert.deepEqual(
      inv.nodes.map((n) => [n.name, n.zone, n.publicAddress, n.privateAddress]),
      [
        ["shop-db-1", "a", "198.51.100.11", "10.0.0.11"],
        ["shop-db-2", "b", "198.51.100.12", "10.0.0.12"],
        ["shop-child-1", "b", "198.51.100.21", "10.0.0.21"],
        ["shop-child-2", "a", "198.51.100.22", "10.0.0.22"],
        ["shop-worker", "a", "198.51.100.13", "10.0.0.13"],
      ],
    );
    assert.deepEqual(inv.dns, {
      kind: "rfc2136",
      server: "198.51.100.53",
      port: 53,
      zone: "example.com",
      keyName: "shop-update",
      algorithm: "hmac-sha256",
    });
  });
});

describe("withPrimary", () => {
  /** A spec with any primary, its inventory, and the name of one of its database machines. */
  const cases = specsAnyPrimary.chain((spec) => {
    const inv = inventoryOf(spec);
    return fc.record({ spec: fc.constant(spec), inv: fc.constant(inv), name: fc.constantFrom(inv.primary, inv.standby) });
  });

  it("is the inventory the stack would build with that primary (properties)", () => {
    fc.assert(
      fc.property(cases, ({ spec, inv, name }) => {
        assert.deepEqual(withPrimary(inv, name), inventoryOf({ ...spec, primary: name }));
      }),
    );
  });

  it("names the primary and the standby, gives exactly them the database roles, changes nothing else (properties)", () => {
    fc.assert(
      fc.property(cases, ({ inv, name }) => {
        const before = structuredClone(inv);
        const after = withPrimary(inv, name);
        assert.deepEqual(inv, before, "the input is not changed");
        const other = inv.primary === name ? inv.standby : inv.primary;
        assert.deepEqual([after.primary, after.standby], [name, other]);
        assert.deepEqual(
          after.nodes.filter((n) => n.role === "parent").map((n) => n.name),
          [name],
        );
        assert.deepEqual(
          after.nodes.filter((n) => n.role === "standby").map((n) => n.name),
          [other],
        );
        const strip = (i: Inventory) => ({
          ...i,
          primary: "",
          standby: "",
          nodes: i.nodes.map((n) => ({ ...n, role: n.role === "standby" ? "parent" : n.role })),
        });
        assert.deepEqual(strip(after), strip(inv), "addresses, order, volumes and everything else stay");
        assert.deepEqual(withPrimary(after, name), after, "idempotent");
        assert.deepEqual(withPrimary(after, inv.primary), inv, "switching back restores the inventory");
      }),
    );
  });

  it("returns the same inventory when the machine is the primary already", () => {
    const inv = hostsInventory(parseHostsSpec(hostsConfig(2)));
    assert.equal(withPrimary(inv, "shop-db-1"), inv);
  });

  it("refuses a name that is not one of the two database machines, naming the choices", () => {
    const inv = hostsInventory(parseHostsSpec(hostsConfig(2)));
    for (const name of ["shop-child-1", "shop-worker", "shop-parent", ""]) {
      assert.throws(
        () => withPrimary(inv, name),
        new RegExp(`^Error: ${JSON.stringify(name)} is not a database machine of shop; the primary must be "shop-db-1" or "shop-db-2"$`),
      );
    }
  });

  it("refuses an inventory whose primary is not one of its database machines", () => {
    const inv = hostsInventory(parseHostsSpec(hostsConfig(2)));
    assert.throws(() => withPrimary({ ...inv, primary: "shop-child-1" }, "shop-db-2"), /inventory of shop is inconsistent/);
  });
});
