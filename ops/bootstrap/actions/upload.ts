import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as cmd from "../commands";
import { directoryHash, makeTarball } from "../hash";
import { type ActionHandler, type ActionOf, type NodeRun, StepFailure, TIMEOUTS } from "./handler";
import { UNIX_NAME } from "./file";

type UploadAction = ActionOf<"upload">;

/** The local tree's hash, or undefined when the machine already holds that tree. */
async function changedHash(a: UploadAction, run: NodeRun): Promise<string | undefined> {
  const hash = directoryHash(a.localDir);
  const probe = await run.run(uploadHandler.describe(a), cmd.probeUpload(a.remoteDir));
  return probe.stdout.trim() === hash ? undefined : hash;
}

/** Copy a local directory tree to the machine (as a tarball) when its content hash differs. */
export const uploadHandler: ActionHandler<UploadAction> = {
  describe: (a) => `upload ${a.name} → ${a.remoteDir}`,

  validate(a, at) {
    const issues: string[] = [];
    if (!a.remoteDir.startsWith("/") || a.remoteDir.replace(/\/+$/, "") === "")
      issues.push(`${at} ${a.name}: remoteDir ${JSON.stringify(a.remoteDir)} must be an absolute directory other than /`);
    if (!fs.existsSync(a.localDir) || !fs.statSync(a.localDir).isDirectory())
      issues.push(`${at} ${a.name}: localDir ${JSON.stringify(a.localDir)} is not a local directory; point it at the tree to copy`);
    if (!UNIX_NAME.test(a.owner) || !UNIX_NAME.test(a.group))
      issues.push(`${at} ${a.name}: owner/group ${JSON.stringify(`${a.owner}:${a.group}`)} must be Unix names`);
    return issues;
  },

  async apply(a, run) {
    const hash = await changedHash(a, run);
    if (hash === undefined) return undefined;
    const step = this.describe(a);
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "django-ha-upload-"));
    try {
      const tarball = path.join(tmp, "tree.tgz");
      makeTarball(a.localDir, tarball);
      try {
        await run.exec.putFile(tarball, cmd.uploadTarball(a.remoteDir));
      } catch (err) {
        throw new StepFailure(step, `copying the tarball failed: ${(err as Error).message}`);
      }
      await run.run(step, cmd.replaceUpload(a, hash), { timeoutMs: TIMEOUTS.upload });
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
    return step;
  },

  async diff(a, run) {
    return (await changedHash(a, run)) === undefined ? undefined : `${this.describe(a)} (content differs)`;
  },
};
