import type { LabPaths } from "./config";
import { shellJoin } from "../roles/shell";
import type { Command } from "../ops/process";

/**
 * ssh to a lab node as root with the lab's key, the node's host key pinned (StrictHostKeyChecking=yes against
 * the lab's known_hosts only; the user's ~/.ssh/config is ignored). `remote` is an argument array, quoted here and only here. Pure.
 */
export function sshCommand(
  paths: Pick<LabPaths, "sshKey" | "knownHosts">,
  address: string,
  remote: readonly string[],
  opts: { tty?: boolean; connectTimeout?: number } = {},
): Command {
  return {
    cmd: "ssh",
    args: [
      "-F",
      "/dev/null",
      "-i",
      paths.sshKey,
      "-o",
      "IdentitiesOnly=yes",
      "-o",
      `UserKnownHostsFile=${paths.knownHosts}`,
      "-o",
      "GlobalKnownHostsFile=/dev/null",
      "-o",
      "StrictHostKeyChecking=yes",
      "-o",
      "BatchMode=yes",
      "-o",
      `ConnectTimeout=${opts.connectTimeout ?? 3}`,
      "-o",
      "LogLevel=ERROR",
      ...(opts.tty ? ["-t"] : ["-T"]),
      `root@${address}`,
      ...(remote.length ? ["--", shellJoin(remote)] : []),
    ],
  };
}

/**
 * What `npm run lab -- ssh <node> -- <words…>` runs: like ssh itself, the words joined by spaces are one
 * command line for the node's shell, so `-- "systemctl stop nginx; journalctl -n 5"` runs both commands.
 * No words: an interactive login. Pure.
 */
export function operatorShellCommand(words: readonly string[]): string[] {
  return words.length ? ["bash", "-c", words.join(" ")] : [];
}
