import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import type { RemoteExecutor, RunResult } from "../../ssh/executor";
import type { Argv } from "../../../roles/shell";
import * as cmd from "../commands";
import { directoryHash } from "../hash";
import { NodeRun, StepFailure } from "./handler";
import { uploadHandler as h } from "./upload";

const local = fs.mkdtempSync(path.join(os.tmpdir(), "upload-handler-"));
fs.writeFileSync(path.join(local, "manage.py"), "print('hi')\n");
after(() => fs.rmSync(local, { recursive: true, force: true }));

const action = (extra: Record<string, string> = {}) => ({
  kind: "upload" as const,
  name: "app",
  localDir: local,
  remoteDir: "/srv/app",
  owner: "django",
  group: "django",
  ...extra,
});

/** A machine that holds `stored` as the tree's hash; records commands and copies. */
function machine(stored: string, putFails = false) {
  const log: Argv[] = [];
  const puts: string[] = [];
  const ok = (stdout = ""): RunResult => ({ code: 0, stdout, stderr: "", truncated: false });
  const exec: RemoteExecutor = {
    node: "n",
    run: async (argv) => {
      log.push(argv);
      return argv[2] === cmd.probeUpload("/x")[2] ? ok(stored ? `${stored}\n` : "") : ok();
    },
    putFile: async (_l, remote) => {
      if (putFails) throw new Error("sftp: no space left");
      puts.push(remote);
    },
    close: async () => {},
  };
  return { exec, log, puts };
}

describe("upload handler", () => {
  it("describes itself by name and target", () => {
    assert.equal(h.describe(action()), "upload app → /srv/app");
  });

  it("validate: an absolute target other than /, a local directory, Unix names", () => {
    assert.deepEqual(h.validate(action(), "at", []), []);
    assert.deepEqual(h.validate(action({ remoteDir: "//", localDir: path.join(local, "nope"), owner: "Bad" }), "at", []), [
      'at app: remoteDir "//" must be an absolute directory other than /',
      `at app: localDir ${JSON.stringify(path.join(local, "nope"))} is not a local directory; point it at the tree to copy`,
      'at app: owner/group "Bad:django" must be Unix names',
    ]);
  });

  it("apply copies the tarball and swaps the tree in when the hash differs; nothing when it matches", async () => {
    const m = machine("old");
    assert.equal(await h.apply(action(), new NodeRun(m.exec)), "upload app → /srv/app");
    assert.deepEqual(m.puts, [cmd.uploadTarball("/srv/app")]);
    assert.deepEqual(m.log[1], cmd.replaceUpload(action(), directoryHash(local)));
    const same = machine(directoryHash(local));
    assert.equal(await h.apply(action(), new NodeRun(same.exec)), undefined);
    assert.deepEqual([same.puts.length, same.log.length], [0, 1]);
  });

  it("a failed copy is a StepFailure naming it", async () => {
    await assert.rejects(h.apply(action(), new NodeRun(machine("", true).exec)), (e: unknown) => {
      assert.ok(e instanceof StepFailure);
      assert.deepEqual([e.step, e.output], ["upload app → /srv/app", "copying the tarball failed: sftp: no space left"]);
      return true;
    });
  });

  it("diff says the content differs and copies nothing", async () => {
    const m = machine("");
    assert.equal(await h.diff(action(), new NodeRun(m.exec)), "upload app → /srv/app (content differs)");
    assert.deepEqual([m.puts.length, m.log.length], [0, 1]);
    assert.equal(await h.diff(action(), new NodeRun(machine(directoryHash(local)).exec)), undefined);
  });
});
