// The sample app against the real services it gets in a cluster, inside a throw-away node booted from the
// lab's baked image (test/image-node.ts: the nodes' own PostgreSQL, Redis, Celery, uWSGI, Django and
// ffmpeg), all on the node's loopback: a PostgreSQL primary (127.0.0.1) with a streaming hot standby
// (127.0.0.2, same port), Redis with a password, the Celery worker on queue "video", uWSGI loading
// djangoha_app.wsgi. It proves the app contract end to end — libpq multi-host with
// target_session_attrs=read-write (the standby is listed FIRST and must be skipped), notes, uploads and a
// real ffmpeg job through the broker — and that after the primary stops and the standby is promoted the
// same DB_HOSTS finds the new primary (persistent connections included); while the primary is away, reads
// come from the standby and writes get a clear 503 (djangoha_app/dbrouting.py).
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { PATHS } from "../roles/context";
import { bootImageNode, IMAGE_NODE_TIMEOUT_MS, type ImageNode } from "../test/image-node";

const PRIMARY = "127.0.0.1";
const STANDBY = "127.0.0.2";
// Not the node's own services (PostgreSQL 5432, Redis 6379, nginx 80): ports of this test only.
const PG_PORT = 15432;
const REDIS_PORT = 16379;
const HTTP_PORT = 18000;
const WORK = "/var/tmp/django-ha-app";
const APP = `${WORK}/app`;
const SHARE = `${WORK}/share`;
const pgBin = PATHS.pgBin;

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

