/**
 * The tools the nodes run, for the checks on rendered files: a throw-away node booted from the lab's baked
 * image (lab/image.ts ensureImage, which bakes it once if it is missing; test/ssh-container.ts boots it over
 * an overlay, so the cached image is only ever a read-only lower layer). `nginx -t`, `sshd -t`,
 * `systemd-analyze verify`, `postgres -C`, `nft -c`, redis-server and uWSGI then come from the same Debian
 * release and packages as the nodes (roles/packages.ts), not from whatever this host has installed.
 * Root only (overlay mounts, systemd-nspawn), like the lab.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { ensureImage } from "../lab/image";
import { startTestContainer, type TestContainer } from "./ssh-container";

/** How long a test's `before` may take: the first run on a machine bakes the image (minutes). */
export const IMAGE_NODE_TIMEOUT_MS = 30 * 60_000;

export interface RunResult {
  status: number;
  out: string;
}

export interface ImageNode {
  /** Image key (lab/image.ts imageKey): which Debian release and package set the tools come from. */
  imageKey: string;
  /** The node's root directory as the host sees it (an overlay over the image). */
  root: string;
  /** Run argv inside the node with a clean environment (plus `env`), as root or as `user`. Never throws. */
  run(argv: string[], opts?: { input?: string; env?: Record<string, string>; user?: string; timeoutMs?: number }): RunResult;
  /** Run a bash script inside the node (`bash -euo pipefail -s`). */
  bash(script: string, opts?: { env?: Record<string, string>; user?: string }): RunResult;
  /** Write a file inside the node (parents created), root-owned. */
  write(file: string, content: string, mode?: number): void;
  read(file: string): string;
  exists(file: string): boolean;
  /** Copy a host directory into the node (root-owned, no __pycache__), replacing what was there. */
  copyIn(hostDir: string, nodeDir: string): void;
  stop(): Promise<void>;
}

const PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export async function bootImageNode(): Promise<ImageNode> {
  const image = await ensureImage({ log: (s) => process.stderr.write(`${s}\n`) });
  const ct: TestContainer = await startTestContainer(image.root);
  const inRoot = (file: string) => {
    if (!path.isAbsolute(file)) throw new Error(`image node: absolute path wanted, got ${file}`);
    return path.join(ct.root, file);
  };
  const run: ImageNode["run"] = (argv, opts = {}) => {
    const env = Object.entries({ PATH, LANG: "C.UTF-8", HOME: "/root", ...opts.env }).map(([k, v]) => `${k}=${v}`);
    const as = opts.user ? ["runuser", "-u", opts.user, "--"] : [];
    const r = spawnSync("nsenter", ["-t", String(ct.initPid), "-a", "env", "-i", ...env, ...as, ...argv], {
      input: opts.input,
      encoding: "utf8",
      timeout: opts.timeoutMs ?? 120_000,
    });
    if (r.error) return { status: -1, out: `${argv[0]} could not run in the image node: ${r.error.message}` };
    return { status: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
  };
  return {
    imageKey: image.key,
    root: ct.root,
    run,
    bash: (script, opts = {}) => run(["bash", "-euo", "pipefail", "-s"], { ...opts, input: script }),
    write(file, content, mode = 0o644) {
      fs.mkdirSync(path.dirname(inRoot(file)), { recursive: true });
      fs.writeFileSync(inRoot(file), content, { mode });
      fs.chmodSync(inRoot(file), mode);
    },
    read: (file) => fs.readFileSync(inRoot(file), "utf8"),
    exists: (file) => fs.existsSync(inRoot(file)),
    copyIn(hostDir, nodeDir) {
      fs.rmSync(inRoot(nodeDir), { recursive: true, force: true });
      fs.cpSync(hostDir, inRoot(nodeDir), { recursive: true, filter: (src) => path.basename(src) !== "__pycache__" });
    },
    stop: () => ct.stop(),
  };
}
