/**
 * The whole cluster end to end in the lab, as root (issue 4): boot the default lab, bootstrap it with the real
 * roles over SSH — through the Bootstrap dynamic provider's create, the code `pulumi up` runs (issue 7) — then
 * use it as a visitor would — through the round-robin name, from the lab's "outside"
 * namespace (10.231.0.250, not a cluster member, not an admin address). Traffic stays on 10.231.0.0/24.
 */
import assert from "node:assert/strict";
import { execFile, execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import {
  isClean,
  labCapabilities,
  labDns,
  labDown,
  labPower,
  labPaths,
  labRemoveVolumes,
  labReplaceMachine,
  labSource,
  labSsh,
  labUp,
  type AfterBootContext,
} from "../lab";
import { outside } from "./drill/web";
import { curlVerify } from "./lab-tls";
import { bootstrapProvider, renderPlans, type BootstrapInputs, type BootstrapOutputs } from "../components/bootstrap";
import { scriptLog } from "../ops/bootstrap/commands";
import { bootstrapStack, loadOrCreateSecrets, plansHash, stackStateDir } from "../ops/bootstrap";
import { loadStackSpec, recordMembers, type Inventory } from "../model";
import { labShareMount } from "../roles/share";
import type { ClusterStatus } from "../ops/status";
import { bundleAgent } from "../ops/acme/bundle";
import { bundleHealthAgent } from "../ops/health/bundle";
import { HEALTH_PATHS, HEALTH_SERVICE } from "../roles/health";
import { APP_WATCH, APP_WATCH_SERVICE } from "../roles/appwatch";
import { healthDnsSecret } from "../ops/bootstrap/health";

const LAB_DNS = "10.231.0.2";
const healthJournal = (node: string) => onNode(node, `journalctl -u ${HEALTH_SERVICE} -o cat --no-pager`);
const inRecord = async () => (await labDns().listMembers("www.lab.test")).map((m) => m.address).sort();
/** Seconds until the record lists exactly `want` (polled every 0.25 s), or a failure after `limit` s. */
async function recordBecomes(want: string[], limit: number): Promise<number> {
  const t0 = Date.now();
  let got: string[] = [];
  while (Date.now() - t0 < limit * 1000) {
    got = await inRecord();
    if (JSON.stringify(got) === JSON.stringify([...want].sort())) return (Date.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, 250));
  }
  return assert.fail(`the record is [${got.join(", ")}] after ${limit} s, expected [${[...want].sort().join(", ")}]`);
}
/** Freeze (SIGSTOP) or thaw every process of a child's uWSGI: the app hangs, nginx and the machine stay up. */
const hang = (node: string, signal: "SIGSTOP" | "SIGCONT") => onNode(node, `systemctl kill --signal=${signal} django-ha-uwsgi`);

/** A script on a node as root; its limit is above uWSGI's stop timeout (TimeoutStopSec=90), so a slow stop shows as one. */
async function onNode(node: string, script: string): Promise<string> {
  const r = await labSsh(node, ["bash", "-c", script], { timeoutMs: 120_000 });
  assert.equal(r.code, 0, `${node}: ${script} exited ${r.code}: ${r.stderr}`);
  return r.stdout.trim();
}

/** `npm run status -- <args>` as an operator runs it (its own process: real exit status, stdout and stderr apart). */
function status(args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", path.join(__dirname, "..", "scripts", "status.ts"), "--stack", "lab", ...args],
      { timeout: 120_000 },
      (err, out, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out, err: stderr }),
    );
  });
}

let inventory: Inventory;
/** What `pulumi up` hands the Bootstrap resource for the lab's hosts stack, and what its create returned. */
let runInputs: BootstrapInputs;
let created: BootstrapOutputs | undefined;
let fqdn: string;
/** The record's members as the lab DNS answers them from outside. */
let members: string[];

