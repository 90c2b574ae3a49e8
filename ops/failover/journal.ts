/**
 * The failover's journal: which run is in progress and which of its steps are done, so a re-run after an
 * interruption finishes that failover instead of starting a second one (the inventory may already name the
 * new primary by then). Written atomically after every step; moved to history/ when the run completes.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { UserError } from "../../model/errors";
import type { FailoverKind } from "./decide";

export interface JournalData {
  version: 1;
  id: string;
  kind: FailoverKind;
  stack: string;
  /** The primary being replaced, and the machine that takes over. */
  from: string;
  to: string;
  startedAt: string;
  /** Step name → ISO time it completed. */
  done: Record<string, string>;
  /** Nodes a step could not reach (fixed by a later bootstrap). */
  unreachable: Record<string, string>;
  finishedAt?: string;
}

export class Journal {
  private constructor(
    readonly file: string,
    readonly data: JournalData,
  ) {}

  /** The journal of an unfinished failover of the stack, if any. */
  static open(file: string): Journal | undefined {
    if (!fs.existsSync(file)) return undefined;
    let data: JournalData;
    try {
      data = JSON.parse(fs.readFileSync(file, "utf8")) as JournalData;
    } catch (e) {
      throw new UserError(
        `The failover journal ${file} is not readable JSON (${(e as Error).message}). Look at it: if no failover is in progress, move it away and run again.`,
      );
    }
    if (data.version !== 1 || !data.from || !data.to || !data.kind)
      throw new UserError(
        `The failover journal ${file} is not one this version wrote. Move it away if no failover is in progress, then run again.`,
      );
    data.unreachable ??= {};
    return new Journal(file, data);
  }

  static start(file: string, d: Pick<JournalData, "kind" | "stack" | "from" | "to">, now = new Date()): Journal {
    const id = now.toISOString().replace(/[:.]/g, "-");
    const j = new Journal(file, { version: 1, id, ...d, startedAt: now.toISOString(), done: {}, unreachable: {} });
    j.save();
    return j;
  }

  isDone(step: string): boolean {
    return step in this.data.done;
  }

  markDone(step: string): void {
    this.data.done[step] = new Date().toISOString();
    this.save();
  }

  noteUnreachable(node: string, why: string): void {
    this.data.unreachable[node] = why;
    this.save();
  }

  /** The run is complete: keep it under history/ (a record of what happened), free the stack for the next one. */
  finish(): string {
    this.data.finishedAt = new Date().toISOString();
    const dest = path.join(
      path.dirname(this.file),
      "failover-history",
      `${this.data.id}-${this.data.kind}-${this.data.from}-to-${this.data.to}.json`,
    );
    fs.mkdirSync(path.dirname(dest), { recursive: true, mode: 0o700 });
    fs.writeFileSync(dest, `${JSON.stringify(this.data, null, 2)}\n`);
    fs.rmSync(this.file, { force: true });
    return dest;
  }

  private save(): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, `${JSON.stringify(this.data, null, 2)}\n`);
    fs.renameSync(tmp, this.file);
  }
}
