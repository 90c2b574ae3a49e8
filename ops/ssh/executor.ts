import * as fs from "node:fs";
import type { Duplex } from "node:stream";
import { NodeSSH } from "node-ssh";
import pRetry from "p-retry";
import { UserError } from "../../model/errors";
import { KnownHostsFile } from "./known-hosts";
import { Argv, shellJoin } from "../../roles/shell";

/** What one remote command returned. Output is kept bounded (the tail); big output belongs in remote files. */
export interface RunResult {
  /** Exit status; -1 when the command died from a signal. */
  code: number;
  stdout: string;
  stderr: string;
  /** True when output beyond the kept tail was dropped. */
  truncated: boolean;
}

export interface RunOptions {
  /** Sent to the command's stdin, then EOF. A stream is piped (big files are never held in memory). */
  stdin?: string | Buffer | NodeJS.ReadableStream;
  /** Kill the command after this long. Defaults to 10 minutes. */
  timeoutMs?: number;
}

/** Runs argv commands on one node. The SSH executor is the real one; tests use in-memory fakes. */
export interface RemoteExecutor {
  readonly node: string;
  run(argv: Argv, options?: RunOptions): Promise<RunResult>;
  /** Copy a local file to a remote path. */
  putFile(localPath: string, remotePath: string): Promise<void>;
  close(): Promise<void>;
}

export interface SshTarget {
  /** Node name, used to label output and errors. */
  node: string;
  host: string;
  port: number;
  username: string;
  /** OpenSSH private key text (never logged). */
  privateKey: string | Buffer;
  knownHosts: KnownHostsFile;
  /**
   * Run every command through `sudo -n` (password-less sudo; no tty, so stderr stays separate).
   * Defaults to true for any user other than root (AWS's `admin`).
   */
  sudo?: boolean;
}

export interface SshOptions {
  /** Time for one TCP + SSH handshake. Defaults to 30 s (fresh machines are slow). */
  readyTimeoutMs?: number;
  /** Keepalive interval. Defaults to 15 s. */
  keepaliveMs?: number;
  /** Connection attempts while a machine boots (ECONNREFUSED, lost before handshake). Defaults to 8 (~2 min). */
  connectAttempts?: number;
  /** First backoff delay. Defaults to 1 s, doubling up to 15 s. */
  minBackoffMs?: number;
  /** Told about each failed attempt that will be retried. */
  onRetry?: (message: string) => void;
  /**
   * Speak SSH over this stream instead of a TCP connection to host:port (like OpenSSH's ProxyCommand:
   * a bastion's `ssh -W`, or `sshd -i` inside a container). Called once per attempt. Defaults to TCP.
   */
  openSocket?: () => Duplex;
}

/** Kept per stream: the last 256 KiB. Enough for any failure report; anything bigger goes to remote files. */
const KEEP_BYTES = 256 * 1024;
/** A command's time limit when the caller names none. */
export const DEFAULT_TIMEOUT_MS = 10 * 60 * 1000;
/** Write stdin to "$1" (creating its directory), private until the caller moves it into place. */
const PUT_FILE = `set -e; mkdir -p "$(dirname "$1")"; (umask 077; cat >"$1")`;

/** A command ran longer than allowed. */
export class CommandTimeoutError extends Error {
  constructor(node: string, command: string, timeoutMs: number) {
    super(`${node}: command timed out after ${Math.round(timeoutMs / 1000)} s and was killed: ${command.slice(0, 200)}`);
    this.name = "CommandTimeoutError";
  }
}

/** Errors that mean "the machine is not up yet": worth retrying with backoff. */
export function isTransientConnectError(err: unknown): boolean {
  const e = err as { code?: string; message?: string; level?: string };
  if (e?.code && ["ECONNREFUSED", "ECONNRESET", "EHOSTUNREACH", "ENETUNREACH", "ETIMEDOUT", "EPIPE"].includes(e.code)) return true;
  const m = String(e?.message ?? "");
  return /Connection lost before handshake|Timed out while waiting for handshake|Not connected|socket hang up/i.test(m);
}

/** Keeps the tail of a stream within a byte budget. */
class Tail {
  private chunks: Buffer[] = [];
  private size = 0;
  dropped = false;
  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    for (let first = this.chunks[0]; this.size > KEEP_BYTES && this.chunks.length > 1; first = this.chunks[0]) {
      this.chunks.shift();
      this.size -= first.length;
      this.dropped = true;
    }
  }
  text(): string {
    const all = Buffer.concat(this.chunks);
    if (all.length > KEEP_BYTES) {
      this.dropped = true;
      return all.subarray(all.length - KEEP_BYTES).toString("utf8");
    }
    return all.toString("utf8");
  }
}

/**
 * One SSH connection per node, reused for every command (sshd's MaxStartups/MaxSessions punish many).
 * Host keys are pinned through a known_hosts file; commands are argv arrays quoted by shellJoin.
 */
export class SshExecutor implements RemoteExecutor {
  /** Set when the connection dropped after it was up (reset, keepalive timeout, machine gone). */
  private lost: string | undefined;

  private constructor(
    readonly node: string,
    private readonly ssh: NodeSSH,
    private readonly sudo: boolean,
  ) {
    // node-ssh stops listening for errors once connected; an unheard 'error' would crash the whole run.
    const conn = ssh.connection;
    conn?.on("error", (err: Error) => {
      this.lost ??= err.message;
    });
    conn?.on("close", () => {
      this.lost ??= "closed by the other side";
    });
  }

