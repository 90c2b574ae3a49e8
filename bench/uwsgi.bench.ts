#!/usr/bin/env tsx
/**
 * Stopping uWSGI in the lab, as root (`npm run bench:uwsgi -- [--stops 50]`): one lab boot and the bootstrap,
 * then on lab-child-1, per WSGI loader, N times: `systemctl start django-ha-uwsgi`, a random 0–4 s (its workers
 * take 2–3 s to load the app, so about half the stops land while they load), `systemctl stop`, timed. The loaders:
 * the bootstrap's, and the same without its SIGINT/SIGTERM reset (as before dcb1565), under which a stop that came
 * while a worker loaded could wait out uWSGI's 60-s mercy. Prints a markdown table for docs/benchmarks.md.
 * Timings are never asserted.
 */
import { Command } from "commander";
import { labBootstrapHook, labDown, labRemoveVolumes, labUp } from "../lab";
import { RELEASE_PATHS, renderWsgiLoader } from "../roles/release";
import { onNode } from "../test/acme-lab";
import { whole } from "./options";

const CHILD = "lab-child-1";
const SLOW_SECONDS = 5;

/** The loader as it was before the signal reset: the same text without its two signal.signal lines. */
function loaderWithoutSignalReset(): string {
  const lines = renderWsgiLoader().split("\n");
  const kept = lines.filter((l) => !/^signal\.signal\(signal\.SIG(INT|TERM), signal\.SIG_DFL\)$/.test(l));
  if (lines.length - kept.length !== 2) throw new Error("the loader's two signal.signal lines were not found: update this bench");
  return kept.join("\n");
}

const LOADERS: Record<string, string> = {
  "the bootstrap's (SIGINT and SIGTERM reset while loading)": renderWsgiLoader(),
  "without the reset (before dcb1565)": loaderWithoutSignalReset(),
};

const installLoader = (text: string) =>
  onNode(CHILD, ["bash", "-c", `echo ${Buffer.from(text).toString("base64")} | base64 -d > ${RELEASE_PATHS.wsgiLoader}`]);

/** Seconds each of `stops` stops took, each a random 0–4 s after a start. */
async function stopDrill(stops: number, log: (l: string) => void): Promise<number[]> {
  const took: number[] = [];
  for (let i = 1; i <= stops; i++) {
    const wait = (Math.random() * 4).toFixed(2);
    const script = `systemctl start django-ha-uwsgi; sleep ${wait}; s=$(date +%s%N); systemctl stop django-ha-uwsgi; echo $(( ($(date +%s%N) - s) / 1000000 ))`;
    const seconds = Number((await onNode(CHILD, ["bash", "-c", script], 180_000)).trim()) / 1000;
    took.push(seconds);
    if (seconds > SLOW_SECONDS) log(`  stop ${i} (${wait} s after the start): ${seconds.toFixed(1)} s`);
  }
  return took;
}

async function main(): Promise<void> {
  const { stops } = new Command()
    .description("time systemctl stop of uWSGI on a child, at random points after its start, per WSGI loader")
    .option("--stops <n>", "stops per loader", whole("--stops", 1), 50)
    .parse()
    .opts<{ stops: number }>();
  const log = (l: string) => process.stderr.write(`${l}\n`);
  await labDown({ log: () => undefined });
  await labRemoveVolumes({ log: () => undefined });
  await labUp({ log: () => undefined, afterBoot: [labBootstrapHook({ stack: "lab" })] });
  const results: [string, number[]][] = [];
  try {
    for (const [name, text] of Object.entries(LOADERS)) {
      await installLoader(text);
      log(`loader ${name}: ${stops} stops`);
      results.push([name, await stopDrill(stops, log)]);
    }
  } finally {
    await installLoader(renderWsgiLoader()).catch(() => undefined);
    await labDown({ log: () => undefined });
  }
  const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
  console.log(`| WSGI loader (${stops} stops, each 0–4 s after a start) | stops over ${SLOW_SECONDS} s | median | longest |`);
  console.log("|---|---:|---:|---:|");
  for (const [name, xs] of results)
    console.log(
      `| ${name} | ${xs.filter((x) => x > SLOW_SECONDS).length} | ${sorted(xs)[Math.floor(xs.length / 2)].toFixed(1)} s | ${Math.max(...xs).toFixed(1)} s |`,
    );
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
