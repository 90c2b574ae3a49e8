import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError } from "../../model";
import { decodePulumiConfig, specFromPulumiConfig } from "./config";

describe("decodePulumiConfig", () => {
  it("parses JSON for structured keys and keeps strings for string keys", () => {
    assert.deepEqual(
      decodePulumiConfig({
        "django-ha:ttl": "60",
        "django-ha:clusterName": "007",
        "django-ha:adminCidrs": '["203.0.113.7/32"]',
        "django-ha:allowSshFromAnywhere": "true",
        "django-ha:provider": "aws",
        "django-ha:region": "eu-west-1",
      }),
      {
        "django-ha:ttl": 60,
        "django-ha:clusterName": "007",
        "django-ha:adminCidrs": ["203.0.113.7/32"],
        "django-ha:allowSshFromAnywhere": true,
        "django-ha:provider": "aws",
        "django-ha:region": "eu-west-1",
      },
    );
  });

  it("passes non-JSON values on as given, so the schema names them", () => {
    assert.deepEqual(decodePulumiConfig({ "django-ha:ttl": "thirty" }), { "django-ha:ttl": "thirty" });
    assert.throws(
      () => specFromPulumiConfig({ "django-ha:provider": "hosts", "django-ha:ttl": "thirty" }, "test"),
      (e: unknown) => e instanceof ConfigError && /django-ha:ttl = "thirty"/.test(e.message),
    );
  });

  it("ignores other namespaces", () => {
    assert.throws(
      () => specFromPulumiConfig({ "aws:region": "eu-west-1", "django-ha:provider": "aws" }, "test"),
      (e: unknown) => e instanceof ConfigError && !/aws:region/.test(e.message) && /django-ha:domain = \(not set\)/.test(e.message),
    );
  });
});
