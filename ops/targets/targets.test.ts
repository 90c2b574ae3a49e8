import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { EC2Client } from "@aws-sdk/client-ec2";
import { Route53Client } from "@aws-sdk/client-route-53";
import { hostsInventory, UserError, type Inventory } from "../../model";
import { DigitalOceanDns, Rfc2136Dns, Route53Dns } from "../dns";
import { DigitalOceanPower, Ec2Power, type PowerOperations } from "../power";
import { dnsFor, powerFor } from ".";
import { hostsStackSpec } from "../../test/hosts-spec";

/** A home without ~/.aws: only the environment given counts. */
const emptyHome = fs.mkdtempSync(path.join(os.tmpdir(), "targets-home-"));

const lab = hostsInventory(hostsStackSpec("lab"));
const inventory = (provider: Inventory["provider"], dns: Inventory["dns"]): Inventory => ({
  ...lab,
  provider,
  region: provider === "aws" ? "eu-central-1" : "fra1",
  dns,
});
const doInv = inventory("digitalocean", { kind: "digitalocean", domain: "example.com", recordName: "www" });
const awsInv = inventory("aws", { kind: "route53", hostedZoneId: "Z0123456789ABCDEFGHIJ", recordName: "www.example.com" });

function userError(pattern: RegExp): (e: unknown) => boolean {
  return (e) => {
    assert.ok(e instanceof UserError, String(e));
    assert.match(e.message, pattern);
    return true;
  };
}

describe("dnsFor", () => {
  it("each DNS target gets its adapter", () => {
    assert.ok(dnsFor(doInv, { env: { DIGITALOCEAN_TOKEN: "t" } }) instanceof DigitalOceanDns);
    assert.ok(dnsFor(awsInv, { env: { AWS_PROFILE: "ops" }, home: emptyHome }) instanceof Route53Dns);
    assert.ok(
      dnsFor(awsInv, { env: {}, home: emptyHome, route53Client: new Route53Client({ region: "us-east-1" }) }) instanceof Route53Dns,
    );
    const rfc = dnsFor(lab, { env: { DJANGO_HA_TSIG_SECRET: "c2VjcmV0" } });
    assert.ok(rfc instanceof Rfc2136Dns);
    assert.equal(rfc.describe, "rfc2136 10.231.0.2:53 zone lab.test key lab-update");
  });

  it("a missing credential is a UserError naming the variable and how to set it (and no secret)", () => {
    assert.throws(() => dnsFor(doInv, { env: {} }), userError(/^DIGITALOCEAN_TOKEN is not set: .*export DIGITALOCEAN_TOKEN=<token>/));
    assert.throws(
      () => dnsFor(awsInv, { env: {}, home: emptyHome }),
      userError(/^No AWS credentials: set AWS_PROFILE=<profile>.*export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/),
    );
    assert.throws(
      () => dnsFor(lab, { env: {}, stack: "lab" }),
      userError(/^DJANGO_HA_TSIG_SECRET is not set: .*pulumi config get --stack lab django-ha:dnsTsigSecret/),
    );
  });

  it("AWS credentials in a shared file count (the SDK's default chain reads it)", () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), "targets-aws-"));
    fs.mkdirSync(path.join(home, ".aws"));
    fs.writeFileSync(path.join(home, ".aws", "credentials"), "[default]\n");
    try {
      assert.ok(dnsFor(awsInv, { env: {}, home }) instanceof Route53Dns);
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
    }
  });
});

describe("powerFor", () => {
  it("each provider gets its adapter; hosts gets the one the caller injects", () => {
    assert.ok(powerFor(doInv, { env: { DIGITALOCEAN_TOKEN: "t" }, machineIds: { "lab-db-1": "412345678" } }) instanceof DigitalOceanPower);
    const ec2 = powerFor(awsInv, {
      env: { AWS_ACCESS_KEY_ID: "AKIA" },
      home: emptyHome,
      machineIds: { "lab-db-1": "i-0123456789abcdef0" },
    });
    assert.ok(ec2 instanceof Ec2Power);
    assert.equal(ec2.describe, "ec2 instance power in eu-central-1");
    assert.ok(
      powerFor(awsInv, {
        env: {},
        home: emptyHome,
        ec2Client: new EC2Client({ region: "eu-central-1" }),
        machineIds: { "lab-db-1": "i-0123456789abcdef0" },
      }) instanceof Ec2Power,
    );
    const injected: PowerOperations = { describe: "test power", fence: async () => {}, start: async () => {}, isRunning: async () => true };
    assert.equal(powerFor(lab, { hostsPower: injected }), injected);
  });

  it("a missing credential or machine id map is a UserError saying what to do", () => {
    assert.throws(() => powerFor(doInv, { env: {}, machineIds: { "lab-db-1": "1" } }), userError(/^DIGITALOCEAN_TOKEN is not set/));
    assert.throws(
      () => powerFor(awsInv, { env: {}, home: emptyHome, machineIds: { "lab-db-1": "i-0123456789abcdef0" } }),
      userError(/^No AWS credentials/),
    );
    assert.throws(
      () => powerFor(doInv, { env: { DIGITALOCEAN_TOKEN: "t" }, stack: "prod" }),
      userError(/^Stack prod \(digitalocean\): no machine ids.*droplet id map/),
    );
    assert.throws(() => powerFor(lab, { stack: "edge" }), userError(/^Stack edge \(hosts\) has no power operations: .*Fence by hand/));
  });
});
