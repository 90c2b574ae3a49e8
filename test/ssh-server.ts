/**
 * A throwaway sshd on 127.0.0.1 for tests: a free port, a temporary host key, a temporary client key in
 * a temporary authorized_keys, logging in as the current user (root in CI). Never touches port 22 or
 * the system's sshd configuration. `stop()` kills only the sshd it started and removes its files.
 */
import { ChildProcess, execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";

export interface TestSshServer {
  host: "127.0.0.1";
  port: number;
  username: string;
  /** Client private key (OpenSSH format) authorized on this server. */
  privateKey: string;
  /** Directory of the server's temporary files. */
  dir: string;
  /** Replace the host key (as a rebuilt machine would) and restart sshd on the same port. */
  rotateHostKey(): Promise<void>;
  stop(): Promise<void>;
}

const SSHD = "/usr/sbin/sshd";

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function keygen(file: string): void {
  fs.rmSync(file, { force: true });
  fs.rmSync(`${file}.pub`, { force: true });
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", file]);
}

async function waitForPort(port: number, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`sshd exited (${child.exitCode}): ${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, "127.0.0.1");
      s.once("connect", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`sshd did not listen on 127.0.0.1:${port} within 10 s: ${log()}`);
}

/** Whether this machine can run the test server (sshd installed). .ci/run installs openssh-server. */
export function sshdAvailable(): boolean {
  return fs.existsSync(SSHD);
}

export async function startTestSshServer(): Promise<TestSshServer> {
  if (!sshdAvailable()) throw new Error(`${SSHD} is missing: apt-get install -y openssh-server (listed in test/host-packages.txt)`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "django-ha-sshd-"));
  fs.chmodSync(dir, 0o700);
  const port = await freePort();
  const hostKey = path.join(dir, "host_ed25519");
  const clientKey = path.join(dir, "client_ed25519");
  keygen(hostKey);
  keygen(clientKey);
  fs.copyFileSync(`${clientKey}.pub`, path.join(dir, "authorized_keys"));
  fs.mkdirSync("/run/sshd", { recursive: true, mode: 0o755 }); // privilege separation dir sshd insists on
  const config = path.join(dir, "sshd_config");
  fs.writeFileSync(
    config,
    [
      `Port ${port}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${hostKey}`,
      `AuthorizedKeysFile ${path.join(dir, "authorized_keys")}`,
      `PidFile ${path.join(dir, "sshd.pid")}`,
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "PermitRootLogin prohibit-password",
      "UsePAM no",
      "StrictModes no",
      "LogLevel ERROR",
      "MaxStartups 30:30:100",
      "",
    ].join("\n"),
  );
  const username = os.userInfo().username;
  let child: ChildProcess;
  let stderr = "";
  const start = async () => {
    stderr = "";
    child = spawn(SSHD, ["-D", "-e", "-f", config], { stdio: ["ignore", "ignore", "pipe"] });
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    await waitForPort(port, child, () => stderr);
  };
  const stopChild = async () => {
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await exited;
  };
  await start();
  return {
    host: "127.0.0.1",
    port,
    username,
    privateKey: fs.readFileSync(clientKey, "utf8"),
    dir,
    async rotateHostKey() {
      await stopChild();
      keygen(hostKey);
      await start();
    },
    async stop() {
      await stopChild();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