/** curl through the round-robin name, pinned to one member (as a browser that resolved to it would be). */
async function web(address: string, urlPath: string, extra: string[] = []): Promise<{ status: number; body: string }> {
  const r = await outside([
    "curl",
    "-s",
    ...curlVerify(),
    "--max-time",
    "20",
    "--resolve",
    `${fqdn}:443:${address}`,
    "-w",
    "\n%{http_code}",
    ...extra,
    `https://${fqdn}${urlPath}`,
  ]);
  assert.equal(r.code, 0, `curl ${urlPath} via ${address} failed: ${r.stderr}`);
  const cut = r.stdout.lastIndexOf("\n");
  return { status: Number(r.stdout.slice(cut + 1)), body: r.stdout.slice(0, cut) };
}

/** Whether a TCP connect from outside to address:port completes within 2 s (the firewalls drop, so no answer = closed). */
async function answers(address: string, port: number): Promise<boolean> {
  const r = await outside(["timeout", "2", "bash", "-c", `exec 3<>/dev/tcp/${address}/${port}`], 10_000);
  return r.code === 0;
}

/** The host's view of a lab volume file's filesystem (blkid on the file itself: no loop device needed). */
function filesystemOf(node: string, purpose: "db" | "share"): { uuid: string; label: string } {
  const file = path.join(labPaths().root, "volumes", `${node}-${purpose}.img`);
  const value = (tag: string) => execFileSync("blkid", ["-p", "-s", tag, "-o", "value", file], { encoding: "utf8" }).trim();
  return { uuid: value("UUID"), label: value("LABEL") };
}

const labState = stackStateDir("lab");
/** The lab's plans as bootstrapHaCluster renders them (secrets: the lab stack's, which the command line uses too). */
async function labPlans(inv: Inventory) {
  return renderPlans({
    spec: loadStackSpec("lab"),
    inventory: inv,
    secrets: loadOrCreateSecrets(path.join(labState, "secrets.json")),
    appDir: path.resolve(__dirname, "..", "app"),
    shareMount: labShareMount(inv),
    acme: { agentSource: await bundleAgent() },
    health: {
      agentSource: await bundleHealthAgent(),
      dnsSecret: healthDnsSecret({
        stack: "lab",
        inventory: inv,
        health: loadStackSpec("lab").health,
        capabilities: labCapabilities("lab"),
      }),
    },
  });
}

/** The Bootstrap resource's inputs for the running lab. */
async function labRunInputs(ctx: AfterBootContext): Promise<BootstrapInputs> {
  const plans = await labPlans(ctx.inventory);
  const privateKey = fs.readFileSync(ctx.paths.sshKey, "utf8");
  return {
    inventory: ctx.inventory,
    plans,
    privateKey,
    knownHostsPath: ctx.paths.knownHosts,
    lockPath: path.join(labState, "bootstrap.lock"),
    concurrency: 4,
    plansHash: plansHash(plans),
  };
}

before(async () => {
  await labDown({ log: () => undefined });
  // Every run starts from blank volumes, as a new installation does (the files would otherwise keep the last run's data).
  await labRemoveVolumes({ log: () => undefined });
  const up = await labUp({
    log: () => undefined,
    afterBoot: [
      async (ctx) => {
        runInputs = await labRunInputs(ctx);
        created = (await bootstrapProvider.create!(runInputs)).outs;
      },
    ],
  });
  inventory = up.inventory;
  fqdn = inventory.recordFqdn;
});

after(async () => {
  const left = await labDown({ log: () => undefined });
  assert.ok(isClean(left), `lab down left something behind: ${JSON.stringify(left)}`);
});

