import assert from "node:assert/strict";
import { ChildProcess, spawn } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Duplex } from "node:stream";
import { after, before, describe, it } from "node:test";
import { startTestSshServer, TestSshServer } from "../../test/ssh-server";
import { CommandTimeoutError, isTransientConnectError, SshExecutor } from "./executor";
import { HostKeyMismatchError, KnownHostsFile } from "./known-hosts";

describe("SshExecutor against a throwaway sshd on 127.0.0.1", () => {
  let server: TestSshServer;
  let dir: string;
  before(async () => {
    server = await startTestSshServer();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ssh-exec-"));
  });
  after(async () => {
    await server?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const target = (knownHosts: KnownHostsFile) => ({
    node: "n1",
    host: server.host,
    port: server.port,
    username: server.username,
    privateKey: server.privateKey,
    knownHosts,
  });

  it("pins the host key on first contact, then reuses one connection for argv commands with stdin", async () => {
    const said: string[] = [];
    const kh = new KnownHostsFile(path.join(dir, "known_hosts"), (m) => said.push(m));
    const ex = await SshExecutor.connect(target(kh));
    try {
      assert.equal(said.length, 1);
      assert.match(said[0], new RegExp(`pinned host key of \\[127\\.0\\.0\\.1\\]:${server.port}: ssh-ed25519 SHA256:`));
      const r = await ex.run(["printf", "%s|", "it's", "$(id)", "a b"]);
      assert.deepEqual(r, { code: 0, stdout: "it's|$(id)|a b|", stderr: "", truncated: false });
      const echo = await ex.run(["cat"], { stdin: "from stdin\n" });
      assert.equal(echo.stdout, "from stdin\n");
      const failing = await ex.run(["bash", "-c", "echo oops >&2; exit 3"]);
      assert.equal(failing.code, 3);
      assert.equal(failing.stderr, "oops\n");
      // Several commands at once share the connection.
      const many = await Promise.all([1, 2, 3, 4, 5].map((i) => ex.run(["echo", String(i)])));
      assert.deepEqual(
        many.map((m) => m.stdout.trim()),
        ["1", "2", "3", "4", "5"],
      );
    } finally {
      await ex.close();
    }
    const again = await SshExecutor.connect(target(kh));
    await again.close();
    assert.equal(said.length, 1, "second contact does not pin again");
  });

  it("keeps only the tail of huge output", async () => {
    const kh = new KnownHostsFile(path.join(dir, "known_hosts"));
    const ex = await SshExecutor.connect(target(kh));
    try {
      const r = await ex.run(["bash", "-c", "head -c 3000000 /dev/zero | tr '\\0' x; echo END"]);
      assert.equal(r.code, 0);
      assert.equal(r.truncated, true);
      assert.ok(r.stdout.endsWith("xEND\n"));
      assert.ok(r.stdout.length <= 256 * 1024);
    } finally {
      await ex.close();
    }
  });

  it("streams a file over the exec channel (no sftp subsystem needed)", async () => {
    const kh = new KnownHostsFile(path.join(dir, "known_hosts"));
    const ex = await SshExecutor.connect(target(kh));
    try {
      const local = path.join(dir, "big.bin");
      fs.writeFileSync(local, crypto.randomBytes(5 * 1024 * 1024));
      const remote = path.join(dir, "remote dir", "big.bin");
      await ex.putFile(local, remote);
      assert.deepEqual(fs.readFileSync(remote), fs.readFileSync(local));
      assert.equal(
        fs.statSync(path.dirname(remote)).mode & 0o777,
        0o755,
        "a created directory stays traversable; only the file is private",
      );
      assert.equal(fs.statSync(remote).mode & 0o777, 0o600);
      await assert.rejects(ex.putFile(path.join(dir, "missing"), remote), /local file .* does not exist/);
    } finally {
      await ex.close();
    }
  });

  it("speaks SSH over a given stream instead of TCP (sshd -i, like a ProxyCommand)", async () => {
    const kh = new KnownHostsFile(path.join(dir, "known_hosts"));
    const children: ChildProcess[] = [];
    const openSocket = () => {
      const child = spawn("/usr/sbin/sshd", ["-i", "-f", path.join(server.dir, "sshd_config")], { stdio: ["pipe", "pipe", "ignore"] });
      children.push(child);
      return Duplex.from({ readable: child.stdout, writable: child.stdin });
    };
    const ex = await SshExecutor.connect({ ...target(kh), port: 1 }, { openSocket });
    try {
      assert.equal((await ex.run(["echo", "over a pipe"])).stdout, "over a pipe\n");
      assert.equal(children.length, 1);
    } finally {
      await ex.close();
    }
  });

  it("a dropped connection fails the running and later commands with a clear error, without crashing", async () => {
    const kh = new KnownHostsFile(path.join(dir, "known_hosts"));
    let sshd: ChildProcess | undefined;
    const openSocket = () => {
      sshd = spawn("/usr/sbin/sshd", ["-i", "-f", path.join(server.dir, "sshd_config")], { stdio: ["pipe", "pipe", "ignore"] });
      return Duplex.from({ readable: sshd.stdout, writable: sshd.stdin });
    };
    const ex = await SshExecutor.connect({ ...target(kh), port: 1 }, { openSocket });
    try {
      const running = ex.run(["sleep", "20"]);
      await new Promise((r) => setTimeout(r, 300));
      sshd!.kill("SIGKILL");
      await assert.rejects(running, /n1: SSH connection lost .*Run the bootstrap again/);
      await assert.rejects(ex.run(["true"]), /n1: SSH connection lost/);
    } finally {
      await ex.close();
    }
  });

  it("kills a command that exceeds its timeout", async () => {
    const kh = new KnownHostsFile(path.join(dir, "known_hosts"));
    const ex = await SshExecutor.connect(target(kh));
    try {
      const t0 = Date.now();
      await assert.rejects(
        ex.run(["bash", "-c", 'echo $$ > "$1"; exec sleep 30', "_", path.join(dir, "sleep.pid")], { timeoutMs: 3000 }),
        CommandTimeoutError,
      );
      assert.ok(Date.now() - t0 < 15_000, "the caller is not held until the command ends (30 s)");
      const pid = Number(fs.readFileSync(path.join(dir, "sleep.pid"), "utf8"));
      assert.throws(() => process.kill(pid, 0), /ESRCH/, "the command was killed on the node");
      assert.equal((await ex.run(["echo", "still usable"])).stdout, "still usable\n");
    } finally {
      await ex.close();
    }
  });

  it("refuses a changed host key with the fix, without retrying", async () => {
    const file = path.join(dir, "rotate_known_hosts");
    const kh = new KnownHostsFile(file);
    await (await SshExecutor.connect(target(kh))).close();
    await server.rotateHostKey();
    await assert.rejects(SshExecutor.connect(target(kh), { minBackoffMs: 10 }), (e: unknown) => {
      assert.ok(e instanceof HostKeyMismatchError, String(e));
      assert.match((e as Error).message, /Host key of \[127\.0\.0\.1\]:\d+ changed/);
      assert.match((e as Error).message, /ssh-keygen -R/);
      return true;
    });
  });

  it("retries a refused connection with backoff, then gives up with a clear message", async () => {
    const kh = new KnownHostsFile(path.join(dir, "known_hosts"));
    const retries: string[] = [];
    const closedPort = { ...target(kh), port: 1 };
    await assert.rejects(
      SshExecutor.connect(closedPort, { connectAttempts: 3, minBackoffMs: 10, onRetry: (m) => retries.push(m) }),
      /n1: cannot SSH to 127\.0\.0\.1:1 after 3 attempts: .*ECONNREFUSED.*Is the machine up/,
    );
    assert.equal(retries.length, 2);
    assert.match(retries[0], /attempt 2 of 3/);
  });

  it("classifies transient connect errors", () => {
    assert.equal(isTransientConnectError(Object.assign(new Error("x"), { code: "ECONNREFUSED" })), true);
    assert.equal(isTransientConnectError(new Error("Connection lost before handshake")), true);
    assert.equal(isTransientConnectError(new Error("All configured authentication methods failed")), false);
  });
});
