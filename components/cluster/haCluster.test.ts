import assert from "node:assert/strict";
import * as net from "node:net";
import { describe, it } from "node:test";
import { ConfigError, Inventory, parseClusterSpec, planNodes } from "../../model";
import { ADMIN_CIDRS, configFor, Provider, SSH_KEY, TEST_SECRETS } from "../../test/configs";
import { md5Fingerprint, MOCK_AMI_ID, ProgramRun, runProgram } from "../plan/offlineEngine";
import { renderUserData } from "../plan";

const OTHER_KEY = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDocumentationOnly second@example";
import { ANYWHERE, firewallViolations, machines, openings } from "../../test/policy";

const ofType = (run: ProgramRun, type: string) => run.resources.filter((r) => r.type === type);

/** Resource counts by type each target must register for N children (Z = availability zones on AWS). */
function expectedCounts(provider: Provider, n: number, zones: number, adminCidrs: number): Record<string, number> {
  const base = { "django-ha:cluster:HaCluster": 1, "django-ha:secrets:ClusterSecrets": 1, "random:index/randomPassword:RandomPassword": 5 };
  const machinesCount = n + 3;
  switch (provider) {
    case "digitalocean":
      return {
        ...base,
        "django-ha:digitalocean:Machines": 1,
        "django-ha:digitalocean:Node": machinesCount,
        "digitalocean:index/tag:Tag": 6, // cluster, database machines, 4 roles
        "digitalocean:index/sshKey:SshKey": 1,
        "digitalocean:index/vpc:Vpc": 1,
        "digitalocean:index/droplet:Droplet": machinesCount,
        "digitalocean:index/volume:Volume": 4,
        "digitalocean:index/volumeAttachment:VolumeAttachment": 4,
        "digitalocean:index/firewall:Firewall": 3,
        "digitalocean:index/dnsRecord:DnsRecord": n,
      };
    case "aws":
      return {
        ...base,
        "django-ha:aws:Machines": 1,
        "django-ha:aws:Network": 1,
        "django-ha:aws:SecurityGroups": 1,
        "django-ha:aws:Node": machinesCount,
        "django-ha:aws:RoundRobinRecord": 1,
        "aws:ec2/vpc:Vpc": 1,
        "aws:ec2/internetGateway:InternetGateway": 1,
        "aws:ec2/routeTable:RouteTable": 1,
        "aws:ec2/subnet:Subnet": zones,
        "aws:ec2/routeTableAssociation:RouteTableAssociation": zones,
        "aws:ec2/securityGroup:SecurityGroup": 3,
        // SSH per admin CIDR + 80/443 over IPv4 and IPv6 + SSH between the database nodes
        // + PostgreSQL, NFS (2049, rpcbind tcp/udp, mountd) and Redis from members
        // + ICMP from anywhere on every node: 4 IPv4 types, 5 ICMPv6 types.
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": adminCidrs + 4 + 1 + 6 + 9,
        "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": 2,
        "aws:ec2/instance:Instance": machinesCount,
        "aws:ec2/eip:Eip": machinesCount,
        "aws:ebs/volume:Volume": 4,
        "aws:ec2/volumeAttachment:VolumeAttachment": 4,
        "aws:route53/healthCheck:HealthCheck": n,
        "aws:route53/record:Record": n,
      };
    case "hosts":
      return { ...base, "django-ha:hosts:Machines": 1 };
    default: {
      const never: never = provider;
      throw new Error(String(never));
    }
  }
}

/** Public addresses of the record's members as the provider resources publish them, sorted. */
function publishedMembers(run: ProgramRun): string[] {
  const doRecords = ofType(run, "digitalocean:index/dnsRecord:DnsRecord").map((r) => String(r.inputs.value));
  const awsRecords = ofType(run, "aws:route53/record:Record").flatMap((r) => r.inputs.records as string[]);
  return [...doRecords, ...awsRecords].sort();
}

