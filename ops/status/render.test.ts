import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { labInv, NOW, probeOutput } from "../../test/status-fixtures";
import { withFindings } from "./evaluate";
import { parseProbe } from "./probe";
import { bytes, renderStatus, statusJson } from "./render";

const inv = labInv();
const status = (over: Record<string, Record<string, string[] | undefined>> = {}) =>
  withFindings(
    {
      stack: "lab",
      cluster: "lab",
      takenAt: NOW.toISOString(),
      primary: inv.primary,
      standby: inv.standby,
      syncReplication: "strict",
      record: {
        fqdn: inv.recordFqdn,
        members: [
          { name: "lab-child-1", address: "10.231.0.21" },
          { name: "lab-child-2", address: "10.231.0.22" },
        ],
      },
      nodes: inv.nodes.map((n) => parseProbe(n, probeOutput(n, inv, over[n.name] ?? {}))),
    },
    NOW,
  );

describe("the status screen", () => {
  it("shows a healthy cluster on one screen", () => {
    assert.equal(
      renderStatus(status()),
      `django-ha status of stack lab (cluster lab) at 2026-12-01T07:00:00.000Z: HEALTHY

NODE         ROLE     ADDRESS      SSH  SYSTEM   SERVICES    DISK USE
lab-db-1     primary  10.231.0.11  ok   running  6/6 active  / 20%  /var/lib/postgresql 10%  /srv/share 1%
lab-db-2     standby  10.231.0.12  ok   running  4/4 active  / 20%  /var/lib/postgresql 10%  /srv/share 1%
lab-child-1  child    10.231.0.21  ok   running  4/4 active  / 20%
lab-child-2  child    10.231.0.22  ok   running  4/4 active  / 20%
lab-worker   worker   10.231.0.31  ok   running  3/3 active  / 20%

Database      primary lab-db-1 → standby lab-db-2 (policy strict): streaming, sync, lag 0 B, replay lag 0.001 s, last commit replayed 2 s ago
Share copy    lab-db-1 → lab-db-2 (lsyncd): in step (nothing queued), queue last changed 3 s ago
Record        www.lab.test: lab-child-1 10.231.0.21, lab-child-2 10.231.0.22
Live children lab-child-1, lab-child-2
Certificate   lab-child-1: expires 2027-03-01 (90 days)  /srv/share/tls/www.lab.test/fullchain.pem
Certificate   lab-child-2: expires 2027-03-01 (90 days)  /srv/share/tls/www.lab.test/fullchain.pem
Health agent  no agent
`,
    );
  });

  it("lists what needs a human, and the notes, under the summary", () => {
    const text = renderStatus(
      status({
        "lab-child-1": {
          unit: ["ssh.service active", "nftables.service active", "django-ha-uwsgi.service inactive", "nginx.service active"],
          health: ["502 0.001 0"],
          cert_selfsigned: ["1"],
        },
      }),
    );
    assert.match(text, /: NEEDS A HUMAN \(3 problems\)\n/);
    assert.match(text, /lab-child-1 +child .* django-ha-uwsgi inactive /);
    assert.match(text, /Live children lab-child-2\n/);
    assert.match(
      text,
      /\nNeeds a human:\n {2}✗ lab-child-1: django-ha-uwsgi.service is inactive\n {2}✗ lab-child-1: \/health\/ answers 502\n {2}✗ cluster: the record lists lab-child-1 \(10.231.0.21\), which is not live/,
    );
    assert.match(text, /\nNotes:\n {2}· lab-child-1: serves the self-signed placeholder certificate/);
  });

  it("shows an agent's last changes, and an unreachable primary", () => {
    const withAgent = renderStatus(
      status({ [inv.primary]: { agent: ["present"], agent_log: ["06:59 removed lab-child-1 (3 failures)"] } }),
    );
    assert.match(withAgent, /Health agent {2}last changes:\n {2}06:59 removed lab-child-1 \(3 failures\)\n/);
    const s = status();
    s.nodes[0] = {
      name: "lab-db-1",
      role: "parent",
      address: "10.231.0.11",
      reachable: false,
      error: "ECONNREFUSED",
      failedUnits: [],
      services: [],
      disks: [],
    };
    const text = renderStatus(withFindings(s, NOW));
    assert.match(text, /lab-db-1 +primary +10.231.0.11 +DOWN +- +- +-\n/);
    assert.match(text, /\(policy strict\): primary unreachable\n/);
    assert.match(text, /Health agent {2}unknown \(primary unreachable\)/);
  });

  it("JSON carries the same facts and findings", () => {
    const s = status();
    assert.deepEqual(JSON.parse(statusJson(s)), JSON.parse(JSON.stringify(s)));
  });

  it("formats bytes", () => {
    assert.deepEqual([0, 1023, 1536, 64 * 1024 * 1024].map(bytes), ["0 B", "1023 B", "1.5 KiB", "64.0 MiB"]);
  });
});
