/**
 * The lab's local Python package index. Our machines reach no public index, so the lab serves its own: wheels
 * built offline on the host from the sources in test/projects/wheels/ (`pip wheel --no-index
 * --no-build-isolation`, Debian's python3 with python3-pip/-setuptools/-wheel: lab/host-packages.txt), laid out
 * as a PEP 503 simple index in .lab/pyindex/, served over HTTP by the host on its lab bridge address
 * (http://10.231.0.1:3141/simple/). `labUp` builds and starts it, `labDown` stops it. Lab stacks set
 * django-ha:app.pythonIndexUrl to it. Nodes reach nothing else: the lab forwards no traffic off the bridge.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import { run, startDetached } from "../ops/process";
import { LAB_NET, REPO_ROOT } from "./config";
import { alive } from "./procs";

/** Sources of the packages the index serves: one directory per package (pyproject.toml). */
export const WHEEL_SOURCES = path.join(REPO_ROOT, "test", "projects", "wheels");
/** Debian's python3 (not a pyenv or venv one first in PATH): its pip, setuptools and wheel build the wheels. */
export const HOST_PYTHON = "/usr/bin/python3";

/** The index as lab nodes reach it (what lab stacks set as django-ha:app.pythonIndexUrl). */
export function labPythonIndexUrl(address: string = LAB_NET.hostAddress, port: number = LAB_NET.pythonIndexPort): string {
  return `http://${address}:${port}/simple/`;
}

/** PEP 503 name normalization: runs of -, _ and . become one -, lower case. Pure. */
export function normalizeProjectName(name: string): string {
  return name.replace(/[-_.]+/g, "-").toLowerCase();
}

/** A wheel's project name: the file name up to the first '-' (PEP 427 escapes '-' in names as '_'). Pure. */
export function wheelProject(file: string): string {
  const m = /^([A-Za-z0-9_.]+)-[^-]+(-[^-]+)?-[^-]+-[^-]+-[^-]+\.whl$/.exec(file);
  if (!m) throw new Error(`${file} is not a wheel file name (name-version-python-abi-platform.whl)`);
  return normalizeProjectName(m[1]);
}

const escapeHtml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

export interface IndexFile {
  /** Wheel file name. */
  name: string;
  sha256: string;
}

/**
 * The pages of a PEP 503 simple index over `files` (served from /files/): `simple/index.html` lists the projects,
 * `simple/<project>/index.html` its files with `#sha256=` (pip checks it). Paths relative to the index root. Pure.
 */
export function renderSimpleIndex(files: IndexFile[]): Map<string, string> {
  const byProject = new Map<string, IndexFile[]>();
  for (const f of [...files].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = wheelProject(f.name);
    byProject.set(p, [...(byProject.get(p) ?? []), f]);
  }
  const page = (title: string, links: string[]) =>
    `<!DOCTYPE html>\n<html><head><meta name="pypi:repository-version" content="1.0"><title>${escapeHtml(title)}</title></head><body>\n${links.join("\n")}\n</body></html>\n`;
  const pages = new Map<string, string>();
  const projects = [...byProject.keys()].sort();
  pages.set(
    "simple/index.html",
    page(
      "Simple index",
      projects.map((p) => `<a href="${p}/">${p}</a>`),
    ),
  );
  for (const [p, files] of [...byProject].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    pages.set(
      `simple/${p}/index.html`,
      page(
        `Links for ${p}`,
        files.map((f) => `<a href="../../files/${encodeURIComponent(f.name)}#sha256=${f.sha256}">${escapeHtml(f.name)}</a>`),
      ),
    );
  }
  return pages;
}

/** Content hash of every wheel source (names and bytes): the index is rebuilt only when it changes. */
function sourcesHash(dir: string): string {
  const h = createHash("sha256");
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (e.name === "__pycache__" || e.name === "build" || e.name.endsWith(".egg-info")) continue;
      const p = path.join(d, e.name);
      h.update(path.relative(dir, p));
      if (e.isDirectory()) walk(p);
      else h.update(fs.readFileSync(p));
    }
  };
  walk(dir);
  return h.digest("hex");
}

export interface BuiltIndex {
  root: string;
  files: IndexFile[];
  /** False when the existing index matched the sources. */
  built: boolean;
}

/**
 * Build the wheels of every source in `sources` (offline: no index, no build isolation, no dependencies) and
 * write the PEP 503 pages into `root`. Skipped when `root` was built from the same sources.
 */
