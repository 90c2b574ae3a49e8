/**
 * A throwaway Debian node with a real systemd for lab tests of the bootstrap: an overlay over the lab image,
 * booted with systemd-nspawn on a private network (no interface, no traffic anywhere), in its own cgroups.
 * SSH reaches it without any network: `nsenter … sshd -i` speaks the protocol over a pipe (the executor's
 * `openSocket`). Root only. `stop()` halts only the container it started and removes its files.
 */
import { ChildProcess, execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Duplex } from "node:stream";

export interface TestContainer {
  name: string;
  /** The container's root as the host sees it (an overlay over the image: writes never reach the image). */
  root: string;
  /** PID of the container's systemd (for nsenter). */
  initPid: number;
  /** Client private key authorized for root inside. */
  privateKey: string;
  /** A fresh SSH stream to the container's sshd (inetd mode): pass as the executor's openSocket. */
  openSocket(): Duplex;
  /** Run a command inside (for set-up and assertions), with optional stdin. */
  exec(argv: string[], input?: string | Buffer): string;
  stop(): Promise<void>;
}

const CGROUP_PARENT = "django-ha-test";

/** systemd's cgroup hierarchies (named v1 and unified), where each container gets its own cgroup. */
function cgroupDirs(name: string): string[] {
  return fs
    .readFileSync("/proc/mounts", "utf8")
    .split("\n")
    .map((l) => l.split(" "))
    .filter(([, , type, opts]) => type === "cgroup2" || (type === "cgroup" && opts?.split(",").includes("name=systemd")))
    .map(([, mnt]) => path.join(mnt, CGROUP_PARENT, name));
}

function childPid(pid: number): number | undefined {
  try {
    const kids = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean);
    return kids.length ? Number(kids[0]) : undefined;
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startTestContainer(
  imageRoot: string,
  opts: { log?: (s: string) => void; /** More systemd-nspawn arguments, e.g. `--bind-ro=…`. */ nspawnArgs?: string[] } = {},
): Promise<TestContainer> {
  const name = `dh-test-${process.pid}-${Date.now() % 100000}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "django-ha-ct-"));
  const [upper, work, root] = ["upper", "work", "root"].map((d) => path.join(dir, d));
  for (const d of [upper, work, root]) fs.mkdirSync(d);
  execFileSync("mount", ["-t", "overlay", "overlay", "-o", `lowerdir=${imageRoot},upperdir=${upper},workdir=${work}`, root]);
  let nspawn: ChildProcess | undefined;
  const cgroups = cgroupDirs(name);
  const cleanup = async () => {
    if (nspawn && nspawn.exitCode === null) {
      const exited = new Promise((r) => nspawn!.once("exit", r));
      nspawn.kill("SIGTERM");
      await Promise.race([exited, sleep(15_000)]);
      if (nspawn.exitCode === null) nspawn.kill("SIGKILL");
    }
    for (let i = 0; i < 20; i++) {
      try {
        execFileSync("umount", [root], { stdio: "ignore" });
        break;
      } catch {
        await sleep(250);
      }
    }
    for (const g of cgroups) {
      // Deepest first: a cgroup can only go when it is empty and has no children.
      const all: string[] = [];
      const walk = (d: string) => {
        if (!fs.existsSync(d)) return;
        for (const e of fs.readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(path.join(d, e.name));
        all.push(d);
      };
      walk(g);
      for (const d of all) {
        try {
          fs.rmdirSync(d);
        } catch {
          /* still busy: left for the next run, harmless */
        }
      }
    }
    for (const g of cgroups) {
      try {
        fs.rmdirSync(path.dirname(g)); // the shared parent, once no other test container uses it
      } catch {
        /* in use or gone */
      }
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    fs.writeFileSync(path.join(root, "etc", "machine-id"), `${execFileSync("systemd-id128", ["new"], { encoding: "utf8" }).trim()}\n`);
    const key = path.join(dir, "client_ed25519");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", key]);
    fs.mkdirSync(path.join(root, "root", ".ssh"), { recursive: true, mode: 0o700 });
    fs.copyFileSync(`${key}.pub`, path.join(root, "root", ".ssh", "authorized_keys"));
    execFileSync("ssh-keygen", ["-A", "-f", root]); // host keys, if the image has none
    for (const g of cgroups) fs.mkdirSync(g, { recursive: true });
    const enter =
      'for g in $CGROUPS; do echo $$ > "$g/cgroup.procs"; done; exec systemd-nspawn -b -D "$ROOT" -M "$NAME" --register=no --keep-unit --console=pipe --private-network "$@"';
    nspawn = spawn("sh", ["-c", enter, "sh", ...(opts.nspawnArgs ?? [])], {
      env: { ...process.env, ROOT: root, NAME: name, CGROUPS: cgroups.join(" ") },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let console = "";
    nspawn.stdout!.on("data", (d: Buffer) => (console += d.toString()));
    nspawn.stderr!.on("data", (d: Buffer) => (console += d.toString()));
    const deadline = Date.now() + 60_000;
    let init: number | undefined;
    let state = "";
    while (Date.now() < deadline) {
      if (nspawn.exitCode !== null) throw new Error(`systemd-nspawn exited (${nspawn.exitCode}):\n${console.slice(-3000)}`);
      init ??= childPid(nspawn.pid!);
      if (init) {
        try {
          state = execFileSync("nsenter", ["-t", String(init), "-a", "systemctl", "is-system-running"], {
            encoding: "utf8",
            stdio: ["ignore", "pipe", "ignore"],
          }).trim();
        } catch (err) {
          state = String((err as { stdout?: string }).stdout ?? "").trim();
        }
        if (state === "running" || state === "degraded") break;
      }
      await sleep(200);
    }
    if (state !== "running" && state !== "degraded")
      throw new Error(`container ${name} did not reach running (state ${JSON.stringify(state)}):\n${console.slice(-3000)}`);
    opts.log?.(`container ${name} is ${state}`);
    const initPid = String(init);
    return {
      name,
      root,
      initPid: init!,
      privateKey: fs.readFileSync(key, "utf8"),
      openSocket() {
        const child = spawn("nsenter", ["-t", initPid, "-a", "/usr/sbin/sshd", "-i"], { stdio: ["pipe", "pipe", "ignore"] });
        return Duplex.from({ readable: child.stdout, writable: child.stdin });
      },
      exec(argv, input) {
        return execFileSync("nsenter", ["-t", initPid, "-a", ...argv], { encoding: "utf8", input });
      },
      stop: cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
