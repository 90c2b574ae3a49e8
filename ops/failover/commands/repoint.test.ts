import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { renderAppEnv } from "../../../roles/files/appenv";
import { reconnectChild, reconnectWorker, runRendered } from "./repoint";
import { assertProgramsPassShellcheck } from "../../../test/shellcheck";

const programs = {
  reconnectChild: reconnectChild("/srv/share", "django-ha-uwsgi.service", "/etc/django-ha/app.env", ["10.0.0.6", "10.0.0.5"]),
  reconnectWorker: reconnectWorker("/srv/share", "django-ha-celery.service", "/etc/django-ha/app.env", ["10.0.0.6", "10.0.0.5"]),
};

/** The program's lines that edit app.env (the rest needs systemd and a mount), run on `file` with the new host list. */
function editAppEnv(argv: readonly string[], file: string, dbHosts: string) {
  const part = argv[2].split("\n").filter((l) => !/findmnt|systemctl/.test(l));
  return spawnSync("bash", ["-c", part.join("\n"), "x", "/nonexistent", "unit", file, dbHosts], { encoding: "utf8" });
}

describe("failover commands: repointing the clients", () => {
  it("every fixed bash program passes shellcheck", () => assertProgramsPassShellcheck(programs));

  it("data travels as positional arguments, never inside the program text", () => {
    assert.deepEqual(programs.reconnectChild.slice(3), [
      "django-ha-failover",
      "/srv/share",
      "django-ha-uwsgi.service",
      "/etc/django-ha/app.env",
      "10.0.0.6,10.0.0.5",
    ]);
    for (const argv of Object.values(programs)) assert.ok(!argv[2].includes("10.0.0."), argv[2].slice(0, 80));
  });

  it("a rendered script runs as it is", () => {
    assert.deepEqual(runRendered("echo changed\n"), ["bash", "-c", "echo changed\n"]);
  });

  it("the app's DB_HOSTS and DATABASE_URL become the lines the roles render for the new primary (new first), mode and owner kept, once", () => {
    const env = {
      settingsModule: "shop.settings",
      secretKey: "k",
      allowedHosts: ["www.example.com"],
      dbPort: 5432,
      dbName: "app",
      dbUser: "app",
      dbPassword: "pw",
      brokerUrl: "redis://:pw@primary.x.internal:6379/0",
      shareRoot: "/srv/share",
      mediaRoot: "/srv/share/media",
      staticRoot: "/srv/share/static",
      nodeName: "x-child-1",
      extra: { SHOP_URL: "https://shop.example/a@b/" },
    };
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "appenv-"));
    const file = path.join(dir, "app.env");
    fs.writeFileSync(file, renderAppEnv({ ...env, dbHosts: ["10.0.0.5", "10.0.0.6"] }), { mode: 0o640 });
    const first = editAppEnv(programs.reconnectChild, file, "10.0.0.6,10.0.0.5");
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stdout, /changed=db-hosts/);
    assert.equal(fs.readFileSync(file, "utf8"), renderAppEnv({ ...env, dbHosts: ["10.0.0.6", "10.0.0.5"] }));
    assert.equal(fs.statSync(file).mode & 0o777, 0o640);
    const second = editAppEnv(programs.reconnectChild, file, "10.0.0.6,10.0.0.5");
    assert.equal(second.status, 0, second.stderr);
    assert.doesNotMatch(second.stdout, /changed=/);
    assert.deepEqual(fs.readdirSync(dir), ["app.env"]);
    assert.throws(() => reconnectChild("/srv/share", "u", file, ["10.0.0.6", "x|rm -rf /"]), /not an IP address/);
    assert.throws(() => reconnectWorker("/srv/share", "u", file, ["primary.x.internal"]), /not an IP address/);
    fs.rmSync(dir, { recursive: true });
  });

  it("IPv6 database addresses: DATABASE_URL gets them in brackets, as the roles render them", () => {
    const env = {
      settingsModule: "s",
      secretKey: "k",
      allowedHosts: ["x"],
      dbPort: 6432,
      dbName: "app",
      dbUser: "app",
      dbPassword: "p@ss/word",
      brokerUrl: "redis://:pw@p:6379/0",
      shareRoot: "/srv/share",
      mediaRoot: "/srv/share/media",
      staticRoot: "/srv/share/static",
      nodeName: "n",
    };
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "appenv6-"));
    const file = path.join(dir, "app.env");
    fs.writeFileSync(file, renderAppEnv({ ...env, dbHosts: ["2001:db8::5", "2001:db8::6"] }), { mode: 0o640 });
    const r = editAppEnv(reconnectWorker("/srv/share", "u", file, ["2001:db8::6", "2001:db8::5"]), file, "2001:db8::6,2001:db8::5");
    assert.equal(r.status, 0, r.stderr);
    assert.equal(fs.readFileSync(file, "utf8"), renderAppEnv({ ...env, dbHosts: ["2001:db8::6", "2001:db8::5"] }));
    fs.rmSync(dir, { recursive: true });
  });
});
