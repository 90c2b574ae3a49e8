import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { awsConfig, TEST_SECRETS } from "../../../test/configs";
import { runProgram } from "../../plan/offlineEngine";

describe("the app's own health path (django-ha:app.healthPath) on aws", () => {
  it("Route 53's health checks ask it, and the Bootstrap resource hands it to the certificate phase", async () => {
    const run = await runProgram(awsConfig(2, { app: { path: "./app", healthPath: "/-/health/" } }), {
      secrets: { ...TEST_SECRETS, sshPrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\n" },
    });
    assert.equal(run.error, undefined, String(run.error));
    const checks = run.resources.filter((r) => r.type === "aws:route53/healthCheck:HealthCheck");
    assert.equal(checks.length, 2);
    for (const c of checks) assert.equal(c.inputs.resourcePath, "/-/health/");
    const bootstrap = run.resources.find((r) => r.type === "pulumi-nodejs:dynamic/bootstrap:Run");
    assert.equal(bootstrap?.inputs.healthPath, "/-/health/");
  });
});