  private lostError(): Error {
    return new Error(
      `${this.node}: SSH connection lost (${this.lost}); the node may have rebooted or dropped off the network. Run the bootstrap again when it is back.`,
    );
  }

  static async connect(target: SshTarget, options: SshOptions = {}): Promise<SshExecutor> {
    const attempts = options.connectAttempts ?? 8;
    const ssh = await pRetry(
      async () => {
        const client = new NodeSSH();
        let refusal: Error | undefined;
        try {
          await client.connect({
            host: target.host,
            port: target.port,
            username: target.username,
            privateKey: Buffer.isBuffer(target.privateKey) ? target.privateKey.toString("utf8") : target.privateKey,
            readyTimeout: options.readyTimeoutMs ?? 30_000,
            ...(options.openSocket ? { sock: options.openSocket() } : {}),
            keepaliveInterval: options.keepaliveMs ?? 15_000,
            keepaliveCountMax: 4,
            hostVerifier: (key: Buffer) => {
              try {
                target.knownHosts.verify(target.host, target.port, key);
                return true;
              } catch (err) {
                refusal = err as Error;
                return false;
              }
            },
          });
          return client;
        } catch (err) {
          client.dispose();
          if (refusal) throw new pRetry.AbortError(refusal);
          if (!isTransientConnectError(err)) {
            const why = String((err as Error).message ?? err);
            const hint = /authentication methods failed/i.test(why)
              ? ` The key was refused: make sure its public half is in ~${target.username}/.ssh/authorized_keys on ${target.host}, or pass another with --identity.`
              : "";
            throw new pRetry.AbortError(
              new UserError(`${target.node}: cannot SSH to ${target.username}@${target.host}:${target.port}: ${why}.${hint}`),
            );
          }
          throw err;
        }
      },
      {
        retries: Math.max(0, attempts - 1),
        minTimeout: options.minBackoffMs ?? 1000,
        maxTimeout: 15_000,
        factor: 2,
        onFailedAttempt: (e) => {
          if (e.retriesLeft > 0)
            options.onRetry?.(
              `${target.node}: ${target.host}:${target.port} not reachable yet (${e.message}); attempt ${e.attemptNumber + 1} of ${attempts}`,
            );
        },
      },
    ).catch((err: unknown) => {
      if (err instanceof UserError) throw err;
      throw new UserError(
        `${target.node}: cannot SSH to ${target.host}:${target.port} after ${attempts} attempts: ${(err as Error).message}. Is the machine up and port ${target.port} open from here?`,
      );
    });
    return new SshExecutor(target.node, ssh, target.sudo ?? target.username !== "root");
  }

  run(argv: Argv, options: RunOptions = {}): Promise<RunResult> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    // coreutils `timeout` kills the command on the node itself (sshd does not kill a session's process when
    // the channel closes); the local timer, a little later, covers a node that stopped answering.
    const limited = ["timeout", "-k", "5", `${(timeoutMs / 1000).toFixed(3)}s`, ...argv];
    const command = shellJoin(this.sudo ? ["sudo", "-n", "--", ...limited] : limited);
    const conn = this.ssh.connection;
    if (this.lost) return Promise.reject(this.lostError());
    if (!conn) return Promise.reject(new Error(`${this.node}: not connected`));
    const started = Date.now();
    const timedOut = () => new CommandTimeoutError(this.node, shellJoin(argv), timeoutMs);
    return new Promise<RunResult>((resolve, reject) => {
      conn.exec(command, (err, channel) => {
        if (err) return reject(this.lost ? this.lostError() : new Error(`${this.node}: cannot start a command: ${err.message}`));
        const out = new Tail();
        const errOut = new Tail();
        let settled = false;
        const timer = setTimeout(() => {
          settled = true;
          channel.close();
          reject(timedOut());
        }, timeoutMs + 10_000);
        channel.on("data", (d: Buffer) => out.push(d));
        channel.stderr.on("data", (d: Buffer) => errOut.push(d));
        let code: number | null = null;
        channel.on("exit", (c: number | null) => {
          code = c;
        });
        channel.on("close", () => {
          clearTimeout(timer);
          if (settled) return;
          // 124: `timeout` stopped it; 137: it had to SIGKILL it.
          if ((code === 124 || code === 137) && Date.now() - started >= timeoutMs) return reject(timedOut());
          if (code === null && this.lost) return reject(this.lostError());
          resolve({ code: code ?? -1, stdout: out.text(), stderr: errOut.text(), truncated: out.dropped || errOut.dropped });
        });
        const stdin = options.stdin ?? "";
        if (typeof stdin === "string" || Buffer.isBuffer(stdin)) channel.end(stdin);
        else {
          stdin.on("error", (e) => {
            settled = true;
            clearTimeout(timer);
            channel.close();
            reject(new Error(`${this.node}: reading local input failed: ${e.message}`));
          });
          stdin.pipe(channel);
        }
      });
    });
  }

  /** Streamed over an exec channel (`cat >`), so it works where the sftp subsystem is disabled. */
  async putFile(localPath: string, remotePath: string): Promise<void> {
    if (!fs.existsSync(localPath)) throw new Error(`${this.node}: local file ${localPath} does not exist`);
    const r = await this.run(["bash", "-c", PUT_FILE, "django-ha", remotePath], {
      stdin: fs.createReadStream(localPath),
      timeoutMs: DEFAULT_TIMEOUT_MS,
    });
    if (r.code !== 0) throw new Error(`${this.node}: writing ${remotePath} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim()}`);
  }

  async close(): Promise<void> {
    this.ssh.dispose();
  }
}
