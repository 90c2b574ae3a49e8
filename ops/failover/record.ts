/**
 * The failover recorded in the stack: `django-ha:primary` names the database machine that is primary, so a
 * later `pulumi up` and bootstrap converge on the roles as they are now instead of undoing the failover.
 * hosts stacks: the stack file (comments and layout kept); cloud stacks: `pulumi config set` when the CLI is
 * there; the lab: its own state under .lab/ (lab/record.ts; the tracked stack file is never touched).
 */
import * as fs from "node:fs";
import YAML from "yaml";
import { UserError } from "../../model/errors";
import { ProcessError, run } from "../process";

export const PRIMARY_KEY = "django-ha:primary";

/** Set django-ha:primary in a stack file's text, keeping comments and layout (yaml Document API). Pure. */
export function withPrimaryInStackText(text: string, primary: string, source = "stack file"): string {
  const doc = YAML.parseDocument(text);
  if (doc.errors.length)
    throw new UserError(`${source} is not valid YAML (${doc.errors[0].message}); fix it, then run the failover again (it resumes).`);
  if (!YAML.isMap(doc.get("config"))) throw new UserError(`${source} has no config: map; it is not a Pulumi stack file.`);
  if (doc.getIn(["config", PRIMARY_KEY]) === primary) return text;
  doc.setIn(["config", PRIMARY_KEY], primary);
  return doc.toString();
}

/** Record the primary in a hosts stack file. Returns what was done. */
export function recordInStackFile(file: string, primary: string): string {
  const text = fs.readFileSync(file, "utf8");
  const next = withPrimaryInStackText(text, primary, file);
  if (next === text) return `${file}: ${PRIMARY_KEY} is already ${primary}`;
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, next);
  fs.renameSync(tmp, file);
  return `${file}: ${PRIMARY_KEY} = ${primary} (commit this change)`;
}

/** The Pulumi CLI call that records the primary of a cloud stack. Pure. */
export function pulumiConfigSet(stack: string, primary: string): string[] {
  return ["pulumi", "config", "set", "--stack", stack, PRIMARY_KEY, primary];
}

/** How a command is run: ops/process.ts's `run`, or a test's fake with the same type. */
export type Runner = typeof run;

/**
 * Record the primary of a cloud stack with the Pulumi CLI. Without the CLI, a UserError with the exact
 * command to run (the failover itself is done; only the record is missing).
 */
export async function recordWithPulumi(stack: string, primary: string, runner: Runner = run): Promise<string> {
  const argv = pulumiConfigSet(stack, primary);
  try {
    await runner({ cmd: argv[0], args: argv.slice(1) });
  } catch (e) {
    const err = e as Error;
    const said = err instanceof ProcessError ? err.stderr.trim() || err.message : err.message;
    const why = err instanceof ProcessError && err.notFound ? "the Pulumi CLI is not installed here" : said.trim().split("\n").pop();
    throw new UserError(
      `Could not record ${primary} as the primary of stack ${stack} (${why}). Run it yourself before the next pulumi up: ${argv.join(" ")}`,
    );
  }
  return `pulumi config: ${PRIMARY_KEY} = ${primary} (stack ${stack}); run pulumi up to update the stack outputs`;
}
