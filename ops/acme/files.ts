/**
 * Files on the share: written to a temp name beside the target, owned and moded, flushed, then renamed,
 * so a reader (a child's tls-sync, a later run) sees the old file or the new one, never half of one.
 */
import * as fs from "node:fs";
import * as path from "node:path";

export interface Owner {
  uid: number;
  gid: number;
}

export interface WriteOptions {
  mode: number;
  /** chown to this owner (the app user: NFS squashes root to it). Defaults to leaving the writer's. */
  owner?: Owner;
}

export function writeFileAtomic(file: string, data: string | Buffer, o: WriteOptions): void {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.tmp-${process.pid}`);
  const fd = fs.openSync(tmp, "w", o.mode);
  try {
    fs.writeFileSync(fd, data);
    fs.fchmodSync(fd, o.mode);
    if (o.owner) fs.fchownSync(fd, o.owner.uid, o.owner.gid);
    fs.fsyncSync(fd);
  } catch (e) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  fs.closeSync(fd);
  fs.renameSync(tmp, file);
  const dfd = fs.openSync(dir, "r");
  try {
    fs.fsyncSync(dfd);
  } finally {
    fs.closeSync(dfd);
  }
}

/** mkdir -p with a mode and owner on each directory it creates or finds (idempotent). */
export function ensureDir(dir: string, mode: number, owner?: Owner): void {
  fs.mkdirSync(dir, { recursive: true, mode });
  fs.chmodSync(dir, mode);
  if (owner) fs.chownSync(dir, owner.uid, owner.gid);
}

export function readIfExists(file: string): string | undefined {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
}
