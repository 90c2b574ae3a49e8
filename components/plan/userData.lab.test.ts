/**
 * The rendered user data through Debian's real cloud-init on a node booted from the lab image, as on a fresh
 * droplet or EC2 instance: a NoCloud seed holds the user data, cloud-init's network stage runs (where
 * write_files, users-groups and ssh run, before sshd starts: cloud-init.service is `Before=sshd.service`), then
 * sshd starts. The bootstrap then logs in as the new `sshUser` and changes the machine through `sudo -n`.
 * The node has no network (throwaway nspawn node, SSH over a pipe); cloud-init is the image's own (the nodes'
 * Debian release, as on its cloud images; lab/config.ts INFRA_PACKAGES), enabled on this node only.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { ensureImage } from "../../lab/image";
import { formatSummary, runBootstrap } from "../../ops/bootstrap/orchestrate";
import { SshExecutor } from "../../ops/ssh/executor";
import { KnownHostsFile } from "../../ops/ssh/known-hosts";
import type { NodePlan } from "../../roles/types";
import { startTestContainer, TestContainer } from "../../test/ssh-container";
import { renderUserData } from "./userData";

const USER = "deploy";
const PORT = 2222;

describe("user data through Debian's cloud-init on a lab-image node (first boot)", () => {
  let ct: TestContainer;
  let dir: string;
  let cloudInit = "";
  let cloudInitLog = "";
  before(async () => {
    const image = await ensureImage({ log: () => {} });
    ct = await startTestContainer(image.root);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "user-data-lab-"));
    const key = path.join(dir, "id");
    fs.writeFileSync(key, ct.privateKey, { mode: 0o600 });
    const publicKey = execFileSync("ssh-keygen", ["-y", "-f", key], { encoding: "utf8" }).trim();
    // What a cloud's metadata service hands cloud-init, as a NoCloud seed; Debian's own cloud.cfg.
    ct.exec([
      "bash",
      "-c",
      "rm -f /etc/cloud/cloud-init.disabled && mkdir -p /var/lib/cloud/seed/nocloud && echo 'datasource_list: [NoCloud, None]' > /etc/cloud/cloud.cfg.d/90-test.cfg",
    ]);
    ct.exec(
      ["bash", "-c", "cat > /var/lib/cloud/seed/nocloud/user-data"],
      renderUserData({ sshPublicKeys: [publicKey], user: USER, port: PORT }),
    );
    ct.exec(["bash", "-c", "printf 'instance-id: iid-django-ha-test\\nlocal-hostname: ct\\n' > /var/lib/cloud/seed/nocloud/meta-data"]);
    // First boot: cloud-init's network stage, then sshd starts with what it wrote.
    // First boot as on a cloud: the local stage finds the seed (cloud-init-local.service), the network stage
    // runs write_files, users-groups and ssh (cloud-init-network.service), then sshd starts.
    cloudInit = ct.exec(["bash", "-c", "cd / && cloud-init init --local 2>&1 && cloud-init init 2>&1; systemctl restart ssh"]);
    cloudInitLog = ct.exec(["cat", "/var/log/cloud-init.log"]);
  });
  after(async () => {
    await ct?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("cloud-init ran every module of its network stage without a failure", () => {
    assert.match(cloudInit, /Cloud-init v\. 25\.\d+\.\d+ running 'init'/);
    // Debian's 05_logging.cfg sends the DEBUG log to /var/log/cloud-init.log. The seed was found (not "None").
    assert.match(cloudInitLog, /instances\/iid-django-ha-test\//);
    assert.match(cloudInitLog, /main\.py\[DEBUG\]: Ran \d+ modules with 0 failures/);
    for (const module of ["write[-_]files", "users-groups", "ssh"])
      assert.match(cloudInitLog, new RegExp(`init-network/config-${module}: SUCCESS`), module);
  });

  it("sshd listens on sshPort only, passwords off", () => {
    const ports = ct
      .exec(["ss", "-Hltnp"])
      .split("\n")
      .filter((l) => l.includes('"sshd"'))
      .map((l) => l.split(/\s+/)[3]);
    assert.deepEqual([...new Set(ports.map((p) => p.slice(p.lastIndexOf(":") + 1)))], [String(PORT)], ports.join(" "));
    const eff = ct.exec(["/usr/sbin/sshd", "-T", "-C", `user=${USER},host=admin,addr=203.0.113.7`]);
    assert.match(eff, /^passwordauthentication no$/m);
    assert.match(eff, new RegExp(`^port ${PORT}$`, "m"));
  });

  it("sshUser exists with the key, and the bootstrap changes the machine through its password-less sudo", async () => {
    assert.match(ct.exec(["id", "-u", USER]), /^\d+\n$/);
    const plan: NodePlan = {
      node: { name: "ct-fresh", role: "child", publicAddress: "ct", privateAddress: "ct", zone: "a" },
      role: "child",
      actions: [
        {
          kind: "file",
          file: { path: "/etc/django-ha-first-boot", content: "bootstrapped\n", mode: "0640", owner: "root", group: "root" },
        },
      ],
      checks: [],
    };
    const summary = await runBootstrap({
      plans: [plan],
      connect: () =>
        SshExecutor.connect(
          {
            node: "ct-fresh",
            host: ct.name,
            port: PORT,
            username: USER,
            privateKey: ct.privateKey,
            knownHosts: new KnownHostsFile(path.join(dir, "known_hosts")),
          },
          { openSocket: () => ct.openSocket() },
        ),
    });
    assert.equal(summary.ok, true, formatSummary(summary));
    assert.deepEqual(summary.results[0].changes, ["file /etc/django-ha-first-boot"]);
    assert.equal(ct.exec(["stat", "-c", "%U %a", "/etc/django-ha-first-boot"]).trim(), "root 640");
  });
});
