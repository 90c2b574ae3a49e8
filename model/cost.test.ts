import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { awsConfig, digitaloceanConfig, hostsConfig } from "../test/configs";
import catalog from "./catalog.json";
import { estimateMonthlyCost } from "./cost";
import { parseClusterSpec } from "./parse";

describe("estimateMonthlyCost", () => {
  it("prices a DigitalOcean cluster from the table", () => {
    const est = estimateMonthlyCost(parseClusterSpec(digitaloceanConfig(3)));
    assert.ok(est.estimated);
    assert.deepEqual(
      est.lines.map((l) => [l.item, l.quantity, l.monthlyUsd]),
      [
        ["db s-2vcpu-4gb", 2, 48],
        ["child s-1vcpu-2gb", 3, 36],
        ["worker s-2vcpu-4gb", 1, 24],
        ["block storage (DB + share on both database machines)", 140, 14],
      ],
    );
    assert.equal(est.totalMonthlyUsd, 122);
    assert.equal(est.recordedOn, catalog.recordedOn);
    assert.equal(est.source, catalog.source);
  });

  it("prices an AWS cluster with addresses, health checks and the hosted zone", () => {
    const est = estimateMonthlyCost(parseClusterSpec(awsConfig(10, { sizes: { child: "t3.micro" } })));
    assert.ok(est.estimated);
    const by = Object.fromEntries(est.lines.map((l) => [l.item, l]));
    assert.equal(by["child t3.micro"].quantity, 10);
    assert.equal(by["child t3.micro"].monthlyUsd, 75.9);
    assert.equal(by["public IPv4 (Elastic IP per node)"].quantity, 13);
    assert.equal(by["Route 53 health checks (one per child)"].monthlyUsd, 5);
    assert.equal(by["EBS gp3 root disks (20 GB each)"].quantity, 260);
    assert.equal(by["Route 53 hosted zone"].monthlyUsd, 0.5);
    const sum = est.lines.reduce((s, l) => s + l.monthlyUsd, 0);
    assert.ok(Math.abs(est.totalMonthlyUsd - sum) < 0.005);
  });

  it("grows with the child count", () => {
    const total = (n: number) => {
      const e = estimateMonthlyCost(parseClusterSpec(digitaloceanConfig(n)));
      assert.ok(e.estimated);
      return e.totalMonthlyUsd;
    };
    assert.equal(total(4) - total(3), catalog.digitalocean.sizes["s-1vcpu-2gb"].monthlyUsd);
  });

  it("does not estimate existing machines", () => {
    const est = estimateMonthlyCost(parseClusterSpec(hostsConfig(2)));
    assert.deepEqual([est.estimated, !est.estimated && est.reason], [false, "existing machines, not estimated"]);
  });
});
