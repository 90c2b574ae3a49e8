import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import YAML from "yaml";
import { renderNodePlan } from "../../roles";
import { SSHD_DROP_IN } from "../../roles/common";
import { fixtureContext, fixtureInventory } from "../../roles/fixtures";
import { parseClusterSpec } from "../../model";
import { awsConfig } from "../../test/configs";
import { bootImageNode, IMAGE_NODE_TIMEOUT_MS } from "../../test/image-node";
import { cidrRange, describeSource, inboundFor, planCluster, planFirewall, planSubnets, renderUserData } from ".";

describe("planFirewall", () => {
  const groups = planFirewall({ adminCidrs: ["203.0.113.7/32"], ssh: { user: "root", port: 22 } });

  it("opens only 22 from the admin CIDRs, 80/443 on children, data ports to members and SSH between the database nodes", () => {
    assert.deepEqual(
      inboundFor(groups, "child").map((r) => [r.port, describeSource(r.source)]),
      [
        [22, "203.0.113.7/32"],
        [80, "anywhere (0.0.0.0/0, ::/0)"],
        [443, "anywhere (0.0.0.0/0, ::/0)"],
      ],
    );
    for (const role of ["parent", "standby"] as const) {
      assert.deepEqual(
        inboundFor(groups, role).map((r) => `${r.protocol}/${r.port} ${r.source.kind}`),
        [
          "tcp/22 cidrs",
          "tcp/22 peers",
          "tcp/5432 members",
          "tcp/2049 members",
          "tcp/111 members",
          "udp/111 members",
          "tcp/20048 members",
          "tcp/6379 members",
        ],
      );
    }
    assert.deepEqual(
      inboundFor(groups, "worker").map((r) => r.port),
      [22],
    );
  });

  it("lists a repeated admin CIDR once", () => {
    const twice = planFirewall({ adminCidrs: ["203.0.113.7/32", "203.0.113.7/32"], ssh: { user: "root", port: 22 } });
    assert.deepEqual(
      inboundFor(twice, "worker").map((r) => describeSource(r.source)),
      ["203.0.113.7/32"],
    );
  });

  it("follows a non-default SSH port", () => {
    const custom = planFirewall({ adminCidrs: ["198.51.100.0/24"], ssh: { user: "root", port: 2222 } });
    assert.deepEqual(
      inboundFor(custom, "worker").map((r) => r.port),
      [2222],
    );
  });

  it("allows all outbound once, on the group every node carries", () => {
    assert.deepEqual(
      groups.filter((g) => g.outboundAll).map((g) => g.roles.length),
      [4],
    );
  });
});

describe("planSubnets", () => {
  it("gives each zone its own /20 of a /16", () => {
    assert.deepEqual(planSubnets("10.42.0.0/16", ["a", "b", "c"]), [
      { zone: "a", cidr: "10.42.0.0/20" },
      { zone: "b", cidr: "10.42.16.0/20" },
      { zone: "c", cidr: "10.42.32.0/20" },
    ]);
  });

  it("refuses ranges that are not IPv4 CIDRs or too small", () => {
    assert.throws(() => planSubnets("10.42.0.0", ["a"]), /vpcCidr "10.42.0.0" must be an IPv4 range/);
    assert.throws(() => planSubnets("10.42.0.0/26", ["a"]), /is too small for \/30 subnets/);
    assert.throws(
      () =>
        planSubnets(
          "10.42.0.0/16",
          Array.from({ length: 17 }, (_, i) => `z${i}`),
        ),
      /holds only 16 subnets/,
    );
  });

  it("never overlaps and stays inside the VPC (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 8, max: 24 }),
        fc.integer({ min: 1, max: 16 }),
        (second, prefix, zoneCount) => {
          const vpc = `10.${second}.0.0/${prefix}`;
          const subnets = planSubnets(
            vpc,
            Array.from({ length: zoneCount }, (_, i) => `zone-${i}`),
          );
          const [lo, hi] = cidrRange(vpc);
          const ranges = subnets.map((s) => cidrRange(s.cidr)).sort((a, b) => a[0] - b[0]);
          for (const [start, end] of ranges) assert.ok(start >= lo && end <= hi);
          for (let i = 1; i < ranges.length; i++) assert.ok(ranges[i][0] > ranges[i - 1][1]);
        },
      ),
    );
  });
});

