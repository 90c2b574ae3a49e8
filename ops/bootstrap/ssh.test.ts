/**
 * The bootstrap over real SSH against a throwaway sshd on 127.0.0.1 (this machine plays every node):
 * pinning on first contact, files written once then unchanged, uploads replaced only when their content
 * changes, a failing script reported with node, step and output, and a second run that changes nothing.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { CHANGED_MARKER, NodePlan } from "../../roles/types";
import type { Role } from "../../model";
import { startTestSshServer, TestSshServer } from "../../test/ssh-server";
import { SshExecutor } from "../ssh/executor";
import { KnownHostsFile } from "../ssh/known-hosts";
import { formatSummary, runBootstrap } from "./orchestrate";

import type { NodeResult } from "./apply";
/** A node's failure, or undefined when it did not fail (NodeResult carries it on the "failed" branch only). */
const failureOf = (r: NodeResult) => (r.status === "failed" ? r.failure : undefined);

describe("bootstrap over real SSH (throwaway sshd on 127.0.0.1)", () => {
  let server: TestSshServer;
  let work: string;
  let knownHosts: KnownHostsFile;
  const pinned: string[] = [];
  const me = os.userInfo().username;
  const group = fs
    .readFileSync("/etc/group", "utf8")
    .split("\n")
    .find((l) => l.split(":")[2] === String(os.userInfo().gid))!
    .split(":")[0];

  before(async () => {
    server = await startTestSshServer();
    work = fs.mkdtempSync(path.join(os.tmpdir(), "bootstrap-ssh-"));
    knownHosts = new KnownHostsFile(path.join(work, "known_hosts"), (m) => pinned.push(m));
  });
  after(async () => {
    await server?.stop();
    fs.rmSync(work, { recursive: true, force: true });
  });

  const connect = (node: { name: string }) =>
    SshExecutor.connect({
      node: node.name,
      host: server.host,
      port: server.port,
      username: server.username,
      privateKey: server.privateKey,
      knownHosts,
    });

  function nodePlan(name: string, role: Role, root: string, extraScript = "true"): NodePlan {
    const src = path.join(work, `src-${name}`);
    if (!fs.existsSync(src)) {
      fs.mkdirSync(path.join(src, "pkg"), { recursive: true });
      fs.writeFileSync(path.join(src, "manage.py"), "print('hi')\n", { mode: 0o755 });
      fs.writeFileSync(path.join(src, "pkg", "settings.py"), "DEBUG = False\n");
    }
    return {
      node: { name, role, publicAddress: server.host, privateAddress: server.host, zone: "a" },
      role,
      actions: [
        { kind: "packages", names: ["bash", "coreutils"] },
        {
          kind: "file",
          file: { path: path.join(root, "etc", "app.conf"), content: `node = ${name}\nquote = "it's"\n`, mode: "0640", owner: me, group },
        },
        { kind: "upload", name: "app", localDir: src, remoteDir: path.join(root, "srv", "app"), owner: me, group },
        {
          kind: "script",
          name: "init-state",
          script: `state=${JSON.stringify(path.join(root, "state"))}\nif [ ! -e "$state" ]; then date > "$state"; echo '${CHANGED_MARKER}'; fi\n${extraScript}\n`,
        },
      ],
      checks: [{ name: "config readable", script: `grep -q 'node = ${name}' ${JSON.stringify(path.join(root, "etc", "app.conf"))}` }],
    };
  }

  it("first run changes, second run reports no changes; uploads follow their content", async () => {
    const roots = ["p", "s", "c1", "c2"].map((n) => path.join(work, "machines", n));
    const plans = [
      nodePlan("lab-db-1", "parent", roots[0]),
      nodePlan("lab-db-2", "standby", roots[1]),
      nodePlan("lab-child-1", "child", roots[2]),
      nodePlan("lab-child-2", "child", roots[3]),
    ];
    const lines: string[] = [];
    const first = await runBootstrap({ plans, connect, log: (n, l) => lines.push(`${n} | ${l}`) });
    assert.equal(first.ok, true, formatSummary(first));
    assert.equal(pinned.length, 1, "first contact pins the host key once");
    for (const r of first.results) {
      assert.equal(r.status, "changed");
      assert.deepEqual(r.changes, [
        `file ${path.join(roots[first.results.indexOf(r)], "etc", "app.conf")}`,
        `upload app → ${path.join(roots[first.results.indexOf(r)], "srv", "app")}`,
        "script init-state",
      ]);
    }
    const conf = path.join(roots[0], "etc", "app.conf");
    assert.equal(fs.readFileSync(conf, "utf8"), `node = lab-db-1\nquote = "it's"\n`);
    assert.equal(fs.statSync(conf).mode & 0o777, 0o640);
    assert.equal(fs.readFileSync(path.join(roots[0], "srv", "app", "pkg", "settings.py"), "utf8"), "DEBUG = False\n");
    assert.ok(fs.statSync(path.join(roots[0], "srv", "app", "manage.py")).mode & 0o100, "exec bit kept");
    assert.ok(
      lines.some((l) => /^lab-child-2 \| check config readable: healthy/.test(l)),
      lines.join("\n"),
    );

    const second = await runBootstrap({ plans, connect });
    assert.deepEqual(
      second.results.map((r) => r.status),
      ["unchanged", "unchanged", "unchanged", "unchanged"],
      formatSummary(second),
    );
    assert.match(formatSummary(second), /lab-db-1 +no changes/);

    // --diff: read-only comparison after a change in the wanted content; nothing is touched.
    const edited = plans.map((p) =>
      p.node.name !== "lab-db-2"
        ? p
        : {
            ...p,
            actions: p.actions.map((a) => (a.kind === "file" ? { ...a, file: { ...a.file, content: "edited\n", mode: "0644" } } : a)),
          },
    );
    const diff = await runBootstrap({ plans: edited, connect, readOnly: true });
    assert.deepEqual(
      diff.results.map((r) => r.changes),
      [[], [`file ${path.join(roots[1], "etc", "app.conf")} (content, mode 640 → 644)`], [], []],
    );
    assert.equal(
      fs.readFileSync(path.join(roots[1], "etc", "app.conf"), "utf8"),
      `node = lab-db-2\nquote = "it's"\n`,
      "the diff changed nothing",
    );

    // Change the source tree of one node: only its upload runs again, and stale files disappear.
    fs.rmSync(path.join(work, "src-lab-child-1", "pkg", "settings.py"));
    fs.writeFileSync(path.join(work, "src-lab-child-1", "new.txt"), "new\n");
    const third = await runBootstrap({ plans, connect });
    assert.deepEqual(
      third.results.map((r) => r.changes),
      [[], [], [`upload app → ${path.join(roots[2], "srv", "app")}`], []],
    );
    assert.deepEqual(fs.readdirSync(path.join(roots[2], "srv", "app")).sort(), ["manage.py", "new.txt", "pkg"]);
    assert.deepEqual(fs.readdirSync(path.join(roots[2], "srv")).sort(), [".app.django-ha-sha256", "app"], "no temp dirs or tarballs left");
    assert.equal(pinned.length, 1);
  });

  it("a failing script reports node, step and output; the parent's failure skips its dependants", async () => {
    const root = path.join(work, "machines", "failing");
    const plans = [
      nodePlan("lab-db-1", "parent", root, `echo "creating the replication user"\necho "psql: FATAL: role missing" >&2\nexit 3`),
      nodePlan("lab-child-1", "child", path.join(work, "machines", "failing-child")),
    ];
    const s = await runBootstrap({ plans, connect });
    assert.equal(s.ok, false);
    assert.deepEqual(failureOf(s.results[0]), {
      step: "script init-state",
      code: 3,
      output: `${CHANGED_MARKER}\ncreating the replication user\npsql: FATAL: role missing`,
    });
    assert.equal(s.results[1].status, "skipped");
    const text = formatSummary(s);
    assert.match(
      text,
      /lab-db-1 +FAILED at script init-state \(exit 3\):\n.*\| django-ha: changed\n.*\| creating the replication user\n.*\| psql: FATAL: role missing/,
    );
    assert.match(text, /lab-child-1 +skipped: needs lab-db-1 failed at script init-state/);
  });
});
