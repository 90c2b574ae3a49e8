/** Run an operator script's `main` in-process, capturing what it prints (console.log, stdout, stderr). */
export async function captureCli(
  main: (args: string[]) => Promise<number>,
  args: string[],
): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const log = console.log;
  const write = process.stderr.write.bind(process.stderr);
  const writeOut = process.stdout.write.bind(process.stdout);
  console.log = (...a: unknown[]) => void (out += `${a.join(" ")}\n`);
  process.stderr.write = ((s: string) => ((err += s), true)) as typeof process.stderr.write;
  // Text is the CLI's; anything else is the test runner's own protocol (serialized reports), which must reach it
  // even while a CLI awaits (a dry run bundling the ACME agent), or the runner loses subtest results.
  process.stdout.write = ((s: string | Uint8Array, ...rest: unknown[]) =>
    typeof s === "string"
      ? ((out += s), true)
      : (writeOut as (c: Uint8Array, ...r: unknown[]) => boolean)(s, ...rest)) as typeof process.stdout.write;
  try {
    return { code: await main(args), out, err };
  } finally {
    console.log = log;
    process.stderr.write = write;
    process.stdout.write = writeOut;
  }
}
