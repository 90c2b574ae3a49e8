/**
 * Command builders for the bootstrap: pure functions that return argv arrays (quoted later, in one place,
 * by ops/ssh shellJoin) and parsers for what they print. Nothing here runs anything.
 *
 * Multi-step remote logic is a FIXED bash program (a constant) that takes its data as positional
 * arguments ("$1", "$2", …), so no data is ever spliced into shell text.
 */
import type { Argv } from "../../roles/shell";

/** Where the full output of scripts and apt lives on each node, root-only (only the tail travels back). */
export const REMOTE_LOG_DIR = "/var/log/django-ha";
/** Lines of output kept in a failure report. */
export const TAIL_LINES = 40;

const FIXED = (program: string, ...args: string[]): Argv => ["bash", "-c", program, "django-ha", ...args];

// ---------------------------------------------------------------------------------------------- packages

/** Prints `<package>\t<status>` for each known package; unknown ones print nothing. Never fails. */
const PROBE_PACKAGES = `dpkg-query -W -f='\${Package}\\t\${db:Status-Status}\\n' -- "$@" 2>/dev/null || true`;

export function probePackages(names: readonly string[]): Argv {
  return FIXED(PROBE_PACKAGES, ...names);
}

/** Names from the wanted list that dpkg does not report as installed, in the wanted order. */
export function missingPackages(wanted: readonly string[], probeOutput: string): string[] {
  const installed = new Set(
    probeOutput
      .split("\n")
      .map((l) => l.split("\t"))
      .filter(([, status]) => status === "installed")
      .map(([name]) => name),
  );
  return [...new Set(wanted)].filter((n) => !installed.has(n.replace(/:[a-z0-9]+$/, "")));
}

/**
 * Install packages without recommends, waiting for the apt lock (unattended-upgrades on a fresh machine),
 * keeping existing config files. If the install fails (stale package lists on a fresh image), refresh the
 * lists once and try again. Full output goes to $1 on the node; the last lines are printed on failure.
 */
const INSTALL_PACKAGES = `set -uo pipefail
log=$1; tail_lines=$2; shift 2
mkdir -p "$(dirname "$log")" && chmod 0700 "$(dirname "$log")"
install -m 0600 /dev/null "$log"
export DEBIAN_FRONTEND=noninteractive
apt_opts=(-o DPkg::Lock::Timeout=600 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
apt_install() { apt-get "\${apt_opts[@]}" install -y --no-install-recommends -- "$@"; }
if ! apt_install "$@" >>"$log" 2>&1; then
  if ! { apt-get "\${apt_opts[@]}" update && apt_install "$@"; } >>"$log" 2>&1; then
    tail -n "$tail_lines" "$log"
    exit 1
  fi
fi`;

export function installPackages(names: readonly string[]): Argv {
  return FIXED(INSTALL_PACKAGES, `${REMOTE_LOG_DIR}/apt.log`, String(TAIL_LINES), ...names);
}

// -------------------------------------------------------------------------------------------------- files

/** chmod/stat form of an octal mode string: "0644" → "644", "01777" → "1777". */
export function normalMode(mode: string): string {
  return parseInt(mode, 8).toString(8);
}

/**
 * Write stdin to $1 atomically (temp file in the same directory, then mv) ONLY when content, mode or
 * owner differ. The content's sha256 ($5) is checked on arrival. Prints `changed` or `unchanged`.
 */
const WRITE_FILE = `set -euo pipefail
path=$1; mode=$2; owner=$3; group=$4; want=$5
dir=$(dirname "$path")
mkdir -p "$dir"
tmp=$(mktemp "$dir/.django-ha.XXXXXX")
trap 'rm -f "$tmp"' EXIT
cat >"$tmp"
got=$(sha256sum <"$tmp" | cut -d' ' -f1)
if [ "$got" != "$want" ]; then echo "content arrived damaged: sha256 $got, expected $want" >&2; exit 1; fi
if [ -f "$path" ] && [ ! -L "$path" ] && [ "$(sha256sum <"$path" | cut -d' ' -f1)" = "$want" ] \\
   && [ "$(stat -c '%a %U %G' "$path")" = "$mode $owner $group" ]; then
  echo unchanged
  exit 0
fi
chown "$owner:$group" "$tmp"
chmod "$mode" "$tmp"
mv -f "$tmp" "$path"
trap - EXIT
echo changed`;

export function writeFile(file: { path: string; mode: string; owner: string; group: string }, sha256: string): Argv {
  return FIXED(WRITE_FILE, file.path, normalMode(file.mode), file.owner, file.group, sha256);
}

