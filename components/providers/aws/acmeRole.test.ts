import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { awsConfig, digitaloceanConfig, TEST_SECRETS } from "../../../test/configs";
import { MOCK_HOSTED_ZONE_ID, runProgram } from "../../plan/offlineEngine";
import { acmeRoute53Policy } from "./acmeRole";

const dns01 = { certificate: { challenge: "dns-01" } };

describe("AWS DNS-01: the database machines' instance role", () => {
  it("the policy: record changes in the one zone only when every change is a TXT _acme-challenge record; list the zone; wait for changes", () => {
    const p = acmeRoute53Policy("Z0MOCKHOSTEDZONE");
    const change = p.Statement.find((s) => s.Action === "route53:ChangeResourceRecordSets")!;
    assert.equal(change.Resource, "arn:aws:route53:::hostedzone/Z0MOCKHOSTEDZONE");
    assert.deepEqual(change.Condition, {
      "ForAllValues:StringLike": { "route53:ChangeResourceRecordSetsNormalizedRecordNames": ["_acme-challenge.*"] },
      "ForAllValues:StringEquals": { "route53:ChangeResourceRecordSetsRecordTypes": ["TXT"] },
    });
    assert.deepEqual(
      p.Statement.map((s) => [s.Action, s.Resource]),
      [
        ["route53:ChangeResourceRecordSets", "arn:aws:route53:::hostedzone/Z0MOCKHOSTEDZONE"],
        ["route53:ListResourceRecordSets", "arn:aws:route53:::hostedzone/Z0MOCKHOSTEDZONE"],
        ["route53:GetChange", "arn:aws:route53:::change/*"],
      ],
    );
    assert.ok(
      p.Statement.every((s) => !String(s.Action).includes("*") && s.Resource !== "*"),
      "no wildcard action, no account-wide resource",
    );
    assert.equal(acmeRoute53Policy("/hostedzone/Z1").Statement[0].Resource, "arn:aws:route53:::hostedzone/Z1");
  });

  it("with dns-01: one role, its policy on the record's hosted zone, an instance profile on exactly the two database machines", async () => {
    const run = await runProgram(awsConfig(3, dns01), { secrets: TEST_SECRETS });
    assert.equal(run.error, undefined, String(run.error));
    const of = (t: string) => run.resources.filter((r) => r.type === t);
    assert.equal(of("aws:iam/role:Role").length, 1);
    const trust = JSON.parse(String(of("aws:iam/role:Role")[0].inputs.assumeRolePolicy));
    assert.deepEqual(trust.Statement[0].Principal, { Service: "ec2.amazonaws.com" });
    const policy = JSON.parse(String(of("aws:iam/rolePolicy:RolePolicy")[0].inputs.policy));
    assert.deepEqual(policy, acmeRoute53Policy(MOCK_HOSTED_ZONE_ID));
    const profile = of("aws:iam/instanceProfile:InstanceProfile");
    assert.equal(profile.length, 1);
    const instances = of("aws:ec2/instance:Instance");
    const withProfile = instances.filter((i) => i.inputs.iamInstanceProfile === profile[0].state.name);
    assert.equal(withProfile.length, 2);
    assert.ok(
      withProfile.every((i) => /db-[12]/.test(i.name)),
      withProfile.map((i) => i.name).join(", "),
    );
  });

  it("http-01 (the default) creates no IAM at all, and DigitalOcean never does", async () => {
    for (const config of [awsConfig(2), digitaloceanConfig(2, dns01)]) {
      const run = await runProgram(config, { secrets: { ...TEST_SECRETS, acmeDnsToken: "dop_v1_test" } });
      assert.equal(run.error, undefined, String(run.error));
      assert.equal(run.resources.filter((r) => r.type.startsWith("aws:iam/")).length, 0);
      assert.ok(run.resources.filter((r) => r.type === "aws:ec2/instance:Instance").every((i) => !("iamInstanceProfile" in i.inputs)));
    }
  });
});
