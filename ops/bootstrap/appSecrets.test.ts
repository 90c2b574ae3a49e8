import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { UserError } from "../../model";
import { APP_SECRETS_ENV, appSecretsFor, dryRunAppSecrets, GENERATED_APP_SECRETS_FILE } from "./appSecrets";

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "app-secrets-"));
const app = { secretKeys: ["STRIPE_KEY", "MAIL_PASSWORD"] };

describe("the app's secrets outside Pulumi", () => {
  it("none declared: nothing needed", () => {
    assert.deepEqual(appSecretsFor({ stack: "s", app: { secretKeys: [] }, stateDir: tmp(), env: {} }), {});
  });

  it("from DJANGO_HA_APP_SECRETS (the JSON of django-ha:appSecrets)", () => {
    const env = { [APP_SECRETS_ENV]: JSON.stringify({ STRIPE_KEY: "sk_1", MAIL_PASSWORD: "m" }) };
    assert.deepEqual(appSecretsFor({ stack: "s", app, stateDir: tmp(), env }), { STRIPE_KEY: "sk_1", MAIL_PASSWORD: "m" });
  });

  it("a value missing from DJANGO_HA_APP_SECRETS is refused, values not shown", () => {
    const env = { [APP_SECRETS_ENV]: JSON.stringify({ STRIPE_KEY: "sk_hidden" }) };
    assert.throws(
      () => appSecretsFor({ stack: "s", app, stateDir: tmp(), env }),
      (e: unknown) => e instanceof UserError && /has no value for MAIL_PASSWORD/.test(e.message) && !e.message.includes("sk_hidden"),
    );
    assert.throws(
      () => appSecretsFor({ stack: "s", app, stateDir: tmp(), env: { [APP_SECRETS_ENV]: "{sk_hidden" } }),
      (e: unknown) => e instanceof UserError && /not JSON \(value not shown\)/.test(e.message) && !e.message.includes("sk_hidden"),
    );
  });

  it("not set outside the lab: the next step names the export", () => {
    assert.throws(
      () => appSecretsFor({ stack: "prod", app, stateDir: tmp(), env: {} }),
      /DJANGO_HA_APP_SECRETS is not set: .*pulumi config get --stack prod django-ha:appSecrets/,
    );
  });

  it("a source that generates them (the lab) gets them generated once (0600) and kept", () => {
    const dir = tmp();
    const first = appSecretsFor({ stack: "lab", app, stateDir: dir, generateMissing: true, env: {} });
    assert.deepEqual(Object.keys(first).sort(), ["MAIL_PASSWORD", "STRIPE_KEY"]);
    assert.equal(fs.statSync(path.join(dir, GENERATED_APP_SECRETS_FILE)).mode & 0o777, 0o600);
    assert.deepEqual(appSecretsFor({ stack: "lab", app, stateDir: dir, generateMissing: true, env: {} }), first);
  });

  it("a dry run without the values renders stand-ins", () => {
    assert.deepEqual(dryRunAppSecrets({ stack: "s", app, stateDir: tmp(), env: {} }), {
      STRIPE_KEY: "notyetset",
      MAIL_PASSWORD: "notyetset",
    });
  });
});
