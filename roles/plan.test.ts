import assert from "node:assert/strict";
import { BOOTSTRAP_SOURCE, BOOTSTRAP_SOURCE_HASH } from "./release";
import { uploadHashFile } from "../ops/bootstrap/commands";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { fixtureContext, fixtureInventory, fixtureInventoryWithVolumes } from "./fixtures";
import { planIssues } from "../ops/bootstrap/validate";
import { renderClusterPlans, renderNodePlan } from "./plan";
import { firewallFor } from "./common";
import { clusterFacts } from "./context";
import { planToText } from "./snapshot";
import { CHANGED_MARKER, NodePlan, RoleContext } from "./types";
import { SAMPLE_APP, withPrimary, type Inventory } from "../model";

const SNAPSHOTS = path.join(__dirname, "__snapshots__");
/** `UPDATE_SNAPSHOTS=1 node --import tsx --test roles/plan.test.ts` rewrites the expected files. */
const UPDATE = process.env.UPDATE_SNAPSHOTS === "1";

function planOf(name: string, ctx: RoleContext = fixtureContext()): NodePlan {
  const node = ctx.inventory.nodes.find((n) => n.name === name);
  assert.ok(node, name);
  return renderNodePlan(node, ctx);
}

const cases: [snapshot: string, node: string, ctx: RoleContext][] = [
  ["parent-strict", "lab-db-1", fixtureContext()],
  ["parent-degrade-to-async", "lab-db-1", fixtureContext({ inventory: fixtureInventory({ syncReplication: "degrade-to-async" }) })],
  ["standby", "lab-db-2", fixtureContext()],
  ["child-nfs", "lab-child-1", fixtureContext()],
  ["child-lab-bind", "lab-child-2", fixtureContext({ shareMount: "lab-bind" })],
  ["worker-nfs", "lab-worker", fixtureContext()],
  ["parent-volumes", "lab-db-1", fixtureContext({ inventory: fixtureInventoryWithVolumes() })],
  ["standby-volumes", "lab-db-2", fixtureContext({ inventory: fixtureInventoryWithVolumes() })],
  ["child-lab-device", "lab-child-1", fixtureContext({ shareMount: "lab-device", inventory: fixtureInventoryWithVolumes() })],
];

describe("node plan snapshots (roles/__snapshots__, UPDATE_SNAPSHOTS=1 to rewrite)", () => {
  for (const [snapshot, node, ctx] of cases) {
    it(snapshot, () => {
      const text = planToText(planOf(node, ctx));
      const file = path.join(SNAPSHOTS, `${snapshot}.txt`);
      if (UPDATE) fs.writeFileSync(file, text);
      assert.ok(fs.existsSync(file), `missing snapshot ${file}: run with UPDATE_SNAPSHOTS=1 and review the diff`);
      assert.equal(text, fs.readFileSync(file, "utf8"));
    });
  }
});

