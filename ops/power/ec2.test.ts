import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import {
  DescribeInstancesCommand,
  EC2Client,
  type InstanceStateName,
  StartInstancesCommand,
  StopInstancesCommand,
} from "@aws-sdk/client-ec2";
import { mockClient } from "aws-sdk-client-mock";
import { UserError } from "../../model/errors";
import { Ec2Power } from "./ec2";

const PARENT = "i-0123456789abcdef0";
const client = new EC2Client({ region: "eu-central-1", credentials: { accessKeyId: "AKIATEST", secretAccessKey: "test" } });
const ec2 = mockClient(client);
const state = (name: InstanceStateName) => ({ Reservations: [{ Instances: [{ InstanceId: PARENT, State: { Name: name } }] }] });
const power = (extra: Partial<ConstructorParameters<typeof Ec2Power>[0]> = {}) =>
  new Ec2Power({
    instances: { parent: PARENT, standby: "i-0fedcba9876543210" },
    client,
    region: "eu-central-1",
    minPollSeconds: 1,
    maxWaitSeconds: 3,
    ...extra,
  });
const inputs = (command: typeof StopInstancesCommand | typeof StartInstancesCommand) =>
  ec2.commandCalls(command).map((c) => c.args[0].input);

describe("EC2 power adapter (aws-sdk-client-mock)", () => {
  beforeEach(() => {
    ec2.reset();
    ec2.on(StopInstancesCommand).resolves({}).on(StartInstancesCommand).resolves({});
  });

  it("fences with StopInstances Force + SkipOsShutdown and waits until stopped", async () => {
    ec2.on(DescribeInstancesCommand).resolvesOnce(state("running")).resolves(state("stopped"));
    await power().fence("parent");
    assert.deepEqual(inputs(StopInstancesCommand), [{ InstanceIds: [PARENT], Force: true, SkipOsShutdown: true }]);
    assert.deepEqual(
      ec2.commandCalls(DescribeInstancesCommand).map((c) => c.args[0].input),
      [{ InstanceIds: [PARENT] }, { InstanceIds: [PARENT] }],
    );
  });

  it("without skipOsShutdown sends Force only", async () => {
    ec2.on(DescribeInstancesCommand).resolvesOnce(state("stopping")).resolves(state("stopped"));
    await power({ skipOsShutdown: false }).fence("parent");
    assert.deepEqual(inputs(StopInstancesCommand), [{ InstanceIds: [PARENT], Force: true }]);
  });

  it("fence is a no-op on a stopped instance; stopping still counts as running", async () => {
    ec2.on(DescribeInstancesCommand).resolves(state("stopped"));
    await power().fence("parent");
    assert.deepEqual(inputs(StopInstancesCommand), []);
    assert.equal(await power().isRunning("parent"), false);
    ec2.on(DescribeInstancesCommand).resolves(state("stopping"));
    assert.equal(await power().isRunning("parent"), true);
  });

  it("starts a stopped instance and waits until running; a running one is left alone", async () => {
    ec2.on(DescribeInstancesCommand).resolvesOnce(state("stopped")).resolves(state("running"));
    await power().start("parent");
    assert.deepEqual(inputs(StartInstancesCommand), [{ InstanceIds: [PARENT] }]);
    ec2.reset();
    ec2.on(DescribeInstancesCommand).resolves(state("running"));
    await power().start("parent");
    assert.deepEqual(inputs(StartInstancesCommand), []);
  });

  it("reports a fence that does not finish, and refuses to start a terminated instance", async () => {
    ec2.on(DescribeInstancesCommand).resolves(state("stopping"));
    await assert.rejects(
      power().fence("parent"),
      (e: unknown) => e instanceof UserError && /did not reach "stopped" within 3 s .*do not treat it as fenced/.test(e.message),
    );
    ec2.on(DescribeInstancesCommand).resolves(state("terminated"));
    await assert.rejects(power().start("parent"), /is terminated and cannot start again/);
  });

  it("refuses unknown nodes and malformed ids before any call", async () => {
    await assert.rejects(
      power().fence("child-1"),
      (e: unknown) => e instanceof UserError && /does not know node "child-1"; known nodes: parent, standby/.test(e.message),
    );
    assert.equal(ec2.calls().length, 0);
    assert.throws(() => power({ instances: { parent: "i-123" } }), /parent = "i-123": not a valid id/);
  });
});
