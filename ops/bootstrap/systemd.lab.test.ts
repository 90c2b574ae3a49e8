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
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { formatSummary, runBootstrap } from "./orchestrate";

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

  const file = (p: string, content: string): Action => ({ kind: "file", file: { path: p, content, mode: "0644", owner: "root", group: "root" } });
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
          { node: "ct-parent", host: ct.name, port: 22, username: "root", privateKey: ct.privateKey, knownHosts: new KnownHostsFile(path.join(dir, "known_hosts")) },
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

  it("a unit that fails to start is reported with its journal, and stops that node's plan", async () => {
    const broken: Action[] = [
      file("/etc/systemd/system/dhbroken.service", UNIT("ExecStartPre=/bin/sh -c 'echo dhbroken: bad config line 3 >&2; exit 1'\n")),
      { kind: "service", name: "dhbroken.service", state: "started", enabled: false, restartWhen: [] },
    ];
    const s = await run(plan("v2", broken));
    assert.equal(s.ok, false);
    const f = s.results[0].failure!;
    assert.equal(f.step, "service dhbroken.service: start");
    assert.ok(f.code !== undefined && f.code !== 0);
    assert.match(f.output, /dhbroken: bad config line 3/, f.output);
  });
});
