import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { describe, it } from "node:test";
import { shellJoin, shellQuote } from "./shell";

// The one quoting of roles' rendered scripts, ops' SSH commands and the lab's ssh (each had its own before).
describe("shellQuote", () => {
  const cases: [string, string][] = [
    ["plain", "plain"],
    ["plain-1.2/x", "plain-1.2/x"],
    ["user@host:/a,b=c+d%e", "user@host:/a,b=c+d%e"],
    ["/etc/nginx/nginx.conf", "/etc/nginx/nginx.conf"],
    ["", "''"],
    ["two words", "'two words'"],
    ["it's", `'it'\\''s'`],
    ["$(rm -rf /)", "'$(rm -rf /)'"],
    ["`id`", "'`id`'"],
    ["a;b|c&d", "'a;b|c&d'"],
    ["line1\nline2", "'line1\nline2'"],
    ["*?[]~", "'*?[]~'"],
    ["\\", "'\\'"],
    ["'", `''\\'''`],
    ["''", `''\\'''\\'''`],
    ["-n", "-n"],
    ["ünïcode", "'ünïcode'"],
    ["${HOME}", "'${HOME}'"],
  ];
  for (const [input, expected] of cases) {
    it(`quotes ${JSON.stringify(input)}`, () => assert.equal(shellQuote(input), expected));
  }

  it("refuses a NUL byte, naming the value", () => {
    assert.throws(() => shellQuote("a\0b"), /NUL byte.*"a\\u0000b"/);
  });

  it("round-trips nasty arguments through a real shell unchanged", () => {
    const nasty = ["it's", "$(echo pwned)", "`id`", "a b\tc\nd", "\\n", "'\"'", "!history", "-e", "", "*", "ünï"];
    // printf '%s\0' prints each argument NUL-terminated: what bash received, byte for byte.
    const out = execFileSync("bash", ["-c", shellJoin(["printf", "%s\\0", ...nasty])], { encoding: "utf8" });
    assert.deepEqual(out.split("\0").slice(0, -1), nasty);
  });
});

describe("shellJoin", () => {
  it("joins argv with single spaces, quoting only what needs it", () => {
    assert.equal(shellJoin(["systemctl", "restart", "nginx.service"]), "systemctl restart nginx.service");
    assert.equal(shellJoin(["bash", "-c", 'echo "$1"', "_", "x y"]), `bash -c 'echo "$1"' _ 'x y'`);
  });

  it("refuses an empty command", () => {
    assert.throws(() => shellJoin([]), /empty command/);
  });
});
