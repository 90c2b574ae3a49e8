/** Option parsers the benches share (commander). */
import { InvalidArgumentError } from "commander";

/** A whole number ≥ min for the option `name`; refused naming the option and an example otherwise. */
export function whole(name: string, min: number): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`a whole number ≥ ${min}, e.g. ${name} 3`);
    return n;
  };
}
