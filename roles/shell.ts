/**
 * The ONE shell-quoting module (roles' rendered scripts, ops' SSH commands, the lab's ssh: roles are the lowest
 * layer, so everyone can import it), and the common frame of every rendered bash script.
 */
import { CHANGED_MARKER } from "./types";

/** An argv array: program first, then its arguments, each passed to the remote side unchanged. */
export type Argv = readonly string[];

// Words made only of these characters mean the same thing quoted or not, so they stay readable.
const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Quote one word for a POSIX shell (sh, bash, dash) so the shell sees it byte for byte. */
export function shellQuote(arg: string): string {
  if (arg.includes("\0")) throw new Error(`cannot pass a NUL byte in a shell argument: ${JSON.stringify(arg)}`);
  if (arg !== "" && SAFE_WORD.test(arg)) return arg;
  // Inside single quotes nothing is special except the single quote itself: close, escape it, reopen.
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Join an argv array into one command line for a shell (the remote login shell of SSH). */
export function shellJoin(argv: Argv): string {
  if (argv.length === 0) throw new Error("cannot run an empty command");
  return argv.map(shellQuote).join(" ");
}

/** A bash heredoc body must not contain its terminator line; the renderers pick fixed terminators. */
export function heredoc(terminator: string, body: string): string {
  if (body.split("\n").includes(terminator)) throw new Error(`heredoc body contains its terminator ${terminator}`);
  return `<<'${terminator}'\n${body.endsWith("\n") ? body : `${body}\n`}${terminator}`;
}

/**
 * Frame a script body: shebang, strict mode, and a `changed` function that prints CHANGED_MARKER once.
 * Bodies call `changed` right after they modified the machine.
 */
export function bashScript(description: string, body: string): string {
  return [
    "#!/usr/bin/env bash",
    `# django-ha: ${description}`,
    "set -euo pipefail",
    "django_ha_changed=0",
    `changed() { if [ "$django_ha_changed" = 0 ]; then echo ${shellQuote(CHANGED_MARKER)}; django_ha_changed=1; fi; }`,
    body.trim(),
    "",
  ].join("\n");
}

/** Frame a check body: shebang and strict mode (checks never change anything, so no `changed`). */
export function bashCheck(description: string, body: string): string {
  return ["#!/usr/bin/env bash", `# django-ha check: ${description}`, "set -euo pipefail", body.trim(), ""].join("\n");
}
