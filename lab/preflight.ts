/** What the lab needs of the host before it touches anything: root, and the packages of lab/host-packages.txt. */
import * as fs from "node:fs";
import * as path from "node:path";
import { UserError } from "../model";
import { REPO_ROOT } from "./config";
import { run } from "../ops/process";

/** Root, and the host packages of lab/host-packages.txt, before anything is touched. */
export async function preflight(opts: { uid?: number; packagesFile?: string } = {}): Promise<void> {
  const uid = opts.uid ?? (typeof process.getuid === "function" ? process.getuid() : 0);
  if (uid !== 0) {
    throw new UserError("The lab needs root (network namespaces, mounts, systemd-nspawn): run it as root, e.g. `sudo npm run lab -- up`.");
  }
  const wanted = hostPackages(opts.packagesFile);
  const missing: string[] = [];
  for (const p of wanted) {
    const r = await run({ cmd: "dpkg-query", args: ["-W", "-f=${Status}", p] }, { allowFail: true });
    if (!r.stdout.includes("install ok installed")) missing.push(p);
  }
  if (missing.length) {
    throw new UserError(
      `Missing host package${missing.length > 1 ? "s" : ""} for the lab: ${missing.join(", ")}.\nInstall: apt-get install -y ${missing.join(" ")}`,
    );
  }
}

export function hostPackages(file = path.join(REPO_ROOT, "lab", "host-packages.txt")): string[] {
  return fs
    .readFileSync(file, "utf8")
    .split("\n")
    .map((l) => l.replace(/#.*/, "").trim())
    .filter(Boolean);
}