for (const provider of ["digitalocean", "aws", "hosts"] as const) {
  for (const n of [1, 3, 10]) {
    describe(`program: ${provider}, ${n} ${n === 1 ? "child" : "children"}`, () => {
      const config = configFor(provider, n);
      const spec = parseClusterSpec(config);
      let run: ProgramRun;
      const load = async () => (run ??= await runProgram(config, { secrets: TEST_SECRETS }));

      it("registers exactly the expected resources", async () => {
        const r = await load();
        assert.equal(r.error, undefined);
        const seen: Record<string, number> = {};
        for (const res of r.resources) seen[res.type] = (seen[res.type] ?? 0) + 1;
        assert.deepEqual(seen, expectedCounts(provider, n, spec.zones.length, ADMIN_CIDRS.length));
      });

      it("parents every resource under the cluster and names it after its parent", async () => {
        const r = await load();
        const roots = r.resources.filter((res) => !res.parent);
        assert.deepEqual(
          roots.map((res) => res.type),
          ["django-ha:cluster:HaCluster"],
        );
        for (const res of r.resources) {
          if (res.parent) assert.ok(res.name.startsWith(`${res.parent}-`), `${res.name} is not named after ${res.parent}`);
          if (!res.custom) assert.match(res.type, /^django-ha:[a-z]+:[A-Z][A-Za-z]+$/);
        }
      });

      it("exports a complete inventory", async () => {
        const r = await load();
        const inv = r.outputs.inventory as Inventory;
        const planned = planNodes(spec);
        assert.equal(inv.nodes.length, n + 3);
        assert.deepEqual(
          inv.nodes.map((x) => [x.name, x.role, x.zone]),
          planned.map((p) => [p.name, p.role, p.zone]),
        );
        for (const node of inv.nodes) {
          assert.ok(net.isIP(node.publicAddress), `${node.name} public address ${node.publicAddress}`);
          assert.ok(net.isIP(node.privateAddress), `${node.name} private address ${node.privateAddress}`);
        }
        assert.equal(new Set(inv.nodes.map((x) => x.privateAddress)).size, n + 3, "private addresses are unique");
        assert.equal(inv.primary, planned.find((p) => p.role === "parent")!.name);
        assert.equal(inv.standby, planned.find((p) => p.role === "standby")!.name);
        assert.equal(inv.recordFqdn, "www.example.com");
        assert.equal(inv.ttl, 30);
        assert.equal(inv.provider, provider);
        assert.equal(inv.primaryHostname, "primary.shop.internal");
        assert.equal(inv.dns.kind, { digitalocean: "digitalocean", aws: "route53", hosts: "rfc2136" }[provider]);
        if (inv.dns.kind === "route53") assert.equal(inv.dns.hostedZoneId, "Z0MOCKHOSTEDZONE");
        assert.equal(r.outputs.recordFqdn, "www.example.com");
        assert.equal(r.outputs.url, "https://www.example.com/");
      });

      it("marks the secrets secret in state", async () => {
        const r = await load();
        const secrets = r.outputs.secrets as Record<string, string>;
        assert.deepEqual(Object.keys(secrets).sort(), [
          "dbPassword",
          "djangoSecretKey",
          "redisPassword",
          "replicationPassword",
          "tlsPassphrase",
        ]);
        for (const v of Object.values(secrets)) assert.ok(v.length >= 32);
        const expected = provider === "hosts" ? ["dnsUpdateKey", "secrets"] : ["secrets"];
        assert.deepEqual(r.secretOutputs.sort(), expected);
        assert.ok(!r.secretOutputs.includes("inventory"));
        for (const p of ofType(r, "random:index/randomPassword:RandomPassword")) assert.equal(p.inputs.special, false);
      });

      it("puts exactly the children in the round-robin record, with the configured TTL", async () => {
        const r = await load();
        const inv = r.outputs.inventory as Inventory;
        const children = inv.nodes.filter((x) => x.role === "child");
        const others = inv.nodes.filter((x) => x.role !== "child").map((x) => x.publicAddress);
        if (provider === "hosts") {
          assert.deepEqual(
            r.resources.filter((x) => x.custom && !x.type.startsWith("random:")).map((x) => x.type),
            [],
            "the hosts target creates no machines, firewalls or records",
          );
          return;
        }
        assert.deepEqual(publishedMembers(r), children.map((c) => c.publicAddress).sort());
        for (const a of others) assert.ok(!publishedMembers(r).includes(a), `${a} (not a child) is in the record`);
        for (const rec of [...ofType(r, "digitalocean:index/dnsRecord:DnsRecord"), ...ofType(r, "aws:route53/record:Record")]) {
          assert.equal(rec.inputs.ttl, 30);
          assert.equal(rec.inputs.type, "A");
        }
      });

      it("opens nothing but 80/443 on children, SSH from the admin CIDRs (and between the database nodes), data ports to members, and ping and ICMP errors from anywhere", async () => {
        const r = await load();
        if (provider === "hosts") return assert.deepEqual(openings(r), []);
        const list = openings(r);
        assert.deepEqual(firewallViolations(list, ADMIN_CIDRS), []);
        const nodes = machines(r);
        assert.equal(nodes.length, n + 3);
        for (const node of nodes) {
          const on = list.filter((o) => o.node === node.name);
          const sourcesOf = (port: string, protocol = "tcp") =>
            on
              .filter((o) => o.port === port && o.protocol === protocol)
              .flatMap((o) => o.sources)
              .sort();
          const database = node.role === "parent" || node.role === "standby";
          const ssh = database ? [...ADMIN_CIDRS, "role:parent", "role:standby"] : ADMIN_CIDRS;
          assert.deepEqual(sourcesOf("22"), [...ssh].sort(), `${node.name}: SSH from the admin CIDRs (and between the database nodes)`);
          const web = node.role === "child" ? [...ANYWHERE].sort() : [];
          assert.deepEqual(sourcesOf("80"), web, `${node.name}: port 80`);
          assert.deepEqual(sourcesOf("443"), web, `${node.name}: port 443`);
          const data = database ? ["members"] : [];
          for (const port of ["5432", "2049", "6379", "111", "20048"])
            assert.deepEqual(sourcesOf(port), data, `${node.name}: port ${port}`);
          assert.deepEqual(sourcesOf("111", "udp"), data, `${node.name}: rpcbind over UDP`);
          // Ping and path-MTU discovery's errors from anywhere, on every node (DigitalOcean: all ICMP).
          const icmp = on.filter((o) => o.protocol.startsWith("icmp")).map((o) => `${o.protocol} ${o.port} ${o.sources.join(",")}`);
          if (provider === "digitalocean") assert.deepEqual(icmp, ["icmp all 0.0.0.0/0,::/0"], node.name);
          else
            assert.deepEqual(
              icmp.sort(),
              [
                "icmp type 11 0.0.0.0/0",
                "icmp type 12 0.0.0.0/0",
                "icmp type 3 0.0.0.0/0",
                "icmp type 8 0.0.0.0/0",
                "icmpv6 type 1 ::/0",
                "icmpv6 type 128 ::/0",
                "icmpv6 type 2 ::/0",
                "icmpv6 type 3 ::/0",
                "icmpv6 type 4 ::/0",
              ],
              node.name,
            );
        }
      });

      it("spreads the machines over the zones", async () => {
        const r = await load();
        const inv = r.outputs.inventory as Inventory;
        const zoneOf = (role: string) => inv.nodes.find((x) => x.role === role)!.zone;
        if (spec.zones.length > 1) assert.notEqual(zoneOf("parent"), zoneOf("standby"));
        const perZone = new Map(spec.zones.map((z) => [z, 0]));
        for (const c of inv.nodes.filter((x) => x.role === "child")) perZone.set(c.zone, (perZone.get(c.zone) ?? 0) + 1);
        if (provider !== "hosts") {
          const counts = [...perZone.values()];
          assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `children per zone ${JSON.stringify([...perZone])}`);
        }
        if (provider === "aws") {
          const subnets = ofType(r, "aws:ec2/subnet:Subnet");
          assert.deepEqual(subnets.map((s) => s.inputs.availabilityZone).sort(), [...spec.zones].sort());
          const zoneOfSubnet = new Map(subnets.map((s) => [s.id, s.inputs.availabilityZone]));
          const instances = ofType(r, "aws:ec2/instance:Instance");
          for (const i of instances) assert.equal(zoneOfSubnet.get(String(i.inputs.subnetId)), i.inputs.availabilityZone);
          const zoneOfInstance = new Map(instances.map((i) => [i.id, i.inputs.availabilityZone]));
          const volumeZone = new Map(ofType(r, "aws:ebs/volume:Volume").map((v) => [v.id, v.inputs.availabilityZone]));
          for (const a of ofType(r, "aws:ec2/volumeAttachment:VolumeAttachment")) {
            assert.equal(
              volumeZone.get(String(a.inputs.volumeId)),
              zoneOfInstance.get(String(a.inputs.instanceId)),
              `${a.name}: EBS in its instance's zone`,
            );
          }
        }
      });

      if (provider !== "hosts") {
        it("chains each machine's volume attachments (one provider action per machine at a time)", async () => {
          const r = await load();
          const attachments = r.resources.filter((x) => x.type.endsWith("/volumeAttachment:VolumeAttachment"));
          assert.equal(attachments.length, 4);
          for (const share of attachments.filter((a) => a.name.endsWith("-share-attachment"))) {
            const db = share.name.replace(/-share-attachment$/, "-db-attachment");
            assert.ok(share.dependsOn.includes(db), `${share.name} waits for ${db}: ${share.dependsOn.join(", ")}`);
          }
          for (const db of attachments.filter((a) => a.name.endsWith("-db-attachment"))) {
            assert.ok(!db.dependsOn.some((d) => d.endsWith("-attachment")), `${db.name} is first`);
          }
        });

        it("protects the data volumes (DB and share) and nothing else", async () => {
          const r = await load();
          const protectedNames = r.resources
            .filter((x) => x.protect)
            .map((x) => x.name)
            .sort();
          const volumes = r.resources
            .filter((x) => /(ebs\/volume:Volume|index\/volume:Volume)$/.test(x.type))
            .map((x) => x.name)
            .sort();
          assert.equal(volumes.length, 4);
          assert.deepEqual(protectedNames, volumes);
        });
      }

      if (provider === "digitalocean") {
        it("uses the Debian 13 slug, numeric droplet ids and volumes only on parent and standby", async () => {
          const r = await load();
          for (const d of ofType(r, "digitalocean:index/droplet:Droplet")) {
            assert.equal(d.inputs.image, "debian-13-x64");
            assert.equal(d.inputs.region, "nyc3");
            assert.equal(
              d.inputs.userData,
              renderUserData({ sshPublicKeys: spec.sshPublicKeys, user: spec.ssh.user, port: spec.ssh.port }),
            );
          }
          const attachments = ofType(r, "digitalocean:index/volumeAttachment:VolumeAttachment");
          for (const a of attachments) assert.equal(typeof a.inputs.dropletId, "number");
          const dropletOf = new Map(ofType(r, "digitalocean:index/droplet:Droplet").map((d) => [Number(d.id), String(d.inputs.name)]));
          assert.deepEqual([...new Set(attachments.map((a) => dropletOf.get(a.inputs.dropletId as number)))].sort(), [
            "shop-db-1",
            "shop-db-2",
          ]);
          for (const fw of ofType(r, "digitalocean:index/firewall:Firewall"))
            assert.equal(fw.inputs.dropletIds, undefined, "firewalls target tags, not droplet ids");
          const sizes = Object.fromEntries(ofType(r, "digitalocean:index/droplet:Droplet").map((d) => [d.inputs.name, d.inputs.size]));
          assert.equal(sizes["shop-db-1"], spec.sizes.db);
          assert.equal(sizes["shop-db-2"], spec.sizes.db);
          assert.equal(sizes["shop-child-1"], spec.sizes.child);
          assert.deepEqual(
            ofType(r, "digitalocean:index/volume:Volume")
              .map((v) => v.inputs.size)
              .sort(),
            [20, 20, 50, 50],
          );
        });
      }

      if (provider === "digitalocean" && n === 3) {
        it("gives every droplet the stack's keys as DigitalOcean SSH keys (so no root password is e-mailed)", async () => {
          const r = await runProgram(configFor(provider, n, { sshPublicKeys: [SSH_KEY, OTHER_KEY] }), { secrets: TEST_SECRETS });
          const keys = ofType(r, "digitalocean:index/sshKey:SshKey");
          assert.deepEqual(
            keys.map((k) => k.inputs.publicKey),
            [SSH_KEY, OTHER_KEY],
          );
          assert.deepEqual(
            keys.map((k) => k.inputs.name),
            ["shop-test-admin-1", "shop-test-admin-2"],
            "<cluster>-<stack>-admin-N",
          );
          const fingerprints = keys.map((k) => k.state.fingerprint);
          assert.deepEqual(fingerprints, [md5Fingerprint(SSH_KEY), md5Fingerprint(OTHER_KEY)]);
          const droplets = ofType(r, "digitalocean:index/droplet:Droplet");
          assert.equal(droplets.length, n + 3);
          for (const d of droplets) {
            assert.deepEqual(d.inputs.sshKeys, fingerprints, `${d.inputs.name}`);
            for (const k of keys) assert.ok(d.dependsOn.includes(k.name), `${d.inputs.name} waits for ${k.name}`);
          }
        });
      }

      if (provider === "aws" && n === 3) {
        it("gives every instance the same user data (keys, user, port) and no AWS key pair", async () => {
          const r = await runProgram(configFor(provider, n, { sshUser: "deploy", sshPort: 2222 }), { secrets: TEST_SECRETS });
          for (const i of ofType(r, "aws:ec2/instance:Instance")) {
            assert.equal(i.inputs.userData, renderUserData({ sshPublicKeys: [SSH_KEY], user: "deploy", port: 2222 }));
            assert.equal(i.inputs.keyName, undefined);
          }
        });
      }

      if (provider === "aws") {
        it("health-checks every child over HTTPS on /health/ with a multivalue answer each", async () => {
          const r = await load();
          const checks = ofType(r, "aws:route53/healthCheck:HealthCheck");
          const records = ofType(r, "aws:route53/record:Record");
          assert.equal(new Set(records.map((x) => x.inputs.setIdentifier)).size, n);
          const checkIds = new Set(checks.map((c) => c.id));
          for (const rec of records) {
            assert.equal(rec.inputs.multivalueAnswerRoutingPolicy, true);
            assert.equal(rec.inputs.name, "www.example.com");
            assert.equal(rec.inputs.zoneId, "Z0MOCKHOSTEDZONE");
            assert.ok(checkIds.has(String(rec.inputs.healthCheckId)));
            const check = checks.find((c) => c.id === rec.inputs.healthCheckId)!;
            assert.deepEqual(rec.inputs.records, [check.inputs.ipAddress]);
          }
          for (const c of checks) {
            assert.equal(c.inputs.type, "HTTPS");
            assert.equal(c.inputs.port, 443);
            assert.equal(c.inputs.resourcePath, "/health/");
          }
          for (const i of ofType(r, "aws:ec2/instance:Instance")) {
            assert.equal(i.inputs.ami, MOCK_AMI_ID);
            assert.equal(i.inputs.region, "eu-west-1");
          }
          const ami = r.calls.find((c) => c.token === "aws:ec2/getAmi:getAmi")!;
          assert.deepEqual(ami.inputs.owners, ["136693071363"]);
          assert.deepEqual(ami.inputs.filters, [
            { name: "name", values: ["debian-13-amd64-*"] },
            { name: "architecture", values: ["x86_64"] },
          ]);
        });
      }
    });
  }
}

