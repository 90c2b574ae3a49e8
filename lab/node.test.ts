import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { showCommand } from "../ops/process";
import { nodeCgroups, systemdCgroupRoots } from "./cgroup";
import { inCgroups, knownHostsLine, nspawnCommand, overlayMount } from "./node";
import { isLabNspawn, machineOf } from "./procs";
import { operatorShellCommand, sshCommand } from "./ssh";

describe("nspawnCommand", () => {
  it("boots a child: private netns, no registration, share bound, no extra syscalls", () => {
    assert.equal(
      showCommand(
        nspawnCommand({
          name: "lab-child-1",
          root: "/l/nodes/lab-child-1/root",
          binds: [{ host: "/l/share/primary", guest: "/srv/share" }],
          syscalls: [],
        }),
      ),
      "systemd-nspawn -b -D /l/nodes/lab-child-1/root -M lab-child-1 --register=no --keep-unit --console=pipe --resolv-conf=off " +
        "--network-namespace-path=/run/netns/lab-lab-child-1 --capability=CAP_NET_ADMIN --bind=/l/share/primary:/srv/share",
    );
  });
  it("gives the parent open_by_handle_at (nfs-ganesha)", () => {
    const c = nspawnCommand({ name: "p", root: "/r", binds: [], syscalls: ["open_by_handle_at"] });
    assert.ok(c.args.includes("--system-call-filter=open_by_handle_at"));
  });
  it("is recognised as the lab's by the leftover finder, with its machine name", () => {
    const c = nspawnCommand({ name: "lab-worker", root: "/r", binds: [], syscalls: [] });
    const argv = ["/usr/bin/systemd-nspawn", ...c.args];
    assert.ok(isLabNspawn(argv));
    assert.equal(machineOf(argv), "lab-worker");
    assert.ok(!isLabNspawn(["/usr/bin/systemd-nspawn", "-b", "-D", "/x", "--network-namespace-path=/run/netns/other"]));
    assert.ok(!isLabNspawn(["/usr/bin/vim", "--network-namespace-path=/run/netns/lab-x"]));
  });
});

describe("overlayMount", () => {
  it("mounts image as lower, per-node upper and work", () => {
    assert.equal(
      showCommand(overlayMount("/l/images/k/root", "/l/nodes/n")),
      "mount -t overlay overlay -o lowerdir=/l/images/k/root,upperdir=/l/nodes/n/upper,workdir=/l/nodes/n/work /l/nodes/n/root",
    );
  });
});

describe("knownHostsLine", () => {
  it("pins the key to the node's name and address, dropping the comment", () => {
    assert.equal(
      knownHostsLine({ name: "lab-dns", address: "10.231.0.2" }, "ssh-ed25519 AAAAC3Nz root@build\n"),
      "lab-dns,10.231.0.2 ssh-ed25519 AAAAC3Nz",
    );
  });
});

describe("sshCommand", () => {
  const paths = { sshKey: "/l/ssh/id_ed25519", knownHosts: "/l/ssh/known_hosts" };
  it("uses only the lab key and the lab's known_hosts, strictly", () => {
    const c = sshCommand(paths, "10.231.0.11", ["echo", "a b", "it's"]);
    assert.equal(c.cmd, "ssh");
    assert.deepEqual(c.args, [
      "-F",
      "/dev/null",
      "-i",
      "/l/ssh/id_ed25519",
      "-o",
      "IdentitiesOnly=yes",
      "-o",
      "UserKnownHostsFile=/l/ssh/known_hosts",
      "-o",
      "GlobalKnownHostsFile=/dev/null",
      "-o",
      "StrictHostKeyChecking=yes",
      "-o",
      "BatchMode=yes",
      "-o",
      "ConnectTimeout=3",
      "-o",
      "LogLevel=ERROR",
      "-T",
      "root@10.231.0.11",
      "--",
      "echo 'a b' 'it'\\''s'",
    ]);
  });
  it("runs an operator's command line as one shell line, like ssh (a; b runs both; quotes and $ reach the shell)", () => {
    const remoteLine = (words: string[]) => sshCommand(paths, "10.231.0.11", operatorShellCommand(words)).args.at(-1)!;
    // What the node's login shell does with the line ssh sends: run it through a real bash here.
    const onShell = (line: string) => spawnSync("bash", ["-c", line], { encoding: "utf8" }).stdout;
    assert.equal(onShell(remoteLine(["echo a; echo b"])), "a\nb\n");
    assert.equal(onShell(remoteLine(["echo", "one", "two"])), "one two\n");
    assert.equal(onShell(remoteLine(['x=5; echo "$x it\'s"'])), "5 it's\n");
    assert.deepEqual(operatorShellCommand([]), []);
  });
  it("asks for a tty only for interactive sessions", () => {
    assert.ok(sshCommand(paths, "10.231.0.2", [], { tty: true }).args.includes("-t"));
    assert.ok(!sshCommand(paths, "10.231.0.2", []).args.includes("--"));
  });
});

describe("cgroups per node", () => {
  it("finds the name=systemd v1 and the unified v2 hierarchies only", () => {
    const mounts = [
      "cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0",
      "cgroup /sys/fs/cgroup/systemd cgroup rw,relatime,name=systemd 0 0",
      "cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0",
    ].join("\n");
    assert.deepEqual(systemdCgroupRoots(mounts), ["/sys/fs/cgroup/systemd", "/sys/fs/cgroup/unified"]);
    assert.deepEqual(nodeCgroups("lab-dns", mounts), [
      "/sys/fs/cgroup/systemd/django-ha-lab/lab-dns",
      "/sys/fs/cgroup/unified/django-ha-lab/lab-dns",
    ]);
  });
  it("moves the shell into each cgroup, then execs the command with its arguments untouched", () => {
    const c = inCgroups(["/g/a", "/g b"], { cmd: "systemd-nspawn", args: ["-M", "x y"] });
    assert.equal(c.cmd, "sh");
    assert.deepEqual(c.args.slice(2), ["sh", "2", "/g/a", "/g b", "systemd-nspawn", "-M", "x y"]);
  });
  it("really runs: the shell writes its PID to each cgroup.procs and execs", async () => {
    const fs = await import("node:fs");
    const os = await import("node:os");
    const path = await import("node:path");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cg-"));
    const a = path.join(dir, "a");
    const b = path.join(dir, "b");
    fs.mkdirSync(a);
    fs.mkdirSync(b);
    const { run } = await import("../ops/process");
    const r = await run(inCgroups([a, b], { cmd: "sh", args: ["-c", "echo $$"] }));
    const pid = r.stdout.trim();
    assert.equal(fs.readFileSync(path.join(a, "cgroup.procs"), "utf8").trim(), pid);
    assert.equal(fs.readFileSync(path.join(b, "cgroup.procs"), "utf8").trim(), pid);
    fs.rmSync(dir, { recursive: true });
  });
});