describe("renderNodePlan structure", () => {
  const plans = renderClusterPlans(fixtureContext());

  it("is pure: the same input renders the same plan", () => {
    assert.deepEqual(renderClusterPlans(fixtureContext()), plans);
  });

  it("passes the bootstrap's own plan validation (ops/bootstrap/validate)", () => {
    for (const ctx of [
      fixtureContext(),
      fixtureContext({ shareMount: "lab-bind", inventory: fixtureInventory({ syncReplication: "degrade-to-async" }) }),
    ]) {
      assert.deepEqual(planIssues(renderClusterPlans(ctx)), []);
    }
  });

  it("starts every plan with the Debian release check, then the role's packages", () => {
    for (const p of plans) {
      assert.ok(p.actions[0].kind === "script" && p.actions[0].name === "debian-release");
      assert.equal(p.actions[1].kind, "packages");
      assert.ok(p.actions[1].kind === "packages" && p.actions[1].names.includes("nftables"));
    }
  });

  it("restart triggers name files and scripts of the same plan, written before the service action", () => {
    for (const p of plans) {
      p.actions.forEach((a, i) => {
        if (a.kind !== "service") return;
        const before = p.actions.slice(0, i);
        for (const f of a.restartWhen)
          assert.ok(
            before.some((b) => b.kind === "file" && b.file.path === f),
            `${p.node.name}: ${a.name} restartWhen ${f}`,
          );
        for (const s of a.restartAfterScripts ?? [])
          assert.ok(
            before.some((b) => b.kind === "script" && b.name === s),
            `${p.node.name}: ${a.name} after ${s}`,
          );
      });
    }
  });

  it("every script is strict bash and can report a change; file paths are absolute and unique per plan", () => {
    for (const p of plans) {
      const paths = new Set<string>();
      for (const a of p.actions) {
        if (a.kind === "script") {
          assert.match(a.script, /^#!\/usr\/bin\/env bash\n/);
          assert.match(a.script, /\nset -euo pipefail\n/);
          assert.ok(a.script.includes(CHANGED_MARKER), `${a.name} prints the marker`);
        }
        if (a.kind === "file") {
          assert.ok(a.file.path.startsWith("/"), a.file.path);
          assert.ok(!paths.has(a.file.path), `${p.node.name}: ${a.file.path} twice`);
          paths.add(a.file.path);
          assert.match(a.file.mode, /^0[0-7]{3}$/);
        }
      }
    }
  });

  it("only the worker uploads the project (it builds the first release); the parent serves no web traffic", () => {
    for (const p of plans) {
      const uploads = p.actions.filter((a) => a.kind === "upload");
      assert.equal(uploads.length, p.role === "worker" ? 1 : 0, p.node.name);
      const hasNginx = p.actions.some((a) => a.kind === "service" && a.name === "nginx");
      assert.equal(hasNginx, p.role === "child", p.node.name);
    }
    const worker = plans.find((p) => p.role === "worker")!;
    const upload = worker.actions.find((a) => a.kind === "upload");
    assert.deepEqual(upload && upload.kind === "upload" && [upload.localDir, upload.remoteDir], [
      fixtureContext().appDir,
      BOOTSTRAP_SOURCE,
    ]);
    // The upload's hash file is where the first-release script reads the source hash (the release id's half).
    assert.equal(uploadHashFile(BOOTSTRAP_SOURCE), BOOTSTRAP_SOURCE_HASH);
    const names = worker.actions.map((a) =>
      a.kind === "script" || a.kind === "upload" ? a.name : a.kind === "service" ? `service ${a.name}` : "",
    );
    assert.ok(
      names.indexOf("app-source") < names.indexOf("first-release") &&
        names.indexOf("first-release") < names.indexOf("release-link") &&
        names.indexOf("release-link") < names.indexOf("service django-ha-celery.service"),
      names.join(","),
    );
  });

  it("secrets land only in files of mode 0600/0640", () => {
    const ctx = fixtureContext();
    const secrets = Object.values(ctx.secrets);
    for (const p of plans) {
      for (const a of p.actions) {
        if (a.kind !== "file") continue;
        if (secrets.some((s) => a.file.content.includes(s)))
          assert.ok(["0600", "0640"].includes(a.file.mode), `${a.file.path} holds a secret with mode ${a.file.mode}`);
      }
    }
  });

  it("points primary.<cluster>.internal at the inventory's current primary", () => {
    const moved = fixtureContext({ inventory: withPrimary(fixtureInventory(), "lab-db-2") });
    const p = planOf("lab-child-1", moved);
    const hosts = p.actions.find((a) => a.kind === "script" && a.name === "hosts-block");
    assert.ok(hosts && hosts.kind === "script" && hosts.script.includes("10.231.0.12\tprimary.lab.internal"));
  });

  it("degrade-to-async installs the watchdog timer; strict removes it", () => {
    const strict = planOf("lab-db-1");
    const degrade = planOf("lab-db-1", fixtureContext({ inventory: fixtureInventory({ syncReplication: "degrade-to-async" }) }));
    assert.ok(degrade.actions.some((a) => a.kind === "service" && a.name === "django-ha-sync-watchdog.timer" && a.state === "started"));
    assert.ok(!strict.actions.some((a) => a.kind === "service" && a.name === "django-ha-sync-watchdog.timer"));
    assert.ok(strict.actions.some((a) => a.kind === "script" && a.name === "sync-policy-strict"));
  });

  it("lab-bind checks the bound share instead of mounting NFS", () => {
    const bind = planOf("lab-child-1", fixtureContext({ shareMount: "lab-bind" }));
    const nfs = planOf("lab-child-1");
    assert.ok(bind.actions.some((a) => a.kind === "script" && a.name === "share-present"));
    assert.ok(!bind.actions.some((a) => a.kind === "file" && a.file.path.endsWith(".mount")));
    assert.ok(
      nfs.actions.some(
        (a) =>
          a.kind === "file" &&
          a.file.path === "/etc/systemd/system/srv-share.mount" &&
          a.file.content.includes("What=primary.lab.internal:/srv/share"),
      ),
    );
    assert.ok(nfs.actions.some((a) => a.kind === "service" && a.name === "srv-share.automount" && a.enabled));
  });
});

describe("after a failover (primary = lab-db-2) the plans follow the primary", () => {
  const before = fixtureInventoryWithVolumes();
  const after = withPrimary(before, "lab-db-2");
  const plansOf = (inv: Inventory) => new Map(renderClusterPlans(fixtureContext({ inventory: inv })).map((p) => [p.node.name, p]));
  const was = plansOf(before);
  const now = plansOf(after);
  const script = (p: NodePlan, name: string) => {
    const a = p.actions.find((x) => x.kind === "script" && x.name === name);
    assert.ok(a && a.kind === "script", `${p.node.name} has no script ${name}`);
    return a.script;
  };
  const file = (p: NodePlan, pathEnd: string) => {
    const a = p.actions.find((x) => x.kind === "file" && x.file.path.endsWith(pathEnd));
    assert.ok(a && a.kind === "file", `${p.node.name} has no file *${pathEnd}`);
    return a.file.content;
  };

  it("renders exactly the plans of the first layout with the two database machines exchanged", () => {
    // σ exchanges the two machines' names and addresses (in every spelling the plans use). Rendering is
    // equivariant: plans(primary = db-2) = σ(plans(primary = db-1)) for the inventory listing the machines
    // in σ's order (the node order only orders the member address lists).
    const pairs: [string, string][] = [
      ["lab-db-1", "lab-db-2"],
      ["10.231.0.11", "10.231.0.12"],
      ["10\\.231\\.0\\.11", "10\\.231\\.0\\.12"],
    ];
    const map = new Map(
      pairs.flatMap(([x, y]) => [
        [x, y],
        [y, x],
      ]),
    );
    const pattern = new RegExp([...map.keys()].map((k) => k.replace(/[.\\]/g, (c) => `\\${c}`)).join("|"), "g");
    const sigma = (text: string) => text.replace(pattern, (m) => map.get(m)!);
    const reordered = plansOf({ ...after, nodes: [after.nodes[1], after.nodes[0], ...after.nodes.slice(2)] });
    for (const [name, plan] of was) {
      const image = reordered.get(sigma(name))!;
      assert.equal(image.role, plan.role, name);
      assert.equal(planToText(image), sigma(planToText(plan)), `plan of ${sigma(name)} after the failover vs plan of ${name} before`);
    }
  });

  it("lab-db-2 gets the parent role's actions, lab-db-1 the standby's", () => {
    assert.equal(now.get("lab-db-2")!.role, "parent");
    assert.equal(now.get("lab-db-1")!.role, "standby");
    const names = (p: NodePlan) =>
      p.actions.map((a) => `${a.kind} ${a.kind === "file" ? a.file.path : a.kind === "packages" ? a.names.join(" ") : a.name}`);
    assert.deepEqual(
      names(now.get("lab-db-2")!),
      names(was.get("lab-db-1")!).map((n) => n.replaceAll("lab-db-1", "lab-db-2")),
    );
    assert.deepEqual(
      names(now.get("lab-db-1")!),
      names(was.get("lab-db-2")!).map((n) => n.replaceAll("lab-db-2", "lab-db-1")),
    );
  });

  it("every node's hosts block names lab-db-2 as primary.lab.internal", () => {
    for (const [name, plan] of now) {
      assert.match(script(plan, "hosts-block"), /10\.231\.0\.12\tprimary\.lab\.internal/, name);
      assert.doesNotMatch(script(plan, "hosts-block"), /10\.231\.0\.11\tprimary/, name);
    }
  });

  it("share sync runs from lab-db-2 to lab-db-1; the base backup and the Redis replica follow lab-db-2", () => {
    assert.match(file(now.get("lab-db-2")!, "lsyncd.conf.lua"), /root@10\.231\.0\.11/);
    assert.match(script(now.get("lab-db-1")!, "postgres-basebackup"), /10\.231\.0\.12/);
    assert.doesNotMatch(script(now.get("lab-db-1")!, "postgres-basebackup"), /10\.231\.0\.11/);
    assert.match(file(now.get("lab-db-1")!, "redis.conf"), /^replicaof 10\.231\.0\.12 6379$/m);
    assert.doesNotMatch(file(now.get("lab-db-2")!, "redis.conf"), /^replicaof/m);
  });

  it("the app's DSN lists the new primary first", () => {
    for (const name of ["lab-child-1", "lab-child-2", "lab-worker"]) {
      const plan = now.get(name)!;
      const env = plan.actions
        .filter((a) => a.kind === "file" && /10\.231\.0\.1[12]/.test(a.file.content))
        .map((a) => (a.kind === "file" ? a.file.content : ""))
        .join("\n");
      assert.match(env, /10\.231\.0\.12,10\.231\.0\.11/, name);
      assert.doesNotMatch(env, /10\.231\.0\.11,10\.231\.0\.12/, name);
    }
  });
});

describe("the app's own config (django-ha:app) in the plans", () => {
  const app = {
    ...SAMPLE_APP,
    settingsModule: "shop.conf.settings",
    debianPackages: ["python3-markdown", "libmagic1"],
    env: { SHOP_CURRENCY: "EUR" },
    secretKeys: ["STRIPE_KEY"],
  };
  const ctx = fixtureContext({ app, appSecrets: { STRIPE_KEY: "sk_test_fixture" } });
  const fileOf = (plan: NodePlan, path: string) =>
    plan.actions.flatMap((a) => (a.kind === "file" && a.file.path === path ? [a.file] : []))[0];
  for (const node of fixtureInventory().nodes) {
    it(`${node.name} (${node.role})`, () => {
      const plan = renderNodePlan(node, ctx);
      const pkgs = plan.actions.flatMap((a) => (a.kind === "packages" ? a.names : []));
      const runsApp = node.role === "child" || node.role === "worker";
      assert.equal(
        pkgs.includes("python3-markdown") && pkgs.includes("libmagic1"),
        runsApp,
        "the app's Debian packages on the children and the worker only",
      );
      const env = fileOf(plan, "/etc/django-ha/app.env");
      const secrets = fileOf(plan, "/etc/django-ha/app-secrets.env");
      if (!runsApp) return assert.ok(!env && !secrets);
      assert.ok(env.content.split("\n").includes("DJANGO_SETTINGS_MODULE=shop.conf.settings"));
      assert.ok(env.content.split("\n").includes("SHOP_CURRENCY=EUR"));
      assert.ok(!env.content.includes("sk_test_fixture"), "secrets stay out of app.env");
      assert.deepEqual([secrets.mode, secrets.owner, secrets.group], ["0640", "root", "django"]);
      assert.ok(secrets.content.split("\n").includes("STRIPE_KEY=sk_test_fixture"));
    });
  }
});

describe("renderNodePlan refuses bad input before rendering", () => {
  const node = fixtureInventory().nodes[2];
  const table: [string, RoleContext, RegExp][] = [
    ["no admin CIDRs", fixtureContext({ adminCidrs: [] }), /adminCidrs = \[\] would lock SSH out/],
    [
      "a bad CIDR",
      fixtureContext({ adminCidrs: ["10.0.0.300/32"] }),
      /adminCidrs entry "10\.0\.0\.300\/32" does not start with an IPv4 or IPv6 address/,
    ],
    [
      "a CIDR with host bits set",
      fixtureContext({ adminCidrs: ["10.231.0.1/24"] }),
      /adminCidrs entry "10\.231\.0\.1\/24" has host bits set: did you mean 10\.231\.0\.0\/24/,
    ],
    [
      "a quote in a secret",
      fixtureContext({ secrets: { ...fixtureContext().secrets, dbPassword: "it's" } }),
      /secrets\.dbPassword contains a quote/,
    ],
    [
      "an empty secret",
      fixtureContext({ secrets: { ...fixtureContext().secrets, djangoSecretKey: "" } }),
      /secrets\.djangoSecretKey is empty/,
    ],
    [
      "a broker-breaking redis password",
      fixtureContext({ secrets: { ...fixtureContext().secrets, redisPassword: "a@b" } }),
      /secrets\.redisPassword contains '@'/,
    ],
    [
      "an unknown primary",
      fixtureContext({ inventory: fixtureInventory({ primary: "nope" }) }),
      /inventory\.primary = "nope" is not a node/,
    ],
    ["primary = standby", fixtureContext({ inventory: fixtureInventory({ standby: "lab-db-1" }) }), /is also the primary/],
    [
      "a primary whose role says standby",
      fixtureContext({ inventory: fixtureInventory({ primary: "lab-db-2", standby: "lab-db-1" }) }),
      /inventory\.nodes\[lab-db-2\]\.role = "standby", but lab-db-2 is inventory\.primary: it must be "parent"; derive the roles from the primary with withPrimary\(inventory, "lab-db-2"\)/,
    ],
    [
      "a child with the parent role",
      fixtureContext({
        inventory: fixtureInventory({
          nodes: fixtureInventory().nodes.map((n) => (n.name === "lab-child-1" ? { ...n, role: "parent" as const } : n)),
        }),
      }),
      /inventory\.nodes\[lab-child-1\]\.role = "parent", but the inventory's primary is "lab-db-1" and its standby "lab-db-2": only those two hold the database roles/,
    ],
    [
      "a bad private address",
      fixtureContext({
        inventory: fixtureInventory({
          nodes: fixtureInventory().nodes.map((n, i) => (i === 0 ? { ...n, privateAddress: "parent.local" } : n)),
        }),
      }),
      /privateAddress = "parent\.local" is not an IP address/,
    ],
    [
      "an app secret without its value",
      fixtureContext({ app: { ...SAMPLE_APP, secretKeys: ["STRIPE_KEY"] } }),
      /appSecrets has no value for STRIPE_KEY .*DJANGO_HA_APP_SECRETS/,
    ],
    [
      "an app secret the app does not name",
      fixtureContext({ appSecrets: { STRAY: "x" } }),
      /appSecrets holds STRAY, which django-ha:app.secretKeys does not name/,
    ],
    [
      "an app secret with a quote",
      fixtureContext({ app: { ...SAMPLE_APP, secretKeys: ["STRIPE_KEY"] }, appSecrets: { STRIPE_KEY: "sk_'live" } }),
      /appSecrets\.STRIPE_KEY is empty or contains a quote.*value not shown/,
    ],
  ];
  for (const [what, ctx, message] of table) {
    it(what, () => assert.throws(() => renderNodePlan(node, ctx), message));
  }

  it("a node that is not in the inventory", () => {
    assert.throws(() => renderNodePlan({ ...node, name: "stranger" }, fixtureContext()), /node "stranger" is not in the inventory/);
  });

  it("an unknown role (exhaustiveness)", () => {
    const ctx = fixtureContext();
    const odd = { ...ctx.inventory.nodes[2], role: "gateway" } as unknown as typeof node;
    const withOdd = fixtureContext({
      inventory: { ...ctx.inventory, nodes: [...ctx.inventory.nodes.slice(0, 2), odd, ...ctx.inventory.nodes.slice(3)] },
    });
    assert.throws(() => renderNodePlan(odd, withOdd), /unknown role/);
  });
});

describe("host firewall policy (firewallFor)", () => {
  const f = clusterFacts(fixtureContext());
  const members = new Set(f.memberAddresses);
  for (const node of fixtureInventory().nodes) {
    it(`${node.name} (${node.role})`, () => {
      const rules = firewallFor(node, f).rules;
      const open = rules.filter((r) => r.from === "any").flatMap((r) => r.ports);
      assert.deepEqual(open, node.role === "child" ? [80, 443] : [], "only children are public, on 80/443");
      const ssh = rules.find((r) => r.comment === "SSH from the admin networks");
      assert.deepEqual(ssh?.from, ["10.231.0.1/32", "2001:db8::/64"]);
      for (const r of rules) {
        if (r.ports.some((p) => [5432, 6379, 2049, 111, 20048].includes(p))) {
          assert.ok(r.from !== "any" && r.from.every((a) => members.has(a)), `${r.comment} only from members`);
        }
      }
      const servesData = rules.some((r) => r.ports.includes(5432));
      assert.equal(servesData, node.role === "parent" || node.role === "standby");
    });
  }
});
