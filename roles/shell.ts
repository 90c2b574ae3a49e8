/** Shell quoting and the common frame of every rendered bash script: quoting happens here and nowhere else. */
import { CHANGED_MARKER } from "./types";

/** Quote a value for bash as one word ('…' with embedded quotes escaped). */
export function shellQuote(value: string): string {
  if (/^[A-Za-z0-9_./:=@%+,-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
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
