/**
 * Service actions against a real systemd: a throwaway Debian node (lab image, systemd-nspawn, private
 * network) reached over SSH through `sshd -i` on a pipe. Proves enable/start, "no changes" on a second run,
 * restart only when a watched file changed, reload, mask, and a failing start reported with its journal.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ensureImage } from "../../lab/image";
import type { Action, NodePlan } from "../../roles/types";
import { startTestContainer, TestContainer } from "../../test/ssh-container";
import { SshExecutor } from "../ssh/executor";
import { KnownHostsFile } from "../ssh/known-hosts";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { sha256 } from "./hash";
import { formatSummary, runBootstrap } from "./orchestrate";

import type { NodeResult } from "./apply";
/** A node's failure, or undefined when it did not fail (NodeResult carries it on the "failed" branch only). */
const failureOf = (r: NodeResult) => (r.status === "failed" ? r.failure : undefined);

const UNIT = (execStartPre = "") => `[Unit]
Description=django-ha bootstrap test service

[Service]
${execStartPre}ExecStart=/bin/sleep infinity
ExecReload=/bin/true

[Install]
WantedBy=multi-user.target
`;

describe("service actions on a real systemd (nspawn node over SSH)", () => {
  let ct: TestContainer;
  let dir: string;
  before(async () => {
    const image = await ensureImage({ log: () => {} });
    ct = await startTestContainer(image.root);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "systemd-lab-"));
  });
  after(async () => {
    await ct?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const file = (p: string, content: string): Action => ({
    kind: "file",
    file: { path: p, content, mode: "0644", owner: "root", group: "root" },
  });
  const plan = (conf: string, extra: Action[] = []): NodePlan => ({
    node: { name: "ct-parent", role: "parent", publicAddress: "ct", privateAddress: "ct", zone: "a" },
    role: "parent",
    actions: [
      file("/etc/systemd/system/dhtest.service", UNIT()),
      file("/etc/dhtest.conf", conf),
      { kind: "service", name: "dhtest.service", state: "started", enabled: true, restartWhen: ["/etc/dhtest.conf"] },
      file("/usr/lib/systemd/system/dhmask.service", UNIT()) /* a packaged unit: masking one in /etc is refused by systemd */,
      { kind: "service", name: "dhmask.service", state: "masked", enabled: false, restartWhen: [] },
      ...extra,
    ],
    checks: [{ name: "dhtest active", script: "systemctl is-active --quiet dhtest.service" }],
  });
  const run = (p: NodePlan) =>
    runBootstrap({
      plans: [p],
      checkIntervalMs: 500,
      connect: () =>
        SshExecutor.connect(
          {
            node: "ct-parent",
            host: ct.name,
            port: 22,
            username: "root",
            privateKey: ct.privateKey,
            knownHosts: new KnownHostsFile(path.join(dir, "known_hosts")),
          },
          { openSocket: () => ct.openSocket() },
        ),
    });
  const mainPid = () => ct.exec(["systemctl", "show", "-p", "MainPID", "--value", "dhtest.service"]).trim();

  it("enables and starts once, then reports no changes; restarts only when its file changed; masks", async () => {
    const first = await run(plan("v1"));
    assert.equal(first.ok, true, formatSummary(first));
    assert.deepEqual(first.results[0].changes, [
      "file /etc/systemd/system/dhtest.service",
      "file /etc/dhtest.conf",
      "service dhtest.service: enable, start",
      "file /usr/lib/systemd/system/dhmask.service",
      "service dhmask.service: mask",
    ]);
    assert.equal(ct.exec(["systemctl", "is-enabled", "dhtest.service"]).trim(), "enabled");
    assert.equal(ct.exec(["systemctl", "is-active", "dhtest.service"]).trim(), "active");
    const pid1 = mainPid();

    const second = await run(plan("v1"));
    assert.equal(second.results[0].status, "unchanged", formatSummary(second));
    assert.equal(mainPid(), pid1, "nothing restarted");

    const third = await run(plan("v2"));
    assert.deepEqual(third.results[0].changes, ["file /etc/dhtest.conf", "service dhtest.service: restart"]);
    assert.notEqual(mainPid(), pid1, "restarted");
    assert.equal(ct.exec(["bash", "-c", "systemctl is-enabled dhmask.service || true"]).trim(), "masked");
  });

  it("installs only the missing packages (refreshing stale lists once), uploads with a non-root owner", async () => {
    // An offline apt repository inside the node with one tiny package; the node's lists do not know it yet.
    const pkg = path.join(dir, "pkg");
    fs.mkdirSync(path.join(pkg, "DEBIAN"), { recursive: true });
    fs.writeFileSync(
      path.join(pkg, "DEBIAN", "control"),
      "Package: dh-test-pkg\nVersion: 1.0\nArchitecture: all\nMaintainer: django-ha <ops@example.com>\nDescription: bootstrap test package\n",
    );
    const deb = path.join(dir, "dh-test-pkg_1.0_all.deb");
    execFileSync("dpkg-deb", ["--build", "--root-owner-group", pkg, deb], { stdio: "ignore" });
    ct.exec(["mkdir", "-p", "/srv/repo", "/root/apt-sources-off"]);
    ct.exec([
      "bash",
      "-c",
      "mv /etc/apt/sources.list.d/* /root/apt-sources-off/ 2>/dev/null || true; echo 'deb [trusted=yes] file:/srv/repo ./' > /etc/apt/sources.list.d/local.list",
    ]);
    ct.exec(["bash", "-c", "cat > /srv/repo/dh-test-pkg_1.0_all.deb"], fs.readFileSync(deb));
    const debBytes = fs.readFileSync(deb);
    const index = `Package: dh-test-pkg\nVersion: 1.0\nArchitecture: all\nMaintainer: django-ha <ops@example.com>\nFilename: ./dh-test-pkg_1.0_all.deb\nSize: ${debBytes.length}\nSHA256: ${sha256(debBytes)}\nDescription: bootstrap test package\n\n`;
    ct.exec(["bash", "-c", "cat > /srv/repo/Packages"], index);
    const src = path.join(dir, "release");
    fs.mkdirSync(path.join(src, "static"), { recursive: true });
    fs.writeFileSync(path.join(src, "static", "site.css"), "body{}\n");
    const actions: Action[] = [
      { kind: "packages", names: ["bash", "dh-test-pkg"] },
      { kind: "upload", name: "release", localDir: src, remoteDir: "/srv/share/releases/app", owner: "nobody", group: "nogroup" },
    ];
    const p = { ...plan("v2"), actions: [...plan("v2").actions, ...actions] };
    const first = await run(p);
    assert.equal(first.ok, true, formatSummary(first));
    assert.deepEqual(first.results[0].changes, ["packages: installed dh-test-pkg", "upload release → /srv/share/releases/app"]);
    assert.match(ct.exec(["dpkg-query", "-W", "-f=${Status}", "dh-test-pkg"]), /install ok installed/);
    assert.equal(ct.exec(["stat", "-c", "%U:%G", "/srv/share/releases/app/static/site.css"]).trim(), "nobody:nogroup");
    assert.match(ct.exec(["cat", "/var/log/django-ha/apt.log"]), /dh-test-pkg/);
    const second = await run(p);
    assert.equal(second.results[0].status, "unchanged", formatSummary(second));

    const missing = await run({ ...p, actions: [{ kind: "packages", names: ["dh-no-such-package"] }] });
    assert.equal(failureOf(missing.results[0])?.step, "packages (1)");
    assert.match(failureOf(missing.results[0])!.output, /Unable to locate package dh-no-such-package/);
  });

  it("a non-root user (AWS's admin) works through password-less sudo, and says so when sudo wants a password", async () => {
    ct.exec([
      "bash",
      "-c",
      "id deploy >/dev/null 2>&1 || useradd -m -s /bin/bash deploy; install -d -m 700 -o deploy -g deploy ~deploy/.ssh; install -m 600 -o deploy -g deploy /root/.ssh/authorized_keys ~deploy/.ssh/authorized_keys",
    ]);
    const asDeploy = (p: NodePlan) =>
      runBootstrap({
        plans: [p],
        connect: () =>
          SshExecutor.connect(
            {
              node: "ct-parent",
              host: ct.name,
              port: 22,
              username: "deploy",
              privateKey: ct.privateKey,
              knownHosts: new KnownHostsFile(path.join(dir, "known_hosts")),
            },
            { openSocket: () => ct.openSocket() },
          ),
      });
    const p: NodePlan = { ...plan("v2"), actions: [file("/etc/django-ha-sudo-test.conf", "via sudo\n")], checks: [] };
    const refused = await asDeploy(p);
    assert.equal(refused.ok, false);
    assert.match(failureOf(refused.results[0])!.output, /sudo: a password is required/);
    ct.exec(["bash", "-c", "echo 'deploy ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/deploy && chmod 440 /etc/sudoers.d/deploy"]);
    const ok = await asDeploy(p);
    assert.equal(ok.ok, true, formatSummary(ok));
    assert.deepEqual(ok.results[0].changes, ["file /etc/django-ha-sudo-test.conf"]);
    assert.equal(ct.exec(["stat", "-c", "%U %a", "/etc/django-ha-sudo-test.conf"]).trim(), "root 644");
  });

  it("a unit that fails to start is reported with its journal, and stops that node's plan", async () => {
    const broken: Action[] = [
      file("/etc/systemd/system/dhbroken.service", UNIT("ExecStartPre=/bin/sh -c 'echo dhbroken: bad config line 3 >&2; exit 1'\n")),
      { kind: "service", name: "dhbroken.service", state: "started", enabled: false, restartWhen: [] },
    ];
    const s = await run(plan("v2", broken));
    assert.equal(s.ok, false);
    const f = failureOf(s.results[0])!;
    assert.equal(f.step, "service dhbroken.service: start");
    assert.ok(f.code !== undefined && f.code !== 0);
    assert.match(f.output, /dhbroken: bad config line 3/, f.output);
  });
});
