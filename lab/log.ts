/** The lab's progress lines: one function a line, stderr by default. */
export type Log = (line: string) => void;
export const defaultLog: Log = (line) => process.stderr.write(`${line}\n`);
