import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import YAML from "yaml";
import { specFromPulumiConfig } from "../components/cluster/config";
import { hostsConfig, TEST_SECRETS } from "../test/configs";
import { runProgram } from "../components/plan/offlineEngine";
import { ConfigError, decodeStackConfig, loadStackSpec, parseClusterSpec, pulumiConfigText } from ".";

/** A stack file in a temp dir with `config` (full keys), and what the Pulumi CLI would hand the program for it. */
function stackFileOf(config: Record<string, unknown>): { dir: string; pulumiStrings: Record<string, string> } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "decode-"));
  fs.writeFileSync(path.join(dir, "Pulumi.s.yaml"), YAML.stringify({ config }));
  const pulumiStrings = Object.fromEntries(Object.entries(config).map(([k, v]) => [k, pulumiConfigText(v) as string]));
  return { dir, pulumiStrings };
}

const prefixed = (config: Record<string, unknown>) => Object.fromEntries(Object.entries(config).map(([k, v]) => [`django-ha:${k}`, v]));

describe("one decoder for the offline plan and pulumi up", () => {
  // Quoted numbers and booleans: YAML reads them as strings, the Pulumi CLI passes every value as a string.
  const quoted = prefixed(
    hostsConfig(2, { ttl: "30", sshPort: "2222", allowSshFromAnywhere: "true", adminCidrs: ["0.0.0.0/0"], clusterName: "007" }),
  );
  const typed = prefixed(
    hostsConfig(2, { ttl: 30, sshPort: 2222, allowSshFromAnywhere: true, adminCidrs: ["0.0.0.0/0"], clusterName: "007" }),
  );

  it("decodes quoted numbers and booleans to the same spec through both paths", () => {
    const q = stackFileOf(quoted);
    const t = stackFileOf(typed);
    const planQuoted = loadStackSpec("s", q.dir);
    const planTyped = loadStackSpec("s", t.dir);
    const upQuoted = specFromPulumiConfig(q.pulumiStrings, "s", () => true);
    const upTyped = specFromPulumiConfig(t.pulumiStrings, "s", () => true);
    assert.equal(planQuoted.ttl, 30);
    assert.equal(planQuoted.ssh.port, 2222);
    assert.equal(planQuoted.allowSshFromAnywhere, true);
    assert.equal(planQuoted.clusterName, "007", "a string key stays text");
    assert.deepEqual(planTyped, planQuoted);
    assert.deepEqual(upQuoted, planQuoted);
    assert.deepEqual(upTyped, planQuoted);
  });

  it("gives the program the same inventory for quoted and typed values (pulumi up under mocks)", async () => {
    const config = (all: Record<string, unknown>) =>
      Object.fromEntries(Object.entries(all).map(([k, v]) => [k.slice("django-ha:".length), pulumiConfigText(v)]));
    const a = await runProgram(config(quoted), { stack: "s", secrets: TEST_SECRETS });
    const b = await runProgram(config(typed), { stack: "s", secrets: TEST_SECRETS });
    assert.equal(a.error, undefined, String(a.error));
    assert.deepEqual(a.outputs.inventory, b.outputs.inventory);
  });

  it("reports the same problem for a value that is not of its type, in both paths", () => {
    const bad = prefixed(hostsConfig(2, { ttl: "thirty", allowSshFromAnywhere: "yes" }));
    const f = stackFileOf(bad);
    const messageOf = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        assert.ok(e instanceof ConfigError, String(e));
        return e.issues.map((i) => `${i.key} = ${i.value}: ${i.fix}`).sort();
      }
      assert.fail("no ConfigError");
    };
    const plan = messageOf(() => loadStackSpec("s", f.dir));
    const up = messageOf(() => specFromPulumiConfig(f.pulumiStrings, "s", () => true));
    assert.deepEqual(up, plan);
    assert.ok(
      plan.some((m) => m === 'django-ha:ttl = "thirty": must be a number: write 30 (no quotes), not "thirty"'),
      plan.join("\n"),
    );
    assert.ok(
      plan.some((m) => m === 'django-ha:allowSshFromAnywhere = "yes": must be true or false: write true (no quotes), not "yes"'),
      plan.join("\n"),
    );
  });

  it("leaves secure values and other namespaces alone", () => {
    assert.deepEqual(decodeStackConfig({ "django-ha:dnsTsigSecret": { secure: "AAAB" }, "aws:region": "eu-west-1", "django-ha:ttl": 30 }), {
      "django-ha:dnsTsigSecret": { secure: "AAAB" },
      "aws:region": "eu-west-1",
      "django-ha:ttl": 30,
    });
  });
});

