import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { shareHandover } from "./share";
import { assertProgramsPassShellcheck } from "../../../test/shellcheck";

const programs = {
  shareHandover: shareHandover({
    share: "/srv/share",
    target: "root@10.0.0.6",
    sshPort: 22,
    key: "/root/.ssh/k",
    syncUnit: "django-ha-share-sync.service",
  }),
};

describe("failover commands: the share's handover", () => {
  it("every fixed bash program passes shellcheck", () => assertProgramsPassShellcheck(programs));

  it("data travels as positional arguments, never inside the program text", () => {
    assert.deepEqual(programs.shareHandover.slice(3), [
      "django-ha-failover",
      "/srv/share",
      "root@10.0.0.6",
      "22",
      "/root/.ssh/k",
      "django-ha-share-sync.service",
    ]);
    assert.ok(!/10\.0\.0\.|\/srv\/share|\.ssh/.test(programs.shareHandover[2]), programs.shareHandover[2].slice(0, 80));
  });
});