describe("sample app on real PostgreSQL (primary + standby), Redis, Celery and uWSGI (the nodes' packages)", () => {
  let node: ImageNode;
  const dbPassword = randomBytes(12).toString("hex");
  const redisPassword = randomBytes(12).toString("hex");
  const daemons: string[] = [];
  const appEnv: Record<string, string> = {
    PYTHONDONTWRITEBYTECODE: "1",
    DJANGO_SETTINGS_MODULE: "djangoha_app.settings",
    DJANGO_TEST_SQLITE: "0",
    DJANGO_SECRET_KEY: randomBytes(40).toString("base64url"),
    DJANGO_ALLOWED_HOSTS: `${PRIMARY},localhost`,
    // The standby first: libpq must skip it (read-only) and settle on the primary.
    DB_HOSTS: `${STANDBY},${PRIMARY}`,
    DB_PORT: String(PG_PORT),
    DB_NAME: "app",
    DB_USER: "app",
    DB_PASSWORD: dbPassword,
    CELERY_BROKER_URL: `redis://:${redisPassword}@${PRIMARY}:${REDIS_PORT}/0`,
    SHARE_ROOT: SHARE,
    NODE_NAME: "child-test",
  };

  /** Run in the node; throws with the output unless it exits 0 (or allowFail). */
  function run(argv: string[], opts: { env?: Record<string, string>; user?: string; input?: string; allowFail?: boolean } = {}) {
    const r = node.run(argv, { env: opts.env, user: opts.user, input: opts.input, timeoutMs: 180_000 });
    if (r.status !== 0 && !opts.allowFail) throw new Error(`${argv.join(" ")} exited with ${r.status}:\n${r.out}`);
    return r;
  }

  /** A background process in the node (reparented to the node's init), output to its log. */
  function daemon(name: string, argv: string[], env: Record<string, string>) {
    const log = `${WORK}/${name}.log`;
    daemons.push(log);
    const quoted = argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(" ");
    run(["bash", "-c", `cd ${APP} && setsid -f ${quoted} > ${log} 2>&1 < /dev/null`], { env });
  }

  const logs = () => daemons.map((log) => `--- ${log}\n${node.exists(log) ? node.read(log).slice(-3000) : ""}`).join("\n");

  function pgCtl(data: string, ...args: string[]) {
    const serverLog = `${WORK}/pg-logs/${data.split("/").pop()}.log`;
    const r = run([`${pgBin}/pg_ctl`, "-D", data, "-l", serverLog, ...args], { user: "postgres", allowFail: true });
    if (r.status !== 0 && args[0] !== "stop") throw new Error(`pg_ctl ${args.join(" ")}: ${r.out}\n--- ${serverLog}\n${node.exists(serverLog) ? node.read(serverLog).slice(-2000) : ""}`);
    return r;
  }

  function psql(socketDir: string, sql: string, db = "postgres"): string {
    return run([`${pgBin}/psql`, "-X", "-h", socketDir, "-p", String(PG_PORT), "-d", db, "-tAc", sql], { user: "postgres" }).out.trim();
  }

  const manage = (...args: string[]) => run(["bash", "-c", `cd ${APP} && exec python3 manage.py "$@"`, "manage", ...args], { env: appEnv, allowFail: true });

  /** HTTP to uWSGI from inside the node (curl): status and the JSON body. */
  async function http(method: string, url: string, body?: { form?: Record<string, string>; file?: { path: string; name: string } }) {
    const args = ["curl", "-sS", "--max-time", "30", "-X", method, "-o", `${WORK}/body`, "-w", "%{http_code}"];
    for (const [k, v] of Object.entries(body?.form ?? {})) args.push("--data-urlencode", `${k}=${v}`);
    if (body?.file) args.push("-F", `file=@${body.file.path};filename="${body.file.name}"`);
    const r = run([...args, `http://${PRIMARY}:${HTTP_PORT}${url}`], { allowFail: true });
    if (r.status !== 0) throw new Error(`curl ${method} ${url}: ${r.out}`);
    const text = node.read(`${WORK}/body`);
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(text);
    } catch {
      json = { raw: text.slice(0, 500) };
    }
    return { status: Number(r.out.trim()), json };
  }

  const primaryData = `${WORK}/pg-primary`;
  const standbyData = `${WORK}/pg-standby`;
  // Sockets outside the data directories (pg_basebackup would copy the primary's socket lock file).
  const primarySockets = `${WORK}/pg-primary-sockets`;
  const standbySockets = `${WORK}/pg-standby-sockets`;

  before(async () => {
    node = await bootImageNode();
    node.copyIn(__dirname, APP);
    run(["bash", "-c", `mkdir -p ${SHARE} && cd ${WORK} && install -d -m 0700 -o postgres -g postgres pg-primary pg-standby pg-logs pg-primary-sockets pg-standby-sockets`]);

    // Primary: password auth over TCP like the cluster's pg_hba, trust on its own socket for setup.
    run([`${pgBin}/initdb`, "-D", primaryData, "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256"], { user: "postgres" });
    run(["bash", "-c", `cat > ${primaryData}/pg_hba.conf`], {
      user: "postgres",
      input: "local all all trust\nlocal replication all trust\nhost replication postgres 127.0.0.0/8 trust\nhost all all 127.0.0.0/8 scram-sha-256\n",
    });
    run(["bash", "-c", `cat >> ${primaryData}/postgresql.conf`], {
      user: "postgres",
      input: `listen_addresses = '${PRIMARY}'\nport = ${PG_PORT}\nunix_socket_directories = '${primarySockets}'\nwal_level = replica\nmax_wal_senders = 4\nhot_standby = on\nfsync = off\n`,
    });
    pgCtl(primaryData, "start", "-w");
    psql(primarySockets, `CREATE ROLE app LOGIN PASSWORD '${dbPassword}'`);
    psql(primarySockets, "CREATE DATABASE app OWNER app");

    // Standby: a streaming copy on another loopback address, same port (DB_PORT is one value).
    run([`${pgBin}/pg_basebackup`, "-h", PRIMARY, "-p", String(PG_PORT), "-U", "postgres", "-D", standbyData, "-R", "-X", "stream", "-c", "fast", "-w"], { user: "postgres" });
    run(["bash", "-c", `cat >> ${standbyData}/postgresql.conf`], { user: "postgres", input: `listen_addresses = '${STANDBY}'\nunix_socket_directories = '${standbySockets}'\n` });
    pgCtl(standbyData, "start", "-w");
    assert.equal(psql(standbySockets, "SELECT pg_is_in_recovery()"), "t");

    daemon("redis", ["redis-server", "--bind", PRIMARY, "--port", String(REDIS_PORT), "--requirepass", redisPassword, "--save", "", "--appendonly", "no", "--dir", WORK], {});

    const pending = manage("migrate", "--check");
    assert.notEqual(pending.status, 0, `migrate --check must fail before migrating:\n${pending.out}`);
    for (const step of [["migrate", "--noinput"], ["migrate", "--check"], ["collectstatic", "--noinput"]]) {
      const result = manage(...step);
      assert.equal(result.status, 0, `manage.py ${step.join(" ")}:\n${result.out}`);
    }

    daemon("celery", ["python3", "-m", "celery", "-A", "djangoha_app", "worker", "-Q", "video", "--concurrency", "1", "--prefetch-multiplier", "1", "--loglevel", "INFO", "-n", "worker-test@%h"], appEnv);
    daemon("uwsgi", ["uwsgi", "--plugin", "python3", "--http-socket", `${PRIMARY}:${HTTP_PORT}`, "--chdir", APP, "--module", "djangoha_app.wsgi:application", "--master", "--processes", "2", "--lazy-apps", "--need-app", "--die-on-term", "--harakiri", "60"], appEnv);

    await waitFor("uWSGI to answer /health/ with 200", 60, async () => {
      const { status } = await http("GET", "/health/");
      return status === 200 ? true : undefined;
    }).catch((error) => {
      throw new Error(`${error}\n${logs()}`);
    });
  }, { timeout: IMAGE_NODE_TIMEOUT_MS });

  after(() => node?.stop());

  test("static files were collected to the share with hashed names", () => {
    const manifest = JSON.parse(node.read(`${SHARE}/static/staticfiles.json`));
    assert.match(manifest.paths["admin/css/base.css"], /^admin\/css\/base\.[0-9a-f]{12}\.css$/);
  });

  test("health, notes and uploads through uWSGI", async () => {
    const health = await http("GET", "/health/");
    assert.deepEqual(health, { status: 200, json: { status: "ok", db: "ok", share: "ok", node: "child-test" } });

    const created = await http("POST", "/notes/", { form: { text: "written through uWSGI" } });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    const listed = await http("GET", "/notes/");
    const notes = listed.json.notes as { id: number; text: string; node: string }[];
    assert.deepEqual(notes.map((n) => [n.id, n.text, n.node]), [[created.json.id, "written through uWSGI", "child-test"]]);
    // It went to the primary, and the standby replays it.
    assert.equal(psql(primarySockets, "SELECT text FROM notes_note", "app"), "written through uWSGI");
    await waitFor("the note on the standby", 20, async () => (psql(standbySockets, "SELECT count(*) FROM notes_note", "app") === "1" ? true : undefined));

    node.write(`${WORK}/hello.txt`, "hello share");
    const uploaded = await http("POST", "/files/", { file: { path: `${WORK}/hello.txt`, name: "../Hello World.txt" } });
    assert.equal(uploaded.status, 201, JSON.stringify(uploaded.json));
    assert.match(String(uploaded.json.name), /^Hello_World-[0-9a-f]{8}\.txt$/);
    assert.equal(uploaded.json.url, `/media/uploads/${uploaded.json.name}`);
    assert.equal(node.read(`${SHARE}/media/uploads/${uploaded.json.name}`), "hello share");
  });

  /** Upload a 1 s test clip to /videos/ and wait for the worker to finish it. */
  async function videoJob(): Promise<{ id: number; finished: Record<string, unknown> }> {
    const clip = `${WORK}/clip.avi`;
    if (!node.exists(clip)) run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc=duration=1:size=160x120:rate=10", "-c:v", "mpeg4", clip]);
    const accepted = await http("POST", "/videos/", { file: { path: clip, name: "clip.avi" } });
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
    const { started, finished: at, ...job } = finished as Record<string, unknown>;
    assert.deepEqual(job, { id, status: "done", output: `/media/videos/${id}.mp4`, error: null, attempts: 1 }, logs());
    assert.ok(typeof started === "string" && typeof at === "string" && Date.parse(started) <= Date.parse(at), JSON.stringify(finished));
    const probe = run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=codec_name", "-of", "csv=p=0", `${SHARE}/media/videos/${id}.mp4`]);
    assert.equal(probe.out.trim(), "h264");
    assert.match(node.read(`${WORK}/celery.log`), /video job \d+ done/);
  });

  test("after the primary stops and the standby is promoted, the same DB_HOSTS finds the new primary", async () => {
    await http("POST", "/notes/", { form: { text: "before failover" } });
    await waitFor("the note on the standby", 20, async () => (psql(standbySockets, "SELECT count(*) FROM notes_note WHERE text = 'before failover'", "app") === "1" ? true : undefined));

    pgCtl(primaryData, "stop", "-m", "fast", "-w");
    const down = await http("GET", "/health/");
    assert.equal(down.status, 503, JSON.stringify(down.json));
    assert.equal(down.json.db, "error: OperationalError");
    assert.equal(down.json.share, "ok");
    // Read-only, not down (djangoha_app/dbrouting.py): every worker serves reads from the standby …
    for (let i = 0; i < 4; i++) {
      const read = await http("GET", "/notes/");
      assert.equal(read.status, 200, `read ${i} while the primary is away: ${JSON.stringify(read.json)}\n${logs()}`);
      assert.ok((read.json.notes as { text: string }[]).some((n) => n.text === "before failover"), JSON.stringify(read.json));
    }
    // … and a write says clearly that it was not confirmed, without reaching the standby.
    const refused = await http("POST", "/notes/", { form: { text: "while the primary is away" } });
    assert.equal(refused.status, 503, JSON.stringify(refused.json));
    assert.equal(refused.json.read_only, true);
    assert.match(String(refused.json.error), /primary cannot be reached/);
    assert.equal(psql(standbySockets, "SELECT count(*) FROM notes_note WHERE text = 'while the primary is away'", "app"), "0");

    pgCtl(standbyData, "promote", "-w");
    // uWSGI workers hold persistent connections (CONN_MAX_AGE): each must notice and reconnect.
    for (let i = 0; i < 6; i++) {
      const health = await http("GET", "/health/");
      assert.equal(health.status, 200, `request ${i} after promotion: ${JSON.stringify(health.json)}\n${logs()}`);
    }
    const created = await http("POST", "/notes/", { form: { text: "after failover" } });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    const texts = ((await http("GET", "/notes/")).json.notes as { text: string }[]).map((n) => n.text);
    assert.deepEqual(texts.slice(0, 2), ["after failover", "before failover"]);
    // The worker's persistent connection went to the old primary too.
    const { id, finished } = await videoJob();
    const { started, finished: at, ...job } = finished as Record<string, unknown>;
    assert.deepEqual(job, { id, status: "done", output: `/media/videos/${id}.mp4`, error: null, attempts: 1 }, logs());
    assert.ok(typeof started === "string" && typeof at === "string" && Date.parse(started) <= Date.parse(at), JSON.stringify(finished));
  });
});