describe("the cluster in the lab, bootstrapped from bare nodes", () => {
  it("bootstrapped every node without a failure (the Bootstrap provider's create, as in pulumi up)", () => {
    assert.ok(created, "the bootstrap hook did not report");
    assert.deepEqual(Object.keys(created.result).sort(), inventory.nodes.map((n) => n.name).sort());
    for (const [node, result] of Object.entries(created.result)) assert.match(result, /^\d+ changes$/, node);
    assert.equal(created.plansHash, runInputs.plansHash);
  });

  it("resolves the round-robin name from outside to exactly the children, TTL 30", async () => {
    const dns = inventory.dns;
    assert.equal(dns.kind, "rfc2136");
    const r = await outside(["dig", "+noall", "+answer", `@${dns.kind === "rfc2136" ? dns.server : ""}`, fqdn, "A"]);
    assert.equal(r.code, 0, r.stderr);
    const rows = r.stdout
      .trim()
      .split("\n")
      .map((l) => l.split(/\s+/));
    members = rows.map((f) => f[4]).sort();
    assert.deepEqual(
      members,
      recordMembers(inventory)
        .map((c) => c.publicAddress)
        .sort(),
    );
    assert.ok(
      rows.every((f) => f[1] === String(inventory.ttl)),
      `TTLs: ${r.stdout}`,
    );
  });

  it("each child serves the app through nginx → uWSGI, healthy, and HTTP redirects to HTTPS", async () => {
    const children = recordMembers(inventory);
    for (const child of children) {
      const h = await web(child.publicAddress, "/health/");
      assert.equal(h.status, 200, h.body);
      const health = JSON.parse(h.body);
      assert.deepEqual(health, { status: "ok", db: "ok", share: "ok", node: child.name });
      const plain = await outside([
        "curl",
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code} %{redirect_url}",
        "--max-time",
        "10",
        "--resolve",
        `${fqdn}:80:${child.publicAddress}`,
        `http://${fqdn}/notes/`,
      ]);
      assert.equal(plain.stdout, `301 https://${fqdn}/notes/`);
    }
  });

  it("a note written via one child is read via another", async () => {
    const [a, b] = members;
    const text = `note-${process.pid}-${Date.now()}`;
    const w = await web(a, "/notes/", ["--data-urlencode", `text=${text}`]);
    assert.equal(w.status, 201, w.body);
    const r = await web(b, "/notes/");
    assert.equal(r.status, 200);
    const notes = JSON.parse(r.body).notes as { text: string; node: string }[];
    const found = notes.find((n) => n.text === text);
    assert.ok(found, `note not visible via ${b}`);
    assert.equal(found.node, inventory.nodes.find((n) => n.publicAddress === a)!.name, "the note should record the child that wrote it");
  });

  it("a file uploaded via one child is served (by nginx, from the share) by another", async () => {
    const [a, b] = members;
    const local = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "dha-up-")), "hello.txt");
    const content = `uploaded ${process.pid} ${Date.now()}\n`;
    fs.writeFileSync(local, content);
    const up = await web(a, "/files/", ["-F", `file=@${local}`]);
    assert.equal(up.status, 201, up.body);
    const { url } = JSON.parse(up.body) as { url: string };
    assert.match(url, /^\/media\/uploads\//);
    const got = await web(b, url);
    assert.equal(got.status, 200);
    assert.equal(got.body, content);
    // The parent's NFS export (nfs-ganesha) serves the same file to every child and the worker, over NFS itself.
    for (const n of inventory.nodes.filter((x) => x.role === "child" || x.role === "worker")) {
      assert.equal(
        await onNode(n.name, `nfs-cat nfs://${inventory.primaryHostname}/srv/share${url}`),
        content.trim(),
        `${n.name} over NFS`,
      );
    }
  });

  it("a video job uploaded via one child is transcoded by the worker (ffmpeg) and served by another child", async () => {
    const [a, b] = members;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dha-video-"));
    const clip = path.join(dir, "clip.avi");
    const ff = await new Promise<number>((resolve) => {
      const p = spawn("ffmpeg", ["-loglevel", "error", "-f", "lavfi", "-i", "testsrc=duration=1:size=160x120:rate=10", "-y", clip], {
        stdio: "ignore",
      });
      p.on("close", (c) => resolve(c ?? -1));
    });
    assert.equal(ff, 0, "ffmpeg could not make the test clip");
    const posted = await web(a, "/videos/", ["-F", `file=@${clip}`]);
    assert.equal(posted.status, 202, posted.body);
    const { id } = JSON.parse(posted.body) as { id: number };
    let job: { status: string; output: string | null; error?: string } = { status: "queued", output: null };
    for (let i = 0; i < 90 && !["done", "failed"].includes(job.status); i++) {
      await new Promise((r) => setTimeout(r, 1000));
      job = JSON.parse((await web(b, `/videos/${id}/`)).body);
    }
    assert.equal(job.status, "done", `job ${id}: ${JSON.stringify(job)}`);
    assert.ok(job.output);
    const saved = path.join(dir, "out.mp4");
    const out = await outside([
      "curl",
      "-s",
      ...curlVerify(),
      "--fail",
      "--max-time",
      "20",
      "--resolve",
      `${fqdn}:443:${b}`,
      "-o",
      saved,
      `https://${fqdn}${job.output}`,
    ]);
    assert.equal(out.code, 0, out.stderr);
    const mp4 = fs.readFileSync(saved);
    assert.ok(mp4.length > 1000, `output is ${mp4.length} bytes`);
    assert.equal(mp4.subarray(4, 8).toString("latin1"), "ftyp", "the output is not an MP4 file");
  });

  it("the database and the share live on the volumes: blank at first, formatted once (ext4, labelled), mounted by UUID", async () => {
    for (const node of [inventory.primary, inventory.standby]) {
      for (const [purpose, where, unit] of [
        ["db", "/var/lib/postgresql", "var-lib-postgresql.mount"],
        ["share", "/srv/share", "srv-share.mount"],
      ] as const) {
        const fsys = filesystemOf(node, purpose);
        assert.equal(fsys.label, `django-ha-${purpose}`, `${node} ${purpose}`);
        assert.match(
          await onNode(node, `cat ${scriptLog(`volume-${purpose}`)}`),
          /formatting the blank/,
          `${node}: the first bootstrap formatted the blank ${purpose} volume`,
        );
        assert.match(await onNode(node, `cat /etc/systemd/system/${unit}`), new RegExp(`^What=UUID=${fsys.uuid}$`, "m"));
        assert.equal(await onNode(node, `findmnt -n -o FSTYPE --mountpoint ${where}`), "ext4", `${node}: ${where} is a mounted ext4`);
      }
      // PostgreSQL's data directory is on the db volume (the standby's pg_basebackup landed there too).
      assert.equal(
        await onNode(
          node,
          `test "$(stat -c %d "$(runuser -u postgres -- psql -XAtc 'show data_directory')")" = "$(stat -c %d /var/lib/postgresql)" && mountpoint -q /var/lib/postgresql && echo on-volume`,
        ),
        "on-volume",
        node,
      );
    }
  });

  it(
    "replacing the parent's machine keeps its volumes: new root disk, same filesystems, nothing reformatted, the data served again",
    { timeout: 300_000 },
    async () => {
      const [a, b] = members;
      const text = `kept-${process.pid}-${Date.now()}`;
      assert.equal((await web(a, "/notes/", ["--data-urlencode", `text=${text}`])).status, 201);
      const local = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "dha-keep-")), "kept.txt");
      const content = `on the share before the replacement ${Date.now()}\n`;
      fs.writeFileSync(local, content);
      const up = await web(a, "/files/", ["-F", `file=@${local}`]);
      assert.equal(up.status, 201, up.body);
      const { url } = JSON.parse(up.body) as { url: string };
      const before = { db: filesystemOf(inventory.primary, "db"), share: filesystemOf(inventory.primary, "share") };
      const machineId = await onNode(inventory.primary, "cat /etc/machine-id");
      await onNode(inventory.primary, "touch /root/on-the-old-root-disk");

      await labReplaceMachine(inventory.primary, { log: () => undefined });
      assert.notEqual(await onNode(inventory.primary, "cat /etc/machine-id"), machineId, "a new machine");
      assert.equal(
        await onNode(inventory.primary, "test -e /root/on-the-old-root-disk && echo old || echo new"),
        "new",
        "a new, empty root disk",
      );
      // The whole cluster, as after any replacement: the new machine made a new share-sync key (it lives on the root
      // disk, never on the exported share), which the standby must authorize; nothing else changes elsewhere.
      const { summary } = await bootstrapStack({ stack: "lab", sources: [labSource()], log: () => undefined });
      assert.ok(summary.ok, JSON.stringify(summary.results));
      const others = summary.results.filter((r) => r.node !== inventory.primary).map((r) => [r.node, r.changes]);
      assert.deepEqual(
        others,
        inventory.nodes
          .filter((n) => n.name !== inventory.primary)
          .map((n) => [n.name, n.name === inventory.standby ? ["script share-sync-authorize"] : []]),
      );

      assert.deepEqual(
        { db: filesystemOf(inventory.primary, "db"), share: filesystemOf(inventory.primary, "share") },
        before,
        "same filesystems (UUIDs): nothing was reformatted",
      );
      const volumeLogs = await onNode(inventory.primary, `cat ${scriptLog("volume-db")} ${scriptLog("volume-share")}`);
      assert.doesNotMatch(volumeLogs, /formatting|mkfs|seeding/, "the bootstrap of the new machine neither formatted nor seeded a volume");
      const notes = JSON.parse((await web(b, "/notes/")).body).notes as { text: string }[];
      assert.ok(
        notes.some((n) => n.text === text),
        "the note written before the replacement is served again",
      );
      const got = await web(b, url);
      assert.equal(got.status, 200);
      assert.equal(got.body, content, "the file uploaded before the replacement is served again");
      assert.equal(await onNode(inventory.primary, `cat /srv/share${url}`), content.trim(), "on the parent's own share volume");
      assert.equal(
        await onNode(inventory.primary, `runuser -u postgres -- psql -AtXc "select state, sync_state from pg_stat_replication"`),
        "streaming|sync",
        "the standby streams from the replaced parent again",
      );
      // And the share replicates to the standby again (lsyncd on the new machine, with its new key).
      await onNode(inventory.primary, "echo after-replacement > /srv/share/media/after-replacement.txt");
      let replicated = "";
      for (let i = 0; i < 30 && replicated !== "after-replacement"; i++) {
        await new Promise((r) => setTimeout(r, 1000));
        replicated = (await labSsh(inventory.standby, ["cat", "/srv/share/media/after-replacement.txt"])).stdout.trim();
      }
      assert.equal(replicated, "after-replacement", "the share reaches the standby's share volume again");
    },
  );

  it("the standby is a hot standby, streaming, synchronous", async () => {
    const rows = await onNode(
      inventory.primary,
      `runuser -u postgres -- psql -AtXc "select application_name, state, sync_state from pg_stat_replication"`,
    );
    assert.equal(rows, "standby|streaming|sync");
    assert.equal(await onNode(inventory.standby, `runuser -u postgres -- psql -AtXc "select pg_is_in_recovery()"`), "t");
  });

  it("from outside, only 80 and 443 on the children answer: not SSH, DB, NFS, Redis, nor any port of the other nodes", async () => {
    const ports = [22, 80, 443, 111, 2049, 5432, 6379, 20048];
    const probes = inventory.nodes.flatMap((n) => ports.map((port) => ({ node: n, port })));
    const open = (
      await Promise.all(probes.map(async (p) => ((await answers(p.node.publicAddress, p.port)) ? `${p.node.name}:${p.port}` : "")))
    )
      .filter(Boolean)
      .sort();
    const expected = recordMembers(inventory)
      .flatMap((c) => [`${c.name}:443`, `${c.name}:80`])
      .sort();
    assert.deepEqual(open, expected);
  });

  it("a second pulumi up: the same plans render the same hash, diff says no change, update changes nothing", async () => {
    const again = plansHash(await labPlans(inventory));
    assert.equal(again, runInputs.plansHash, "rendering is deterministic");
    assert.deepEqual(await bootstrapProvider.diff!("lab-bootstrap", created!, { ...runInputs, plansHash: again }), {
      changes: false,
      replaces: [],
      deleteBeforeReplace: false,
    });
    const updated = await bootstrapProvider.update!("lab-bootstrap", created!, runInputs);
    assert.deepEqual(
      Object.values(updated.outs!.result),
      inventory.nodes.map(() => "no changes"),
    );
  });

  it("a second bootstrap from the command line (same plans) changes nothing on any node", async () => {
    const { summary } = await bootstrapStack({ stack: "lab", sources: [labSource()], log: () => undefined });
    assert.ok(summary.ok, JSON.stringify(summary.results.filter((r) => r.status !== "unchanged")));
    const changed = summary.results.filter((r) => r.status !== "unchanged").map((r) => `${r.node}: ${JSON.stringify(r.changes)}`);
    assert.deepEqual(changed, []);
  });

  it(
    "npm run status: one screen and JSON, exit 0 while healthy; a child's stopped uWSGI needs a human (exit 1) until it is back",
    { timeout: 300_000 },
    async (t) => {
      const healthy = await status([]);
      assert.equal(healthy.code, 0, `${healthy.out}\n${healthy.err}`);
      assert.match(healthy.out, /^django-ha status of stack lab \(cluster lab\) at .*: HEALTHY\n/);
      for (const n of inventory.nodes) {
        assert.match(
          healthy.out,
          new RegExp(
            `^${n.name} +(primary|standby|child|worker) +${n.publicAddress.replace(/\./g, "\\.")} +ok +running +\\d+/\\d+ active +/ `,
            "m",
          ),
          n.name,
        );
        assert.match(healthy.err, new RegExp(`^${n.name} +│ answered in `, "m"), `progress line of ${n.name}`);
      }
      assert.match(
        healthy.out,
        new RegExp(`Database {6}primary ${inventory.primary} → standby ${inventory.standby} \\(policy strict\\): streaming, sync, lag \\d`),
      );
      assert.match(healthy.out, /^Live children lab-child-1, lab-child-2$/m);
      const json = await status(["--json"]);
      assert.equal(json.code, 0, json.err);
      const s = JSON.parse(json.out) as ClusterStatus;
      assert.equal(s.healthy, true);
      assert.deepEqual(
        s.record.members?.map((m) => m.address).sort(),
        recordMembers(inventory)
          .map((c) => c.publicAddress)
          .sort(),
      );
      const primary = s.nodes.find((n) => n.name === inventory.primary)!;
      assert.equal(primary.postgres?.replicas[0]?.syncState, "sync");
      assert.deepEqual(
        primary.disks.map((d) => d.mount),
        ["/", "/var/lib/postgresql", "/srv/share"],
        "the data volumes' use",
      );
      for (const c of s.nodes.filter((n) => n.role === "child")) {
        assert.equal(c.health?.httpStatus, 200, c.name);
        const cert = c.certificate;
        assert.ok(cert && !("error" in cert), `${c.name}: ${JSON.stringify(cert)}`);
        // The very file nginx serves: its notAfter as openssl reads it on the child.
        const end = await onNode(c.name, `openssl x509 -enddate -noout -in ${cert.path} | sed 's/^notAfter=//'`);
        assert.equal(cert.notAfter, new Date(end.replace(/ GMT$/, " UTC")).toISOString(), c.name);
      }

      const child = recordMembers(inventory)[0].name;
      try {
        // Inside the try: a stop that fails still leaves uWSGI started again for the tests after this one.
        const stopping = Date.now();
        await onNode(child, "systemctl stop django-ha-uwsgi");
        t.diagnostic(`systemctl stop django-ha-uwsgi on ${child}: ${((Date.now() - stopping) / 1000).toFixed(1)} s`);
        const broken = await status([]);
        assert.equal(broken.code, 1, broken.out);
        assert.match(broken.out, /: NEEDS A HUMAN \(\d+ problems?\)\n/);
        assert.match(broken.out, new RegExp(`✗ ${child}: django-ha-uwsgi.service is inactive`));
        // nginx answers at once: 502 while uWSGI is down, 503 once the child's watchdog raised its flag.
        assert.match(broken.out, new RegExp(`✗ ${child}: /health/ answers 50[23]`));
        // The health agent takes it out of the record (1 s rounds here); the screen shows the change.
        await recordBecomes(
          recordMembers(inventory)
            .filter((c) => c.name !== child)
            .map((c) => c.publicAddress),
          30,
        );
        const out = await status([]);
        assert.equal(out.code, 1, out.out);
        assert.match(out.out, new RegExp(`^Health agent  last changes:\n  \\S+ \\S+ \\S+: removed ${child} `, "m"));
        assert.doesNotMatch(out.out, new RegExp(`the record lists ${child}`));
      } finally {
        await onNode(child, "systemctl start django-ha-uwsgi");
      }
      await recordBecomes(
        recordMembers(inventory).map((c) => c.publicAddress),
        30,
      );
      const back = await status([]);
      assert.equal(back.code, 0, back.out);
    },
  );

  it("the health agent, installed by the bootstrap on both database machines: the primary acts, the standby idles", async () => {
    for (const node of [inventory.primary, inventory.standby])
      assert.equal((await onNode(node, `systemctl is-active ${HEALTH_SERVICE}`)).trim(), "active", node);
    assert.match(await healthJournal(inventory.primary), /^the primary: checking 2 children of www\.lab\.test every 1 s$/m);
    assert.match(await healthJournal(inventory.standby), /^not the primary \(PostgreSQL is in recovery \(a standby\)\): idle$/m);
    // The credential only where the agent runs, root only.
    for (const n of inventory.nodes) {
      const mode = await onNode(n.name, `stat -c %a ${HEALTH_PATHS.env} 2>/dev/null || echo absent`);
      assert.equal(mode.trim(), n.role === "parent" || n.role === "standby" ? "600" : "absent", n.name);
    }
  });

  it(
    "a hung app fails fast (nginx answers 503 at once) and its child leaves the record; clients resolving through the lab DNS stop getting it; it comes back",
    { timeout: 180_000 },
    async (t) => {
      const [c1, c2] = recordMembers(inventory);
      const both = [c1.publicAddress, c2.publicAddress];
      await recordBecomes(both, 10);
      await hang(c1.name, "SIGSTOP");
      try {
        const out = await recordBecomes([c2.publicAddress], 30);
        // A fresh client: resolves through the lab DNS, then asks the address it got, 10 times.
        for (let i = 0; i < 10; i++) {
          const dig = await outside(["dig", "+short", `@${LAB_DNS}`, fqdn, "A"]);
          assert.deepEqual(dig.stdout.trim().split("\n"), [c2.publicAddress], "the lab DNS hands out only the live child");
          assert.equal((await web(dig.stdout.trim(), "/health/")).status, 200);
        }
        // The hung child itself, asked directly once its watchdog saw 3 failed answers: a quick 503, not a hang.
        const flagged = Date.now();
        while ((await onNode(c1.name, `test -e ${APP_WATCH.flag} && echo up || echo down`)).trim() !== "up") {
          assert.ok(Date.now() - flagged < 30_000, "the child's watchdog raised no flag within 30 s");
          await new Promise((r) => setTimeout(r, 500));
        }
        const t0 = Date.now();
        const direct = await outside([
          "curl",
          "-sS",
          "-o",
          "/dev/null",
          "-D",
          "-",
          "--max-time",
          "10",
          ...curlVerify(),
          "--resolve",
          `${fqdn}:443:${c1.publicAddress}`,
          `https://${fqdn}/`,
        ]);
        const ms = Date.now() - t0;
        assert.match(direct.stdout, /^HTTP\/\S+ 503/m, direct.stdout + direct.stderr);
        assert.match(direct.stdout, /^retry-after: 10/im);
        assert.ok(ms < 2000, `the hung child answered in ${ms} ms`);
        assert.match(
          await onNode(c1.name, `journalctl -u ${APP_WATCH_SERVICE} -o cat --no-pager`),
          /did not answer \/health\/ 3 times in a row/,
        );
        await hang(c1.name, "SIGCONT");
        const back = await recordBecomes(both, 30);
        assert.match(
          await healthJournal(inventory.primary),
          new RegExp(
            `^removed ${c1.name} \\(${c1.publicAddress.replace(/\./g, "\\.")}\\) from the record: 3 consecutive failed probes \\(last: (HTTP 503|no answer within 1000 ms)`,
            "m",
          ),
        );
        assert.match(await healthJournal(inventory.primary), new RegExp(`^added back ${c1.name} `, "m"));
        t.diagnostic(
          `hung child: out of the record ${out.toFixed(1)} s after its uWSGI stopped, back ${back.toFixed(1)} s after it recovered; answered 503 in ${ms} ms`,
        );
      } finally {
        await hang(c1.name, "SIGCONT");
      }
    },
  );

  it("a child that dies (powered off) leaves the record, and comes back after it starts again", { timeout: 300_000 }, async (t) => {
    const [c1, c2] = recordMembers(inventory);
    const both = [c1.publicAddress, c2.publicAddress];
    await recordBecomes(both, 10);
    await labPower().fence(c1.name);
    let restarted = false;
    try {
      const out = await recordBecomes([c2.publicAddress], 30);
      const dig = await outside(["dig", "+short", `@${LAB_DNS}`, fqdn, "A"]);
      assert.deepEqual(dig.stdout.trim().split("\n"), [c2.publicAddress]);
      await labPower().start(c1.name);
      restarted = true;
      const back = await recordBecomes(both, 180);
      assert.equal((await web(c1.publicAddress, "/health/")).status, 200, "the restarted child serves again");
      t.diagnostic(
        `dead child out of the record ${out.toFixed(1)} s after its power-off; back ${back.toFixed(1)} s after the lab reported it booted (SSH answering)`,
      );
    } finally {
      if (!restarted) await labPower().start(c1.name);
    }
  });

  it("the last child is never removed (fail open), and the standby's agent never acted", { timeout: 180_000 }, async () => {
    const [c1, c2] = recordMembers(inventory);
    const both = [c1.publicAddress, c2.publicAddress];
    await recordBecomes(both, 30);
    try {
      await hang(c1.name, "SIGSTOP");
      await recordBecomes([c2.publicAddress], 30);
      await hang(c2.name, "SIGSTOP");
      await new Promise((r) => setTimeout(r, 10_000));
      assert.deepEqual(await inRecord(), [c2.publicAddress], "never the last member");
      assert.match(
        await healthJournal(inventory.primary),
        /every child in the record fails: the record keeps .* \(fail open; never the last member\)/,
      );
    } finally {
      await hang(c1.name, "SIGCONT");
      await hang(c2.name, "SIGCONT");
    }
    await recordBecomes(both, 30);
    const standby = await healthJournal(inventory.standby);
    assert.doesNotMatch(standby, /^(removed|added back|the primary: checking)/m, "the standby's agent never acted");
  });
});