export async function buildPythonIndex(root: string, sources = WHEEL_SOURCES, python = HOST_PYTHON): Promise<BuiltIndex> {
  const stamp = path.join(root, ".sources.sha256");
  const hash = sourcesHash(sources);
  const filesDir = path.join(root, "files");
  const listed = () =>
    fs
      .readdirSync(filesDir)
      .filter((f) => f.endsWith(".whl"))
      .map((name) => ({
        name,
        sha256: createHash("sha256")
          .update(fs.readFileSync(path.join(filesDir, name)))
          .digest("hex"),
      }));
  if (fs.existsSync(stamp) && fs.readFileSync(stamp, "utf8") === hash && fs.existsSync(filesDir))
    return { root, files: listed(), built: false };
  if (!fs.existsSync(python))
    throw new Error(`${python} is missing: install the host packages (bash scripts/host-packages.sh) to build the lab's Python index`);
  const work = `${root}.new`;
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(path.join(work, "files"), { recursive: true });
  for (const name of fs.readdirSync(sources).sort()) {
    const src = path.join(sources, name);
    if (!fs.statSync(src).isDirectory()) continue;
    // Build from a copy: setuptools writes build/ and *.egg-info next to the sources otherwise.
    const copy = fs.mkdtempSync(path.join(work, `src-${name}-`));
    fs.cpSync(src, copy, { recursive: true });
    await run(
      {
        cmd: python,
        args: [
          "-m",
          "pip",
          "wheel",
          "--no-index",
          "--no-build-isolation",
          "--no-deps",
          "--disable-pip-version-check",
          "-q",
          "-w",
          path.join(work, "files"),
          copy,
        ],
      },
      {
        env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", HOME: work, PIP_NO_CACHE_DIR: "1", LANG: "C.UTF-8" },
        envOnly: true,
        timeoutMs: 120_000,
      },
    ).catch((e: Error) => {
      throw new Error(`building the wheel of ${src} failed: ${e.message}`);
    });
    fs.rmSync(copy, { recursive: true, force: true });
  }
  const files = fs
    .readdirSync(path.join(work, "files"))
    .filter((f) => f.endsWith(".whl"))
    .map((name) => ({
      name,
      sha256: createHash("sha256")
        .update(fs.readFileSync(path.join(work, "files", name)))
        .digest("hex"),
    }));
  for (const [rel, content] of renderSimpleIndex(files)) {
    fs.mkdirSync(path.dirname(path.join(work, rel)), { recursive: true });
    fs.writeFileSync(path.join(work, rel), content);
  }
  fs.writeFileSync(path.join(work, ".sources.sha256"), hash);
  fs.rmSync(root, { recursive: true, force: true });
  fs.renameSync(work, root);
  return { root, files, built: true };
}

/** The server's command line: Python's http.server on one address, serving the index directory read-only. */
export function indexServerArgv(
  root: string,
  address: string = LAB_NET.hostAddress,
  port: number = LAB_NET.pythonIndexPort,
  python = HOST_PYTHON,
): string[] {
  return [python, "-m", "http.server", "--bind", address, "--directory", root, String(port)];
}

/** Whether a process's argv is a lab index server (on the lab's host address). Pure. */
export function isIndexServer(argv: readonly string[], address: string = LAB_NET.hostAddress): boolean {
  const i = argv.indexOf("http.server");
  return i > 0 && argv[i - 1] === "-m" && argv[argv.indexOf("--bind") + 1] === address;
}

/** Every running lab index server (from /proc, also without the pid file). */
export function findIndexServers(address: string = LAB_NET.hostAddress): number[] {
  const out: number[] = [];
  for (const d of fs.readdirSync("/proc").filter((x) => /^\d+$/.test(x))) {
    try {
      const argv = fs.readFileSync(`/proc/${d}/cmdline`, "utf8").split("\0").filter(Boolean);
      if (isIndexServer(argv, address) && alive(Number(d))) out.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: 2000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
  });
}

/** Start the server detached (it outlives `npm run lab -- up`); wait until it answers. A running one is kept. */
export async function startPythonIndex(
  root: string,
  log: string,
  o: { address?: string; port?: number } = {},
): Promise<{ pid: number; url: string; started: boolean }> {
  const address = o.address ?? LAB_NET.hostAddress;
  const port = o.port ?? LAB_NET.pythonIndexPort;
  const url = labPythonIndexUrl(address, port);
  const running = findIndexServers(address);
  if (running.length) {
    const r = await get(url).catch(() => undefined);
    if (r?.status === 200) return { pid: running[0], url, started: false };
    stopPythonIndex(address);
  }
  const argv = indexServerArgv(root, address, port);
  const server = startDetached({ cmd: argv[0], args: argv.slice(1) }, { log });
  const until = Date.now() + 10_000;
  for (;;) {
    const r = await get(url).catch((e: Error) => ({ status: 0, body: e.message }));
    if (r.status === 200 && r.body.includes("Simple index")) return { pid: server.pid, url, started: true };
    if (Date.now() > until || server.exited())
      throw new Error(`the lab's Python index did not answer at ${url} (${r.status || r.body}); see ${log}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

/** Stop every lab index server. Returns the pids stopped. */
export function stopPythonIndex(address: string = LAB_NET.hostAddress): number[] {
  const pids = findIndexServers(address);
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      // already gone
    }
  }
  return pids;
}
