import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { labInv, probeOutput } from "../../test/status-fixtures";
import { keyServices, opensslTime, parseProbe, probeCommand } from "./probe";

const inv = labInv();
const node = (name: string) => inv.nodes.find((n) => n.name === name)!;

describe("status probe", () => {
  it("is one fixed bash program per role, data only as arguments, shellcheck-clean", () => {
    const programs = new Set(inv.nodes.map((n) => probeCommand(n.role, inv.recordFqdn)[2]));
    assert.equal(programs.size, 1, "the program text does not depend on the node");
    const argv = probeCommand("child", inv.recordFqdn);
    assert.deepEqual(argv.slice(3, 9), [
      "django-ha-status",
      "child",
      "www.lab.test",
      "/var/lib/django-ha/lsyncd.status",
      "/",
      "django-ha-health.service",
    ]);
    assert.equal(
      argv[9],
      "/etc/django-ha/tls/fullchain.pem,/srv/share/tls/www.lab.test/fullchain.pem",
      "the certificate paths before and after issue 10",
    );
    assert.deepEqual(argv.slice(10), keyServices("child"));
    assert.deepEqual(
      probeCommand("parent", inv.recordFqdn)[7],
      "/,/var/lib/postgresql,/srv/share",
      "the data volumes of a database machine",
    );
    const r = spawnSync("shellcheck", ["-s", "bash", "-"], { input: argv[2], encoding: "utf8" });
    assert.equal(r.status, 0, r.stdout);
  });

  it("names each role's key services", () => {
    assert.deepEqual(keyServices("parent"), [
      "ssh.service",
      "nftables.service",
      "postgresql@17-main.service",
      "nfs-ganesha.service",
      "redis-server.service",
      "django-ha-share-sync.service",
    ]);
    assert.deepEqual(keyServices("child").slice(2), ["django-ha-uwsgi.service", "nginx.service"]);
    assert.deepEqual(keyServices("worker").slice(2), ["django-ha-celery.service"]);
  });

  it("parses a primary: replication row, share copy, disks, no agent", () => {
    const s = parseProbe(node(inv.primary), probeOutput(node(inv.primary), inv));
    assert.equal(s.system, "running");
    assert.deepEqual(s.postgres, {
      mode: "primary",
      replicas: [{ application: "standby", state: "streaming", syncState: "sync", lagBytes: 0, replayLagSeconds: 0.000512 }],
    });
    assert.deepEqual(s.shareSync, { statusAgeSeconds: 3, pendingChanges: 0 });
    assert.deepEqual(s.disks[1], { mount: "/var/lib/postgresql", sizeBytes: 1073741824, usedBytes: 107374182, usedPercent: 10 });
    assert.equal(s.agentLog, null);
  });

  it("parses a standby, a PostgreSQL that is down, and the agent's log lines", () => {
    const standby = parseProbe(
      node(inv.standby),
      probeOutput(node(inv.standby), inv, {
        agent: ["present"],
        agent_log: ["2026-12-01T06:59:00+00:00 lab-db-1 django-ha-health[1]: removed lab-child-1: 3 failures"],
      }),
    );
    assert.deepEqual(standby.postgres, { mode: "standby", replicas: [], receivedNotReplayedBytes: 0, lastReplaySeconds: 2 });
    assert.deepEqual(standby.agentLog, ["2026-12-01T06:59:00+00:00 lab-db-1 django-ha-health[1]: removed lab-child-1: 3 failures"]);
    const down = parseProbe(
      node(inv.primary),
      probeOutput(node(inv.primary), inv, { pg_recovery: ["psql: error: connection to server on socket failed"], replica: undefined }),
    );
    assert.deepEqual(down.postgres, { mode: "down", error: "psql: error: connection to server on socket failed", replicas: [] });
  });

  it("parses a child: certificate notAfter, placeholder, health answer, a stopped uWSGI", () => {
    const c = node("lab-child-1");
    const s = parseProbe(
      c,
      probeOutput(c, inv, {
        unit: ["django-ha-uwsgi.service failed", "nginx.service active"],
        health: ["502 0.001730 0"],
        cert_selfsigned: ["1"],
      }),
    );
    assert.deepEqual(s.services, [
      { unit: "django-ha-uwsgi.service", state: "failed" },
      { unit: "nginx.service", state: "active" },
    ]);
    assert.deepEqual(s.health, { httpStatus: 502, seconds: 0.00173 });
    assert.deepEqual(s.certificate, {
      path: "/srv/share/tls/www.lab.test/fullchain.pem",
      notAfter: "2027-03-01T07:00:00.000Z",
      subject: "CN=www.lab.test",
      placeholder: true,
    });
    const noAnswer = parseProbe(c, probeOutput(c, inv, { health: ["000 5.001 28"] }));
    assert.deepEqual(noAnswer.health, { httpStatus: 0, seconds: 5.001, error: "curl exit 28" });
    const noCert = parseProbe(
      c,
      probeOutput(c, inv, { cert_path: undefined, cert_missing: ["nginx -T names no ssl_certificate"], health: undefined }),
    );
    assert.deepEqual(noCert.certificate, { error: "no certificate file (nginx -T names no ssl_certificate)" });
  });

  it("reads openssl's dates, and refuses what is not one", () => {
    assert.equal(opensslTime("Dec  1 06:00:00 2026 GMT"), "2026-12-01T06:00:00.000Z");
    assert.equal(opensslTime("unable to load certificate"), undefined);
  });

  it("ignores lines that are not facts", () => {
    const s = parseProbe(node("lab-worker"), `garbage\n\tno key\nsystem\tdegraded\nfailed\tdjango-ha-celery.service\n`);
    assert.equal(s.system, "degraded");
    assert.deepEqual(s.failedUnits, ["django-ha-celery.service"]);
  });
});