/** Read-only: prints `<sha256> <mode> <owner> <group>` of a regular file, or `absent`. */
const PROBE_FILE = `if [ -f "$1" ] && [ ! -L "$1" ]; then
  printf '%s %s\\n' "$(sha256sum <"$1" | cut -d' ' -f1)" "$(stat -c '%a %U %G' "$1")"
else
  echo absent
fi`;

export function probeFile(path: string): Argv {
  return FIXED(PROBE_FILE, path);
}

/** What differs between a file on the node (PROBE_FILE's output) and the wanted one; empty when nothing. Pure. */
export function fileDifferences(probeOutput: string, want: { sha256: string; mode: string; owner: string; group: string }): string[] {
  const line = probeOutput.trim();
  if (line === "absent" || line === "") return ["absent"];
  const [sha, mode, owner, group] = line.split(" ");
  const diffs: string[] = [];
  if (sha !== want.sha256) diffs.push("content");
  if (mode !== normalMode(want.mode)) diffs.push(`mode ${mode} → ${normalMode(want.mode)}`);
  if (owner !== want.owner || group !== want.group) diffs.push(`owner ${owner}:${group} → ${want.owner}:${want.group}`);
  return diffs;
}

// ------------------------------------------------------------------------------------------------- upload

/** The content hash of an uploaded tree lives beside it: /srv/app → /srv/.app.django-ha-sha256. */
export function uploadHashFile(remoteDir: string): string {
  const trimmed = remoteDir.replace(/\/+$/, "");
  const slash = trimmed.lastIndexOf("/");
  return `${trimmed.slice(0, slash) || ""}/.${trimmed.slice(slash + 1)}.django-ha-sha256`;
}

/** Where the tarball lands before it is unpacked. */
export function uploadTarball(remoteDir: string): string {
  return `${remoteDir.replace(/\/+$/, "")}.django-ha-upload.tgz`;
}

/** Read-only: prints the stored hash when the directory exists and has one, else nothing. */
const PROBE_UPLOAD = `dir=$1; hashfile=$2
if [ -d "$dir" ] && [ -f "$hashfile" ]; then cat "$hashfile"; fi`;

export function probeUpload(remoteDir: string): Argv {
  return FIXED(PROBE_UPLOAD, remoteDir, uploadHashFile(remoteDir));
}

/**
 * Unpack the tarball beside the target, then swap it in with two renames (old out, new in) and record
 * the hash. A reader sees the old tree or the new one, never a half-written one.
 */
const REPLACE_UPLOAD = `set -euo pipefail
dir=$1; tarball=$2; owner=$3; group=$4; hash=$5; hashfile=$6
new="$dir.django-ha-new"; old="$dir.django-ha-old"
rm -rf "$new" "$old"
mkdir -p "$new"
tar -xzf "$tarball" -C "$new" --no-same-owner
chown -R "$owner:$group" "$new"
if [ -e "$dir" ]; then mv "$dir" "$old"; fi
mv "$new" "$dir"
rm -rf "$old" "$tarball"
printf '%s\\n' "$hash" >"$hashfile"`;

export function replaceUpload(u: { remoteDir: string; owner: string; group: string }, hash: string): Argv {
  return FIXED(
    REPLACE_UPLOAD,
    u.remoteDir.replace(/\/+$/, ""),
    uploadTarball(u.remoteDir),
    u.owner,
    u.group,
    hash,
    uploadHashFile(u.remoteDir),
  );
}

// ------------------------------------------------------------------------------------------------ scripts

/** Log file of a script on the node: its name made safe for a file name. */
export function scriptLog(name: string): string {
  return `${REMOTE_LOG_DIR}/script-${name.replace(/[^A-Za-z0-9._-]+/g, "_")}.log`;
}

/**
 * Run the script read from stdin with `bash -euo pipefail`, its output to a log file on the node.
 * Prints `changed=0|1` (did a line equal the marker), `rc=N`, then the last lines of output.
 */
const RUN_SCRIPT = `set -uo pipefail
log=$1; marker=$2; tail_lines=$3
mkdir -p "$(dirname "$log")" && chmod 0700 "$(dirname "$log")"
install -m 0600 /dev/null "$log" # scripts may handle secrets: their output is for root only
script=$(mktemp /tmp/django-ha-script.XXXXXX)
trap 'rm -f "$script"' EXIT
cat >"$script"
bash -euo pipefail "$script" >"$log" 2>&1 </dev/null
rc=$?
if grep -qxF -- "$marker" "$log"; then echo changed=1; else echo changed=0; fi
echo "rc=$rc"
tail -n "$tail_lines" "$log"`;