describe("secrets written in plain text in a stack file", () => {
  const base = prefixed(hostsConfig(2));
  const cases: [string, Record<string, unknown>, string, RegExp][] = [
    [
      "a DigitalOcean token",
      { "digitalocean:token": "dop_v1_0123456789abcdef" },
      "digitalocean:token",
      /`pulumi config set --secret --stack s digitalocean:token {3}\(it prompts for the value\)`/,
    ],
    [
      "an AWS secret key",
      { "aws:secretKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" },
      "aws:secretKey",
      /pulumi config set --secret --stack s aws:secretKey/,
    ],
    ["an AWS session token", { "aws:token": "FwoGZXIvYXdzEXAMPLE" }, "aws:token", /pulumi config set --secret --stack s aws:token/],
    [
      "the TSIG secret",
      { "django-ha:dnsTsigSecret": "dGVzdC1vbmx5LXRzaWctc2VjcmV0" },
      "django-ha:dnsTsigSecret",
      /pulumi config set --secret --stack s django-ha:dnsTsigSecret/,
    ],
    [
      "the SSH private key",
      { "django-ha:sshPrivateKey": "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAA\n-----END OPENSSH PRIVATE KEY-----" },
      "django-ha:sshPrivateKey",
      /pulumi config set --secret --stack s django-ha:sshPrivateKey < ~\/\.ssh\/<deploy key>/,
    ],
  ];
  for (const [what, extra, key, fix] of cases) {
    it(`refuses ${what}, with the command, without showing it`, () => {
      const f = stackFileOf({ ...base, ...extra });
      assert.throws(
        () => loadStackSpec("s", f.dir),
        (e: unknown) => {
          assert.ok(e instanceof ConfigError, String(e));
          const issue = e.issues.find((i) => i.key === key);
          assert.ok(issue, e.message);
          assert.match(issue.fix, fix);
          assert.match(issue.fix, /rotate it/);
          assert.ok(
            !e.message.includes("b3BlbnNzaC1rZXktdjEAAAA") &&
              !e.message.includes("0123456789abcdef") &&
              !e.message.includes("wJalrXUtnFEMI"),
            e.message,
          );
          return true;
        },
      );
    });
  }

  it("accepts them as secure values", () => {
    const f = stackFileOf({ ...base, "digitalocean:token": { secure: "v1:AAAB" }, "django-ha:dnsTsigSecret": { secure: "v1:AAAC" } });
    assert.equal(loadStackSpec("s", f.dir).provider, "hosts");
  });

  it("lists a plain-text secret with the other problems, in one error", () => {
    const f = stackFileOf({ ...base, "aws:secretKey": "plain", "django-ha:ttl": "thirty" });
    assert.throws(
      () => loadStackSpec("s", f.dir),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.issues
          .map((i) => i.key)
          .sort()
          .join(",") === "aws:secretKey,django-ha:ttl",
    );
  });

  it("refuses a plain secret in the running program too (pulumi up under mocks)", async () => {
    const run = await runProgram(
      { ...hostsConfig(2), sshPrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----" },
      { stack: "s", secrets: TEST_SECRETS },
    );
    assert.ok(run.error instanceof ConfigError, String(run.error));
    assert.match(run.error.message, /django-ha:sshPrivateKey = \(a value in plain text, not shown\): is a secret written in plain text/);
    assert.equal(run.resources.length, 0);
    const ok = await runProgram(hostsConfig(2), {
      stack: "s",
      secrets: { ...TEST_SECRETS, sshPrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----" },
    });
    assert.equal(ok.error, undefined, String(ok.error));
  });

  it("never puts a secret key into the plain spec", () => {
    assert.equal(JSON.stringify(parseClusterSpec(hostsConfig(2))).includes("sshPrivateKey"), false);
  });
});
