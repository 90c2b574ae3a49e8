// The sample app against the real services it gets in a cluster, all on loopback: a PostgreSQL 15
// primary (127.0.0.1) with a streaming hot standby (127.0.0.2, same port), Redis with a password,
// the Celery worker on queue "video", uWSGI loading djangoha_app.wsgi. It proves the app contract end to
// end — libpq multi-host with target_session_attrs=read-write (the standby is listed FIRST and must be
// skipped), notes, uploads and a real ffmpeg job through the broker — and that after the primary stops
// and the standby is promoted the same DB_HOSTS finds the new primary (persistent connections included).
// Needs Debian's postgresql-15, redis-server, uwsgi-core, uwsgi-plugin-python3, python3-django & co.
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";

const appDir = __dirname;
const python = process.env.DJANGO_HA_PYTHON ?? "/usr/bin/python3";
const pgBin = "/usr/lib/postgresql/15/bin";
const PRIMARY = "127.0.0.1";
const STANDBY = "127.0.0.2";

// PostgreSQL refuses to run as root: as root, run its tools as the postgres user.
const isRoot = process.getuid?.() === 0;
const asPostgres = (argv: string[]): string[] => (isRoot ? ["runuser", "-u", "postgres", "--", ...argv] : argv);

function run(argv: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; allowFail?: boolean } = {}) {
  const result = spawnSync(argv[0], argv.slice(1), {
    cwd: options.cwd ?? "/",
    env: options.env ?? process.env,
    encoding: "utf8",
    timeout: 120_000,
  });
  const output = `${result.stdout ?? ""}${result.stderr ?? ""}`;
  if (result.error) throw new Error(`${argv.join(" ")}: ${result.error.message}`);
  if (result.status !== 0 && !options.allowFail) {
    throw new Error(`${argv.join(" ")} exited with ${result.status}:\n${output}`);
  }
  return { status: result.status, output };
}

async function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, host, () => {
      const address = server.address() as net.AddressInfo;
      server.close(() => resolve(address.port));
    });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor<T>(what: string, seconds: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await sleep(250);
  }
  throw new Error(`timed out after ${seconds} s waiting for ${what}${last ? `: ${String(last)}` : ""}`);
}

