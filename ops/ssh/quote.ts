/**
 * The ONE place where remote commands become strings. Everything sent over SSH is built as an argv
 * array and joined here; nothing else in ops/ concatenates shell.
 */

/** An argv array: program first, then its arguments, each passed to the remote side unchanged. */
export type Argv = readonly string[];

// Words made only of these characters mean the same thing quoted or not, so they stay readable.
const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Quote one argument for a POSIX shell (sh, bash, dash) so the remote shell sees it byte for byte. */
export function shellQuote(arg: string): string {
  if (arg.includes("\0")) throw new Error(`cannot pass a NUL byte in a shell argument: ${JSON.stringify(arg)}`);
  if (arg !== "" && SAFE_WORD.test(arg)) return arg;
  // Inside single quotes nothing is special except the single quote itself: close, escape it, reopen.
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Join an argv array into one command line for the remote login shell. */
export function shellJoin(argv: Argv): string {
  if (argv.length === 0) throw new Error("cannot run an empty command");
  return argv.map(shellQuote).join(" ");
}
