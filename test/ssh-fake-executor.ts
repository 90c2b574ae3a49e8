/**
 * An in-memory executor for tests: it answers the bootstrap's commands from a small simulated machine
 * (files, installed packages, services), and lets a test make chosen steps fail. No network.
 */
import * as crypto from "node:crypto";
import type { RemoteExecutor, RunOptions, RunResult } from "../ops/ssh/executor";
import type { Argv } from "../roles/shell";
import * as cmd from "../ops/bootstrap/commands";

export interface FakeMachine {
  files: Map<string, { content: string; mode: string; owner: string; group: string }>;
  packages: Set<string>;
  services: Map<string, cmd.ServiceState>;
  /** Every command run, as argv. */
  log: Argv[];
  /** Script names that exit 1 with output "boom from <name>". */
  failScripts: Set<string>;
  /** Scripts that print the changed marker the first time only (then they are idempotent). */
  scriptsRun: Set<string>;
}

export function fakeMachine(): FakeMachine {
  return { files: new Map(), packages: new Set(), services: new Map(), log: [], failScripts: new Set(), scriptsRun: new Set() };
}

const ok = (stdout = ""): RunResult => ({ code: 0, stdout, stderr: "", truncated: false });

export class FakeExecutor implements RemoteExecutor {
  closed = false;
  constructor(
    readonly node: string,
    readonly machine: FakeMachine,
  ) {}

  async run(argv: Argv, options: RunOptions = {}): Promise<RunResult> {
    const m = this.machine;
    m.log.push(argv);
    await new Promise((r) => setTimeout(r, 1));
    const program = argv[0] === "bash" && argv[1] === "-c" ? argv[2] : undefined;
    const args = argv.slice(4);
    const stdin = options.stdin?.toString() ?? "";
    if (program === cmd.probePackages([])[2])
      return ok(
        args
          .filter((p) => m.packages.has(p))
          .map((p) => `${p}\tinstalled\n`)
          .join(""),
      );
    if (program === cmd.installPackages([])[2]) {
      args.slice(2).forEach((p) => m.packages.add(p));
      return ok();
    }
    if (program === cmd.writeFile({ path: "/", mode: "0", owner: "", group: "" }, "")[2]) {
      const [path, mode, owner, group] = args;
      const cur = m.files.get(path);
      if (cur && cur.content === stdin && cur.mode === mode && cur.owner === owner && cur.group === group) return ok("unchanged\n");
      m.files.set(path, { content: stdin, mode, owner, group });
      return ok("changed\n");
    }
    if (program === cmd.probeFile("")[2]) {
      const f = m.files.get(args[0]);
      return ok(f ? `${crypto.createHash("sha256").update(f.content).digest("hex")} ${f.mode} ${f.owner} ${f.group}\n` : "absent\n");
    }
    if (program === cmd.runScript("", "")[2]) {
      const name = args[0].replace(/^.*script-|\.log$/g, "");
      if (m.failScripts.has(name)) return ok(`changed=0\nrc=1\nboom from ${name}\n`);
      const first = !m.scriptsRun.has(name);
      m.scriptsRun.add(name);
      return ok(`changed=${first ? 1 : 0}\nrc=0\n`);
    }
    if (program === cmd.probeService("")[2]) {
      const s = m.services.get(args[0]) ?? { enabled: "disabled", active: "inactive" };
      return ok(`enabled=${s.enabled}\nactive=${s.active}\n`);
    }
    if (argv[0] === "systemctl") {
      const [verb, , unit] = argv.slice(1);
      if (verb === "daemon-reload") return ok();
      const s = { ...(m.services.get(unit) ?? { enabled: "disabled", active: "inactive" }) };
      if (verb === "enable") s.enabled = "enabled";
      if (verb === "disable") s.enabled = "disabled";
      if (verb === "mask") s.enabled = "masked";
      if (verb === "unmask") s.enabled = "disabled";
      if (verb === "start" || verb === "restart" || verb === "reload") s.active = "active";
      if (verb === "stop") s.active = "inactive";
      m.services.set(unit, s);
      return ok();
    }
    if (argv[0] === "bash" && argv[1] === "-euo")
      return argv[4].includes("unhealthy") ? { code: 1, stdout: "not yet\n", stderr: "", truncated: false } : ok();
    return { code: 127, stdout: "", stderr: `fake machine does not know: ${argv.join(" ")}`, truncated: false };
  }

  async putFile(): Promise<void> {}

  async close(): Promise<void> {
    this.closed = true;
  }
}