describe("sample app on real PostgreSQL (primary + standby), Redis, Celery and uWSGI", () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "django-ha-app-"));
  const share = path.join(work, "share");
  const primaryData = path.join(work, "pg-primary");
  const standbyData = path.join(work, "pg-standby");
  const pgLogs = path.join(work, "pg-logs");
  // Sockets outside the data directories (pg_basebackup would copy the primary's socket lock file).
  const primarySockets = path.join(work, "pg-primary-sockets");
  const standbySockets = path.join(work, "pg-standby-sockets");
  const daemons: { name: string; child: ChildProcess; log: string }[] = [];
  const dbPassword = randomBytes(12).toString("hex");
  const redisPassword = randomBytes(12).toString("hex");
  let base = "";
  let appEnv: NodeJS.ProcessEnv = {};

  function daemon(name: string, argv: string[], env: NodeJS.ProcessEnv, cwd: string) {
    const log = path.join(work, `${name}.log`);
    const out = fs.openSync(log, "a");
    const child = spawn(argv[0], argv.slice(1), { cwd, env, stdio: ["ignore", out, out] });
    fs.closeSync(out);
    daemons.push({ name, child, log });
    return child;
  }

  function logs(): string {
    return daemons.map((d) => `--- ${d.name}\n${fs.readFileSync(d.log, "utf8").slice(-3000)}`).join("\n");
  }

  function pgCtl(data: string, ...args: string[]) {
    const serverLog = path.join(pgLogs, `${path.basename(data)}.log`);
    try {
      return run(asPostgres([`${pgBin}/pg_ctl`, "-D", data, "-l", serverLog, ...args]), { allowFail: args[0] === "stop" });
    } catch (error) {
      const tail = fs.existsSync(serverLog) ? fs.readFileSync(serverLog, "utf8").slice(-2000) : "(no server log)";
      throw new Error(`${error}\n--- ${serverLog}\n${tail}`);
    }
  }

  function psql(socketDir: string, port: number, sql: string, db = "postgres"): string {
    return run(asPostgres([`${pgBin}/psql`, "-X", "-h", socketDir, "-p", String(port), "-d", db, "-tAc", sql])).output.trim();
  }

  function manage(...args: string[]) {
    return run([python, "manage.py", ...args], { cwd: appDir, env: appEnv, allowFail: true });
  }

  async function http(method: string, url: string, body?: FormData | URLSearchParams) {
    const response = await fetch(`${base}${url}`, { method, body, signal: AbortSignal.timeout(30_000) });
    const text = await response.text();
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(text);
    } catch {
      json = { raw: text.slice(0, 500) };
    }
    return { status: response.status, json };
  }

  let pgPort = 0;

  before(async () => {
    fs.chmodSync(work, 0o755);
    for (const dir of [primaryData, standbyData, pgLogs, primarySockets, standbySockets]) {
      fs.mkdirSync(dir, { mode: 0o700 });
      if (isRoot) run(["chown", "postgres:postgres", dir]);
    }
    fs.mkdirSync(share);
    pgPort = await freePort(PRIMARY);

    // Primary: password auth over TCP like the cluster's pg_hba, trust on its own socket for setup.
    run(asPostgres([`${pgBin}/initdb`, "-D", primaryData, "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256"]));
    fs.appendFileSync(
      path.join(primaryData, "postgresql.conf"),
      `listen_addresses = '${PRIMARY}'\nport = ${pgPort}\nunix_socket_directories = '${primarySockets}'\n` +
        "wal_level = replica\nmax_wal_senders = 4\nhot_standby = on\nfsync = off\n",
    );
    fs.writeFileSync(
      path.join(primaryData, "pg_hba.conf"),
      "local all all trust\nlocal replication all trust\n" +
        "host replication postgres 127.0.0.0/8 trust\nhost all all 127.0.0.0/8 scram-sha-256\n",
    );
    pgCtl(primaryData, "start", "-w");
    psql(primarySockets, pgPort, `CREATE ROLE app LOGIN PASSWORD '${dbPassword}'`);
    psql(primarySockets, pgPort, "CREATE DATABASE app OWNER app");

    // Standby: a streaming copy on another loopback address, same port (DB_PORT is one value).
    run(asPostgres([`${pgBin}/pg_basebackup`, "-h", PRIMARY, "-p", String(pgPort), "-U", "postgres", "-D", standbyData, "-R", "-X", "stream", "-c", "fast", "-w"]));
    fs.appendFileSync(
      path.join(standbyData, "postgresql.conf"),
      `listen_addresses = '${STANDBY}'\nunix_socket_directories = '${standbySockets}'\n`,
    );
    pgCtl(standbyData, "start", "-w");
    assert.equal(psql(standbySockets, pgPort, "SELECT pg_is_in_recovery()"), "t");

    const redisPort = await freePort(PRIMARY);
    daemon("redis", ["redis-server", "--bind", PRIMARY, "--port", String(redisPort), "--requirepass", redisPassword,
      "--save", "", "--appendonly", "no", "--dir", work], process.env, work);

    appEnv = {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      LANG: "C.UTF-8",
      PYTHONDONTWRITEBYTECODE: "1",
      DJANGO_SETTINGS_MODULE: "djangoha_app.settings",
      DJANGO_TEST_SQLITE: "0",
      DJANGO_SECRET_KEY: randomBytes(40).toString("base64url"),
      DJANGO_ALLOWED_HOSTS: `${PRIMARY},localhost`,
      // The standby first: libpq must skip it (read-only) and settle on the primary.
      DB_HOSTS: `${STANDBY},${PRIMARY}`,
      DB_PORT: String(pgPort),
      DB_NAME: "app",
      DB_USER: "app",
      DB_PASSWORD: dbPassword,
      CELERY_BROKER_URL: `redis://:${redisPassword}@${PRIMARY}:${redisPort}/0`,
      SHARE_ROOT: share,
      NODE_NAME: "child-test",
    };

    const pending = manage("migrate", "--check");
    assert.notEqual(pending.status, 0, `migrate --check must fail before migrating:\n${pending.output}`);
    for (const step of [["migrate", "--noinput"], ["migrate", "--check"], ["collectstatic", "--noinput"]]) {
      const result = manage(...step);
      assert.equal(result.status, 0, `manage.py ${step.join(" ")}:\n${result.output}`);
    }

    daemon("celery", [python, "-m", "celery", "-A", "djangoha_app", "worker", "-Q", "video", "--concurrency", "1",
      "--prefetch-multiplier", "1", "--loglevel", "INFO", "-n", "worker-test@%h"], appEnv, appDir);

    const httpPort = await freePort(PRIMARY);
    base = `http://${PRIMARY}:${httpPort}`;
    daemon("uwsgi", ["uwsgi", "--plugin", "python3", "--http-socket", `${PRIMARY}:${httpPort}`, "--chdir", appDir,
      "--module", "djangoha_app.wsgi:application", "--master", "--processes", "2", "--lazy-apps", "--need-app",
      "--die-on-term", "--harakiri", "60"], appEnv, appDir);

    await waitFor("uWSGI to answer /health/ with 200", 60, async () => {
      const { status } = await http("GET", "/health/");
      return status === 200 ? true : undefined;
    }).catch((error) => {
      throw new Error(`${error}\n${logs()}`);
    });
  });

  after(() => {
    for (const { child } of daemons.reverse()) child.kill("SIGTERM");
    for (const data of [standbyData, primaryData]) {
      if (fs.existsSync(path.join(data, "postmaster.pid"))) pgCtl(data, "stop", "-m", "immediate");
    }
    fs.rmSync(work, { recursive: true, force: true });
  });

  test("static files were collected to the share with hashed names", () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(share, "static", "staticfiles.json"), "utf8"));
    assert.match(manifest.paths["admin/css/base.css"], /^admin\/css\/base\.[0-9a-f]{12}\.css$/);
  });

  test("health, notes and uploads through uWSGI", async () => {
    const health = await http("GET", "/health/");
    assert.deepEqual(health, { status: 200, json: { status: "ok", db: "ok", share: "ok", node: "child-test" } });

    const created = await http("POST", "/notes/", new URLSearchParams({ text: "written through uWSGI" }));
    assert.equal(created.status, 201, JSON.stringify(created.json));
    const listed = await http("GET", "/notes/");
    const notes = listed.json.notes as { id: number; text: string; node: string }[];
    assert.deepEqual(notes.map((n) => [n.id, n.text, n.node]), [[created.json.id, "written through uWSGI", "child-test"]]);
    // It went to the primary, and the standby replays it.
    assert.equal(psql(primarySockets, pgPort, "SELECT text FROM notes_note", "app"), "written through uWSGI");
    await waitFor("the note on the standby", 20, async () =>
      psql(standbySockets, pgPort, "SELECT count(*) FROM notes_note", "app") === "1" ? true : undefined);

    const form = new FormData();
    form.append("file", new Blob([Buffer.from("hello share")]), "../Hello World.txt");
    const uploaded = await http("POST", "/files/", form);
    assert.equal(uploaded.status, 201, JSON.stringify(uploaded.json));
    assert.match(String(uploaded.json.name), /^Hello_World-[0-9a-f]{8}\.txt$/);
    assert.equal(uploaded.json.url, `/media/uploads/${uploaded.json.name}`);
    assert.equal(fs.readFileSync(path.join(share, "media", "uploads", String(uploaded.json.name)), "utf8"), "hello share");
  });

  /** Upload a 1 s test clip to /videos/ and wait for the worker to finish it. */
  async function videoJob(): Promise<{ id: number; finished: Record<string, unknown> }> {
    const clip = path.join(work, "clip.avi");
    if (!fs.existsSync(clip)) {
      run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc=duration=1:size=160x120:rate=10",
        "-c:v", "mpeg4", clip]);
    }
    const form = new FormData();
    form.append("file", new Blob([fs.readFileSync(clip)]), "clip.avi");
    const accepted = await http("POST", "/videos/", form);
    assert.equal(accepted.status, 202, JSON.stringify(accepted.json));
    assert.equal(accepted.json.status, "queued");
    const id = accepted.json.id as number;
    const finished = await waitFor("the video job to finish", 90, async () => {
      const { json } = await http("GET", `/videos/${id}/`);
      return json.status === "done" || json.status === "failed" ? json : undefined;
    }).catch((error) => {
      throw new Error(`${error}\n${logs()}`);
    });
    return { id, finished };
  }

  test("a video job goes through Redis to the Celery worker and ffmpeg", async () => {
    const { id, finished } = await videoJob();
    assert.deepEqual(finished, { id, status: "done", output: `/media/videos/${id}.mp4`, error: null }, logs());
    const probe = run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=codec_name",
      "-of", "csv=p=0", path.join(share, "media", "videos", `${id}.mp4`)]);
    assert.equal(probe.output.trim(), "h264");
    assert.match(fs.readFileSync(daemons.find((d) => d.name === "celery")!.log, "utf8"), /video job \d+ done/);
  });

  test("after the primary stops and the standby is promoted, the same DB_HOSTS finds the new primary", async () => {
    await http("POST", "/notes/", new URLSearchParams({ text: "before failover" }));
    await waitFor("the note on the standby", 20, async () =>
      psql(standbySockets, pgPort, "SELECT count(*) FROM notes_note WHERE text = 'before failover'", "app") === "1" ? true : undefined);

    pgCtl(primaryData, "stop", "-m", "fast", "-w");
    const down = await http("GET", "/health/");
    assert.equal(down.status, 503, JSON.stringify(down.json));
    assert.equal(down.json.db, "error: OperationalError");
    assert.equal(down.json.share, "ok");

    pgCtl(standbyData, "promote", "-w");
    // uWSGI workers hold persistent connections (CONN_MAX_AGE): each must notice and reconnect.
    for (let i = 0; i < 6; i++) {
      const health = await http("GET", "/health/");
      assert.equal(health.status, 200, `request ${i} after promotion: ${JSON.stringify(health.json)}\n${logs()}`);
    }
    const created = await http("POST", "/notes/", new URLSearchParams({ text: "after failover" }));
    assert.equal(created.status, 201, JSON.stringify(created.json));
    const texts = ((await http("GET", "/notes/")).json.notes as { text: string }[]).map((n) => n.text);
    assert.deepEqual(texts.slice(0, 2), ["after failover", "before failover"]);
    // The worker's persistent connection went to the old primary too.
    const { id, finished } = await videoJob();
    assert.deepEqual(finished, { id, status: "done", output: `/media/videos/${id}.mp4`, error: null }, logs());
  });
});