export function runScript(name: string, marker: string): Argv {
  return FIXED(RUN_SCRIPT, scriptLog(name), marker, String(TAIL_LINES));
}

export interface ScriptOutcome {
  changed: boolean;
  code: number;
  tail: string;
}

export function parseScriptOutput(stdout: string): ScriptOutcome {
  const [changedLine, rcLine, ...rest] = stdout.split("\n");
  const changed = /^changed=([01])$/.exec(changedLine ?? "");
  const rc = /^rc=(\d+)$/.exec(rcLine ?? "");
  if (!changed || !rc) throw new Error(`unexpected output from the script runner: ${stdout.slice(0, 500)}`);
  return { changed: changed[1] === "1", code: Number(rc[1]), tail: rest.join("\n").replace(/\n$/, "") };
}

// ----------------------------------------------------------------------------------------------- services

const PROBE_SERVICE = `printf 'enabled=%s\\n' "$(systemctl is-enabled -- "$1" 2>/dev/null || true)"
printf 'active=%s\\n' "$(systemctl is-active -- "$1" 2>/dev/null || true)"`;

export function probeService(name: string): Argv {
  return FIXED(PROBE_SERVICE, name);
}

export interface ServiceState {
  /** `systemctl is-enabled`: enabled, disabled, masked, static, indirect, … or "" when unknown. */
  enabled: string;
  /** `systemctl is-active`: active, inactive, failed, activating, … */
  active: string;
}

export function parseServiceProbe(stdout: string): ServiceState {
  const get = (k: string) => new RegExp(`^${k}=(.*)$`, "m").exec(stdout)?.[1]?.trim() ?? "";
  return { enabled: get("enabled"), active: get("active") };
}

export interface ServiceWanted {
  name: string;
  state: "started" | "stopped" | "masked";
  enabled: boolean;
  reload?: boolean;
}

/** is-enabled answers under which a unit starts at boot (or cannot be enabled, so there is nothing to do). */
const ENABLED_LIKE = new Set(["enabled", "enabled-runtime", "static", "indirect", "generated", "alias", "linked", "linked-runtime"]);
const RUNNING_LIKE = new Set(["active", "activating", "reloading"]);

/**
 * The systemctl commands that bring a unit from `now` to `wanted`. `triggered` says a file or script it
 * watches changed during this run: a running unit is restarted (or reloaded); one just started is not.
 * Pure; empty when nothing needs doing.
 */
export function serviceCommands(wanted: ServiceWanted, now: ServiceState, triggered: boolean): Argv[] {
  const unit = wanted.name;
  const running = RUNNING_LIKE.has(now.active);
  const cmds: Argv[] = [];
  // A unit that failed before the bootstrap owned it (a package's default config at install time) and is
  // to stay off would otherwise leave the machine "degraded" for good: its failure is history, so forget it.
  const forgetFailure: Argv[] = now.active === "failed" ? [["systemctl", "reset-failed", "--", unit]] : [];
  if (wanted.state === "masked") {
    if (now.enabled !== "masked") cmds.push(["systemctl", "mask", "--", unit]);
    if (running) cmds.push(["systemctl", "stop", "--", unit]);
    return [...cmds, ...forgetFailure];
  }
  if (now.enabled === "masked") cmds.push(["systemctl", "unmask", "--", unit]);
  const enabledNow = ENABLED_LIKE.has(now.enabled);
  if (wanted.enabled && !enabledNow) cmds.push(["systemctl", "enable", "--", unit]);
  if (!wanted.enabled && (now.enabled === "enabled" || now.enabled === "enabled-runtime")) cmds.push(["systemctl", "disable", "--", unit]);
  if (wanted.state === "started") {
    if (!running) cmds.push(["systemctl", "start", "--", unit]);
    else if (triggered) cmds.push(["systemctl", wanted.reload ? "reload" : "restart", "--", unit]);
  } else if (running) {
    cmds.push(["systemctl", "stop", "--", unit]);
  } else {
    cmds.push(...forgetFailure);
  }
  return cmds;
}

export const DAEMON_RELOAD: Argv = ["systemctl", "daemon-reload"];

/** Whether a changed file is a systemd unit or drop-in (so systemd must re-read its units). */
export function isUnitFile(path: string): boolean {
  return /^\/(etc|lib|usr\/lib|run)\/systemd\/(system|user)\//.test(path);
}

// ------------------------------------------------------------------------------------------------- checks

/** A health check: the script as one argument to `bash -euo pipefail -c` (checks are short). */
export function runCheck(script: string): Argv {
  return ["bash", "-euo", "pipefail", "-c", script];
}