describe("program: invalid config", () => {
  it("throws a ConfigError and registers zero resources", async () => {
    for (const [overrides, expected] of [
      [{ childCount: 0 }, /django-ha:childCount = 0: must be at least 1/],
      [{ ttl: 10 }, /django-ha:ttl = 10: is below digitalocean's minimum of 30 s; set it to 30/],
      [{ adminCidrs: ["0.0.0.0/0"] }, /django-ha:adminCidrs\[0\] = "0.0.0.0\/0": opens SSH to the whole Internet/],
    ] as const) {
      const run = await runProgram(configFor("digitalocean", 2, overrides), { secrets: TEST_SECRETS });
      assert.ok(run.error instanceof ConfigError, String(run.error));
      assert.match(run.error.message, expected);
      assert.equal(run.resources.length, 0);
      assert.deepEqual(run.outputs, {});
    }
  });

  it("refuses a hosts stack without the TSIG secret before registering anything", async () => {
    const run = await runProgram(configFor("hosts", 2));
    assert.match(String(run.error), /dnsTsigSecret/);
    assert.equal(run.resources.length, 0);
  });

  it("decodes Pulumi's string config as the schema expects (a numeric-looking cluster name stays a string)", async () => {
    const run = await runProgram(configFor("aws", 1, { clusterName: "123" }));
    assert.equal(run.error, undefined);
    assert.equal((run.outputs.inventory as Inventory).cluster, "123");
  });
});
