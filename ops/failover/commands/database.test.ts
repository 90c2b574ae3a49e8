import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { lsnBytes, parsePeerPostgres, parsePgStatus, peerPostgres, pgStatus } from "./database";
import { assertProgramsPassShellcheck } from "../../../test/shellcheck";

const programs = { pgStatus: pgStatus(), peerPostgres: peerPostgres("10.0.0.5", 5432) };

describe("failover commands: the database's state", () => {
  it("every fixed bash program passes shellcheck", () => assertProgramsPassShellcheck(programs));

  it("data travels as positional arguments, never inside the program text", () => {
    assert.deepEqual(programs.peerPostgres.slice(3), ["django-ha-failover", "10.0.0.5", "5432", "2"]);
    for (const argv of Object.values(programs)) assert.ok(!argv[2].includes("10.0.0."), argv[2].slice(0, 80));
  });

  it("the peer probe speaks to a real port: no answer from a closed one (this machine's python3)", () => {
    const r = spawnSync("bash", ["-c", programs.peerPostgres[2], "x", "127.0.0.1", "1", "1"], { encoding: "utf8" });
    const p = parsePeerPostgres(r.stdout);
    assert.equal(p.answers, false);
    assert.match(p.detail, /^no answer \(ConnectionRefusedError/);
  });

  it("parses the PostgreSQL status of a standby, a primary and a dead server", () => {
    const standby = parsePgStatus(
      "pg=up\nrecovery=true\nreceive_lsn=0/30A8448\nreplay_lsn=0/30A8400\ncurrent_lsn=\nreceiver=streaming\nreceipt_age=1\nsync_names=\nread_only=off\ntimeline=1\n",
    );
    assert.deepEqual(standby, {
      up: true,
      replicas: [],
      recovery: true,
      receiveLsn: "0/30A8448",
      replayLsn: "0/30A8400",
      currentLsn: undefined,
      receiver: "streaming",
      receiptAgeSeconds: 1,
      syncNames: "",
      readOnly: false,
      timeline: 1,
    });
    const primary = parsePgStatus(
      "pg=up\nrecovery=false\ncurrent_lsn=1/0\nreceipt_age=\nsync_names=FIRST 1 (standby)\nreplica=standby,streaming,sync,0/FF\n",
    );
    assert.equal(primary.recovery, false);
    assert.equal(primary.receiptAgeSeconds, undefined);
    assert.deepEqual(primary.replicas, [{ name: "standby", state: "streaming", syncState: "sync", replayLsn: "0/FF" }]);
    assert.deepEqual(parsePgStatus("pg=down\npg_error=psql: error: connection refused \n"), {
      up: false,
      replicas: [],
      error: "psql: error: connection refused",
    });
  });

  it("compares LSNs as 64-bit positions", () => {
    assert.equal(lsnBytes("0/0"), 0n);
    assert.equal(lsnBytes("1/0"), 1n << 32n);
    assert.ok(lsnBytes("16/B374D848") > lsnBytes("16/B374D847"));
    assert.ok(lsnBytes("10/0") > lsnBytes("F/FFFFFFFF"));
    assert.throws(() => lsnBytes("nope"), /not a PostgreSQL LSN/);
  });
});