describe("renderUserData", () => {
  const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE me@laptop";
  const dropIn = (port: number) =>
    `    content: |
      # django-ha: SSH hardening (keys only; root by key only).
      Port ${port}
      PasswordAuthentication no
      KbdInteractiveAuthentication no
      PermitEmptyPasswords no
      PubkeyAuthentication yes
      PermitRootLogin prohibit-password
      X11Forwarding no
      MaxAuthTries 3
      LoginGraceTime 30
`;

  it("root: root's keys, passwords off, and the roles' sshd drop-in on the configured port", () => {
    assert.equal(
      renderUserData({ sshPublicKeys: [KEY], user: "root", port: 22 }),
      `#cloud-config
disable_root: false
ssh_authorized_keys:
  - ${KEY}
ssh_pwauth: false
write_files:
  - path: /etc/ssh/sshd_config.d/00-django-ha.conf
    permissions: "0644"
    owner: root:root
${dropIn(22)}`,
    );
  });

  it("another user: created with the keys and password-less sudo (root is left as it is); sshd on sshPort", () => {
    assert.equal(
      renderUserData({ sshPublicKeys: [KEY, "ssh-rsa AAAAB3Nz other"], user: "deploy", port: 2222 }),
      `#cloud-config
users:
  - name: deploy
    shell: /bin/bash
    lock_passwd: true
    sudo: ALL=(ALL) NOPASSWD:ALL
    ssh_authorized_keys:
      - ${KEY}
      - ssh-rsa AAAAB3Nz other
ssh_pwauth: false
write_files:
  - path: /etc/ssh/sshd_config.d/00-django-ha.conf
    permissions: "0644"
    owner: root:root
${dropIn(2222)}`,
    );
  });

  it("writes exactly the file the bootstrap writes (same path, same content: the bootstrap finds nothing to change)", () => {
    const doc = YAML.parse(renderUserData({ sshPublicKeys: [KEY], user: "admin", port: 2200 }));
    const ctx = fixtureContext({ inventory: fixtureInventory({ ssh: { user: "admin", port: 2200 } }) });
    const sshd = renderNodePlan(ctx.inventory.nodes[0], ctx).actions.find((a) => a.kind === "file" && a.file.path === SSHD_DROP_IN);
    assert.ok(sshd && sshd.kind === "file");
    assert.deepEqual(doc.write_files, [
      { path: sshd.file.path, permissions: sshd.file.mode, owner: `${sshd.file.owner}:${sshd.file.group}`, content: sshd.file.content },
    ]);
  });

  it(
    "is valid cloud-config for the nodes' cloud-init (`cloud-init schema` in the lab image), which refuses a broken document",
    { timeout: IMAGE_NODE_TIMEOUT_MS },
    async (t) => {
      const node = await bootImageNode();
      t.after(() => node.stop());
      const schema = (text: string) => {
        node.write("/var/tmp/user-data", text);
        return node.run(["cloud-init", "schema", "--config-file", "/var/tmp/user-data"]);
      };
      for (const user of ["root", "admin", "deploy"]) {
        const r = schema(renderUserData({ sshPublicKeys: [KEY], user, port: 2222 }));
        assert.equal(r.status, 0, `${user}: ${r.out}`);
        assert.match(r.out, /Valid schema/);
      }
      const broken = schema("#cloud-config\nusers: [{name: deploy, sudo: 3}]\nwrite_files: [{content: x}]\n");
      assert.equal(broken.status, 1);
      assert.match(broken.out, /write_files\.0: 'path' is a required property/);
    },
  );
});

describe("planCluster", () => {
  it("puts exactly the children in the record", () => {
    const plan = planCluster(parseClusterSpec(awsConfig(5)));
    assert.deepEqual(
      plan.record.members.map((m) => m.name),
      ["shop-child-1", "shop-child-2", "shop-child-3", "shop-child-4", "shop-child-5"],
    );
    assert.equal(plan.record.fqdn, "www.example.com");
    assert.equal(plan.record.relativeName, "www");
  });
});
