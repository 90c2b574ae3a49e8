import type { NodePlan } from "../../roles/types";
import { UserError } from "../../model/errors";
import { actionIssues } from "./actions";

/**
 * Every problem in a set of plans, each naming where it is, the value and the fix. Checked for ALL
 * nodes before any machine is touched, so a bad plan changes nothing anywhere.
 */
export function planIssues(plans: readonly NodePlan[]): string[] {
  const issues: string[] = [];
  const seen = new Set<string>();
  for (const plan of plans) {
    const n = plan.node.name;
    if (seen.has(n)) issues.push(`node ${n}: appears twice; every node needs exactly one plan`);
    seen.add(n);
    plan.actions.forEach((a, i) => {
      issues.push(...actionIssues(a, `node ${n}, action ${i + 1} (${a.kind})`, plan.actions.slice(0, i)));
    });
    plan.checks.forEach((c, i) => {
      if (c.attempts !== undefined && (!Number.isInteger(c.attempts) || c.attempts < 1))
        issues.push(`node ${n}, check ${i + 1} (${c.name}): attempts ${c.attempts} must be a whole number ≥ 1`);
    });
  }
  return issues;
}

/** Throw one UserError listing every problem, before anything is changed. */
export function validatePlans(plans: readonly NodePlan[]): void {
  const issues = planIssues(plans);
  if (issues.length)
    throw new UserError(
      `The bootstrap plans have ${issues.length} problem${issues.length === 1 ? "" : "s"}; nothing was changed:\n${issues.map((i) => `  - ${i}`).join("\n")}`,
    );
}
