import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { asStandby, stopOldPrimary } from "./demotion";
import { assertProgramsPassShellcheck } from "../../../test/shellcheck";

const programs = {
  stopOldPrimary: stopOldPrimary({
    unit: "postgresql@17-main",
    pgBin: "/usr/lib/postgresql/17/bin",
    pgData: "/var/lib/postgresql/17/main",
  }),
  asStandby: asStandby({ pgData: "/var/lib/postgresql/17/main", conninfo: "host=10.0.0.6 port=5432", slot: "standby" }),
};

describe("failover commands: the old primary's demotion", () => {
  it("every fixed bash program passes shellcheck", () => assertProgramsPassShellcheck(programs));

  it("data travels as positional arguments, never inside the program text", () => {
    assert.deepEqual(programs.stopOldPrimary.slice(3), [
      "django-ha-failover",
      "postgresql@17-main",
      "/usr/lib/postgresql/17/bin",
      "/var/lib/postgresql/17/main",
    ]);
    assert.deepEqual(programs.asStandby.slice(4), ["/var/lib/postgresql/17/main", "host=10.0.0.6 port=5432", "standby"]);
    for (const argv of Object.values(programs)) assert.ok(!/10\.0\.0\.|\/var\/lib/.test(argv[2]), argv[2].slice(0, 80));
  });
});
