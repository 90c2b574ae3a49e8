/**
 * Our sshd settings win on a real node: a throwaway node booted from the lab image (systemd-nspawn, private
 * network) that carries what cloud-init writes on a cloud machine (`50-cloud-init.conf` with
 * `PasswordAuthentication yes`), the lab's own drop-in, and the drop-in of an earlier version (which sorted
 * after cloud-init's and lost). The roles' sshd actions are applied by the bootstrap over SSH; `sshd -T`
 * (the effective configuration, which `sshd -t` does not show) and the listening socket are the proof.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { ensureImage } from "../../lab/image";
import { renderSshdConfig } from "../../lab/render";
import { renderNodePlan } from "../../roles";
import { OLD_SSHD_DROP_INS, SSHD_DROP_IN } from "../../roles/common";
import { fixtureContext, fixtureInventory } from "../../roles/fixtures";
import type { NodePlan } from "../../roles/types";
import { startTestContainer, TestContainer } from "../../test/ssh-container";
import { SshExecutor } from "../ssh/executor";
import { KnownHostsFile } from "../ssh/known-hosts";
import { formatSummary, runBootstrap } from "./orchestrate";

const PORT = 2222;
const CLOUD_INIT_DROP_IN = "/etc/ssh/sshd_config.d/50-cloud-init.conf";
const LAB_DROP_IN = "/etc/ssh/sshd_config.d/10-django-ha-lab.conf";

describe("sshd settings of the roles win over cloud-init's drop-in (real node, sshd -T)", () => {
  let ct: TestContainer;
  let dir: string;
  before(async () => {
    const image = await ensureImage({ log: () => {} });
    ct = await startTestContainer(image.root);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "sshd-lab-"));
  });
  after(async () => {
    await ct?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const write = (file: string, content: string) => ct.exec(["bash", "-c", 'cat > "$1"', "write", file], content);
  /** Effective sshd settings for a root login from an admin address, as sshd itself resolves them. */
  const effective = (): Map<string, string[]> => {
    const out = ct.exec(["/usr/sbin/sshd", "-T", "-C", "user=root,host=admin,addr=10.231.0.1"]);
    const m = new Map<string, string[]>();
    for (const line of out.trim().split("\n")) {
      const [k, ...v] = line.split(" ");
      m.set(k, [...(m.get(k) ?? []), v.join(" ")]);
    }
    return m;
  };
  /** The roles' own sshd steps (drop-in, removal of the old one, reload), from the real plan of a node. */
  const sshdPlan = (): NodePlan => {
    const ctx = fixtureContext({ inventory: fixtureInventory({ ssh: { user: "root", port: PORT } }) });
    const full = renderNodePlan(ctx.inventory.nodes[0], ctx);
    const actions = full.actions.filter(
      (a) =>
        (a.kind === "file" && a.file.path === SSHD_DROP_IN) ||
        (a.kind === "script" && a.name === "sshd-old-drop-in-off") ||
        (a.kind === "service" && a.name === "ssh"),
    );
    assert.equal(actions.length, 3, "the roles' plan has the drop-in, the old drop-in's removal and the ssh service");
    return { ...full, actions, checks: full.checks.filter((c) => c.name === "sshd config valid") };
  };
  const run = (p: NodePlan) =>
    runBootstrap({
      plans: [p],
      checkIntervalMs: 500,
      connect: () =>
        SshExecutor.connect(
          {
            node: p.node.name,
            host: ct.name,
            port: 22,
            username: "root",
            privateKey: ct.privateKey,
            knownHosts: new KnownHostsFile(path.join(dir, "known_hosts")),
          },
          { openSocket: () => ct.openSocket() },
        ),
    });
  const listening = () =>
    ct
      .exec(["ss", "-Hltn"])
      .trim()
      .split("\n")
      .map((l) => l.split(/\s+/)[3])
      .sort();

  it("a drop-in sorting after cloud-init's loses to its PasswordAuthentication yes (the bug this guards against)", () => {
    write(CLOUD_INIT_DROP_IN, "PasswordAuthentication yes\n");
    // What earlier versions wrote, under a name that sorts after 50-cloud-init.conf.
    write(OLD_SSHD_DROP_INS[0], "Port 22\nPasswordAuthentication no\n");
    assert.deepEqual(effective().get("passwordauthentication"), ["yes"]);
    // A lab node also carries the lab's drop-in (it sorts after the roles' one: checked below).
    write(LAB_DROP_IN, renderSshdConfig());
  });

  it("the roles' drop-in wins: passwords off, the configured port only, the old drop-in gone; a second run changes nothing", async () => {
    const first = await run(sshdPlan());
    assert.equal(first.ok, true, formatSummary(first));
    assert.deepEqual(first.results[0].changes, [`file ${SSHD_DROP_IN}`, "script sshd-old-drop-in-off", "service ssh: reload"]);
    assert.equal(
      ct.exec(["bash", "-c", `ls ${OLD_SSHD_DROP_INS[0]} 2>&1 || true`]).includes("No such file"),
      true,
      "the old drop-in is removed",
    );
    assert.equal(ct.exec(["cat", CLOUD_INIT_DROP_IN]), "PasswordAuthentication yes\n", "cloud-init's file is left as it is");

    const eff = effective();
    assert.deepEqual(eff.get("passwordauthentication"), ["no"]);
    assert.deepEqual(eff.get("port"), [String(PORT)]);
    assert.deepEqual(eff.get("kbdinteractiveauthentication"), ["no"]);
    assert.deepEqual(eff.get("permitrootlogin"), ["without-password"]);
    assert.deepEqual(eff.get("maxauthtries"), ["3"]);
    // The lab's drop-in adds only what the roles leave open (it overrides nothing of theirs).
    assert.deepEqual(eff.get("usedns"), ["no"]);

    // The reload made the running sshd listen on the new port, and only there.
    let ports: string[] = [];
    for (let i = 0; i < 25 && !ports.some((p) => p.endsWith(`:${PORT}`)); i++) {
      await new Promise((r) => setTimeout(r, 200));
      ports = listening();
    }
    assert.ok(
      ports.some((p) => p.endsWith(`:${PORT}`)),
      `sshd listens on ${PORT}: ${ports.join(" ")}`,
    );
    assert.ok(!ports.some((p) => p.endsWith(":22")), `nothing listens on 22 any more: ${ports.join(" ")}`);

    const second = await run(sshdPlan());
    assert.equal(second.results[0].status, "unchanged", formatSummary(second));
  });
});
