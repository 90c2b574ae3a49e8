/** One problem found in a stack's config: where it is, what was there, and how to fix it. */
export interface ConfigIssue {
  /** Config key with its path inside, e.g. `django-ha:sizes.child`. */
  key: string;
  /** The offending value as given (JSON), or `(not set)`. */
  value: string;
  /** What is wrong and how to fix it. */
  fix: string;
}

/**
 * A stack config that cannot be used. Thrown before any resource registers or any machine is touched.
 * Its message lists every problem, one per line, each naming the key, the value and the fix.
 */
export class ConfigError extends Error {
  readonly issues: ConfigIssue[];

  constructor(issues: ConfigIssue[], source?: string) {
    const where = source ? ` in ${source}` : "";
    const lines = issues.map((i) => `  - ${i.key} = ${i.value}: ${i.fix}`);
    super(`Invalid django-ha config${where} (${issues.length} problem${issues.length === 1 ? "" : "s"}):\n${lines.join("\n")}`);
    this.name = "ConfigError";
    this.issues = issues;
  }
}

/** An error meant for the operator: what failed and the next step. Scripts print its message without a stack trace. */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UserError";
  }
}
