import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { renderAppEnv, renderAppSecretsEnv, renderPipConf } from "./appenv";
import { renderGaneshaConf } from "./ganesha";
import { renderHostsBlock } from "./hosts";
import { renderLsyncdConf } from "./lsyncd";
import { renderNftables } from "./nftables";
import { renderNginxSite } from "./nginx";
import { renderPgHba, renderPostgresConf } from "./postgres";
import { renderRedisConf } from "./redis";
import { renderSshdDropIn } from "./sshd";
import { mountUnitName, renderUnit } from "./systemd";
import { renderUnattendedPolicy } from "./unattended";
import { renderUwsgiIni } from "./uwsgi";

const lines = (text: string) => text.split("\n");

describe("hosts block", () => {
  it("wraps the entries in the markers", () => {
    assert.equal(
      renderHostsBlock({ entries: [{ address: "10.0.0.5", names: ["primary.shop.internal"] }] }),
      "# BEGIN django-ha\n# Managed by django-ha (bootstrap, failover): edits inside this block are overwritten.\n10.0.0.5\tprimary.shop.internal\n# END django-ha\n",
    );
  });
});

describe("sshd drop-in", () => {
  for (const port of [22, 2222]) {
    it(`port ${port}, no passwords, root by key only`, () => {
      const l = lines(renderSshdDropIn({ port }));
      for (const want of [
        `Port ${port}`,
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "PermitRootLogin prohibit-password",
      ])
        assert.ok(l.includes(want), want);
    });
  }
});

describe("unattended upgrades", () => {
  for (const [reboot, want] of [
    [false, '"false"'],
    [true, '"true"'],
  ] as const) {
    it(`automatic reboot ${reboot}`, () =>
      assert.ok(renderUnattendedPolicy({ automaticReboot: reboot }).includes(`Automatic-Reboot ${want};`)));
  }
});

describe("app.env", () => {
  const base = {
    settingsModule: "djangoha_app.settings",
    secretKey: "k",
    allowedHosts: ["www.example.com", "10.0.0.3"],
    dbHosts: ["10.0.0.1", "10.0.0.2"],
    dbPort: 5432,
    dbName: "app",
    dbUser: "app",
    dbPassword: "p",
    brokerUrl: "redis://:r@primary.shop.internal:6379/0",
    shareRoot: "/srv/share",
    mediaRoot: "/srv/share/media",
    staticRoot: "/srv/share/static",
    nodeName: "shop-child-1",
  };
  const table: [string, string, string][] = [
    ["plain values stay bare", "abc123", "DJANGO_SECRET_KEY=abc123"],
    ["spaces and $ are single-quoted", "a b$c", "DJANGO_SECRET_KEY='a b$c'"],
    ["double quotes are single-quoted", 'x"y', `DJANGO_SECRET_KEY='x"y'`],
  ];
  for (const [what, key, want] of table) {
    it(what, () => assert.ok(lines(renderAppEnv({ ...base, secretKey: key })).includes(want)));
  }
  it("lists the contract's variables", () => {
    const text = renderAppEnv(base);
    for (const want of [
      "DJANGO_SETTINGS_MODULE=djangoha_app.settings",
      "DJANGO_ALLOWED_HOSTS=www.example.com,10.0.0.3",
      "DATABASE_URL='postgresql://app:p@10.0.0.1:5432,10.0.0.2:5432/app?target_session_attrs=read-write&connect_timeout=3'",
      "DB_HOSTS=10.0.0.1,10.0.0.2",
      "DB_PORT=5432",
      "DB_NAME=app",
      "DB_USER=app",
      "DB_PASSWORD=p",
      "CELERY_BROKER_URL=redis://:r@primary.shop.internal:6379/0",
      "SHARE_ROOT=/srv/share",
      "MEDIA_ROOT=/srv/share/media",
      "STATIC_ROOT=/srv/share/static",
      "NODE_NAME=shop-child-1",
    ])
      assert.ok(lines(text).includes(want), want);
  });
  it("DATABASE_URL: user and password percent-encoded, so its only '@' ends them; IPv6 hosts in brackets", () => {
    const text = renderAppEnv({ ...base, dbPassword: "p@ss/w:rd?#", dbHosts: ["2001:db8::1", "10.0.0.2"] });
    assert.ok(
      lines(text).includes(
        "DATABASE_URL='postgresql://app:p%40ss%2Fw%3Ard%3F%23@[2001:db8::1]:5432,10.0.0.2:5432/app?target_session_attrs=read-write&connect_timeout=3'",
      ),
      text,
    );
  });
  it("the project's variables follow the cluster's; a cluster variable cannot be replaced", () => {
    const l = lines(renderAppEnv({ ...base, extra: { SHOP_CURRENCY: "EUR", SHOP_MOTD: "hello world" } }));
    assert.ok(l.indexOf("SHOP_CURRENCY=EUR") > l.indexOf("NODE_NAME=shop-child-1"));
    assert.ok(l.includes("SHOP_MOTD='hello world'"));
    assert.throws(() => renderAppEnv({ ...base, extra: { DATABASE_URL: "sqlite://" } }), /DATABASE_URL is one the cluster sets/);
  });
  it("pip.conf trusts a plain-http index's host:port, nothing for https", () => {
    assert.ok(lines(renderPipConf("http://10.231.0.1:3141/simple/")).includes("trusted-host = 10.231.0.1:3141"));
    assert.doesNotMatch(renderPipConf("https://pypi.org/simple"), /trusted-host/);
    assert.match(renderPipConf("https://pypi.org/simple"), /^\[global\]$/m);
  });
  it("app-secrets.env: sorted, quoted like app.env, no line for a missing secret", () => {
    assert.equal(
      renderAppSecretsEnv({ STRIPE_KEY: "sk_live_1", MAIL_PASSWORD: "a b" }).split("\n").slice(1).join("\n"),
      "MAIL_PASSWORD='a b'\nSTRIPE_KEY=sk_live_1\n",
    );
    assert.equal(
      renderAppSecretsEnv({})
        .split("\n")
        .filter((x) => x && !x.startsWith("#")).length,
      0,
    );
    assert.throws(() => renderAppSecretsEnv({ STRIPE_KEY: "it's" }), /app-secrets.env STRIPE_KEY/);
  });
  for (const bad of ["it's", "a\nb", "back\\slash"]) {
    it(`refuses ${JSON.stringify(bad)} naming the key`, () =>
      assert.throws(() => renderAppEnv({ ...base, dbPassword: bad }), /app\.env DB_PASSWORD/));
  }
});

describe("redis.conf", () => {
  it("primary: bind, password, persistence, no replicaof", () => {
    const l = lines(renderRedisConf({ bind: ["127.0.0.1", "10.0.0.1"], port: 6379, password: "pw" }));
    for (const want of ["bind 127.0.0.1 10.0.0.1", 'requirepass "pw"', "appendonly yes", "protected-mode yes"])
      assert.ok(l.includes(want), want);
    assert.ok(!l.some((x) => x.startsWith("replicaof")));
  });
  it("replica: replicaof and masterauth", () => {
    const l = lines(renderRedisConf({ bind: ["127.0.0.1"], port: 6379, password: "pw", replicaOf: { host: "10.0.0.1", port: 6379 } }));
    for (const want of ["replicaof 10.0.0.1 6379", 'masterauth "pw"', "replica-read-only yes"]) assert.ok(l.includes(want), want);
  });
});

describe("postgresql.conf fragment", () => {
  const table: [string, string, string][] = [
    ["primary", "FIRST 1 (standby)", "synchronous_standby_names = 'FIRST 1 (standby)'"],
    ["standby / async", "", "synchronous_standby_names = ''"],
  ];
  for (const [what, names, want] of table) {
    it(what, () => {
      const text = renderPostgresConf({
        listenAddresses: ["localhost", "10.0.0.1"],
        port: 5432,
        synchronousStandbyNames: names,
        maxSlotWalKeepSize: "8GB",
      });
      assert.ok(text.includes(want), text);
      for (const w of [
        "listen_addresses = 'localhost,10.0.0.1'",
        "wal_level = replica",
        "wal_log_hints = on",
        "password_encryption = 'scram-sha-256'",
        "max_slot_wal_keep_size = '8GB'",
        "hot_standby = on",
      ])
        assert.ok(text.includes(w), w);
    });
  }
  it("doubles single quotes in values", () => {
    assert.ok(
      renderPostgresConf({ listenAddresses: ["a'b"], port: 1, synchronousStandbyNames: "", maxSlotWalKeepSize: "1GB" }).includes(
        "listen_addresses = 'a''b'",
      ),
    );
  });
});

describe("pg_hba.conf", () => {
  it("makes single addresses /32 or /128 and keeps CIDRs", () => {
    const text = renderPgHba([
      { type: "local", database: "all", user: "postgres", method: "peer" },
      { type: "host", database: "app", user: "app", address: "10.0.0.3", method: "scram-sha-256" },
      { type: "host", database: "app", user: "app", address: "2001:db8::3", method: "scram-sha-256" },
      { type: "host", database: "replication", user: "replicator", address: "10.0.0.0/24", method: "scram-sha-256" },
    ]);
    const rows = lines(text)
      .slice(1, -1)
      .map((l) => l.split(/\s+/));
    assert.deepEqual(rows, [
      ["local", "all", "postgres", "peer"],
      ["host", "app", "app", "10.0.0.3/32", "scram-sha-256"],
      ["host", "app", "app", "2001:db8::3/128", "scram-sha-256"],
      ["host", "replication", "replicator", "10.0.0.0/24", "scram-sha-256"],
    ]);
  });
});

describe("ganesha.conf", () => {
  it("one VFS export, members only, root squashed to the app user", () => {
    const text = renderGaneshaConf({
      exportId: 1,
      path: "/srv/share",
      clients: ["10.0.0.1", "10.0.0.3"],
      anonymousUid: 950,
      anonymousGid: 950,
      mountdPort: 20048,
      nfsPort: 2049,
    });
    for (const want of [
      "Path = /srv/share;",
      "Pseudo = /srv/share;",
      "Squash = Root_Squash;",
      "Anonymous_Uid = 950;",
      "Clients = 10.0.0.1, 10.0.0.3;",
      "Name = VFS;",
      "Enable_NLM = false;",
      "MNT_Port = 20048;",
      "Allow_Set_Io_Flusher_Fail = true;",
    ])
      assert.ok(text.includes(want), want);
    assert.equal((text.match(/Access_Type = RW;/g) ?? []).length, 1, "RW only inside the CLIENT block");
  });
});

describe("lsyncd config", () => {
  it("rsyncs the share to the standby through the dedicated key", () => {
    const text = renderLsyncdConf({
      source: "/srv/share/",
      targetHost: "root@10.0.0.2",
      identityFile: "/root/.ssh/k",
      knownHostsFile: "/root/.ssh/k.known_hosts",
      delaySeconds: 1,
      sshPort: 2222,
      statusFile: "/var/lib/x",
    });
    for (const want of [
      'source = "/srv/share/"',
      'target = "root@10.0.0.2:/"',
      "delay = 1",
      "-p 2222 -i /root/.ssh/k",
      "UserKnownHostsFile=/root/.ssh/k.known_hosts",
      '"--numeric-ids"',
    ])
      assert.ok(text.includes(want), want);
  });
});

describe("nginx site", () => {
  const text = renderNginxSite({
    fqdn: "www.example.com",
    tlsDir: "/srv/share/tls/www.example.com",
    acmeWebroot: "/srv/share/acme",
    staticDir: "/srv/share/static",
    mediaDir: "/srv/share/media",
    uwsgiSocket: "/run/u/app.sock",
    clientMaxBodySize: "512m",
    healthPath: "/healthz/",
    maintenanceFlag: "/srv/share/.django-ha/maintenance",
    readOnlyFlag: "/srv/share/.django-ha/read-only",
    pagesDir: "/usr/share/django-ha/pages",
    appUnhealthyFlag: "/run/x/unhealthy",
    appWatchPort: 8089,
  });
  const table: [string, string][] = [
    ["redirects to https", "return 301 https://$host$request_uri;"],
    ["ACME webroot on the share", "root /srv/share/acme;"],
    ["certificate from the share", "ssl_certificate /srv/share/tls/www.example.com/fullchain.pem;"],
    ["static with a long cache", 'add_header Cache-Control "public, immutable";'],
    ["static alias ends in /", "alias /srv/share/static/;"],
    ["media never active content", `add_header Content-Security-Policy "default-src 'none'; sandbox" always;`],
    ["uWSGI over the unix socket", "server unix:/run/u/app.sock;"],
    ["the health path always reaches the app", "location = /healthz/ {"],
    ["maintenance flag tested per request", "if (-f /srv/share/.django-ha/maintenance) {"],
    ["read-only lets GET and HEAD through", "if ($request_method ~ ^(GET|HEAD)$) {"],
    ["mode pages say when to come back", "add_header Retry-After 120 always;"],
    ["a hung app answers 503 at once", "if (-f /run/x/unhealthy) {"],
    ["with its own page and Retry-After", "add_header Retry-After 10 always;"],
    ["the watchdog's server on loopback only", "listen 127.0.0.1:8089;"],
  ];
  for (const [what, want] of table) it(what, () => assert.ok(text.includes(want), want));
  it("the ACME location comes before the redirect on port 80", () =>
    assert.ok(text.indexOf("acme-challenge") < text.indexOf("return 301")));
  it("refuses a health path nginx would read as syntax", () =>
    assert.throws(
      () =>
        renderNginxSite({
          fqdn: "w",
          tlsDir: "/t",
          acmeWebroot: "/a",
          staticDir: "/s",
          mediaDir: "/m",
          uwsgiSocket: "/u",
          clientMaxBodySize: "1m",
          healthPath: "/h; }",
          maintenanceFlag: "/f",
          readOnlyFlag: "/r",
          pagesDir: "/p",
          appUnhealthyFlag: "/x",
          appWatchPort: 8089,
        }),
      /healthPath/,
    ));
});

describe("uwsgi.ini", () => {
  it("has the production settings", () => {
    const l = lines(
      renderUwsgiIni({
        chdir: "/var/lib/django-ha",
        pythonpath: "/usr/lib/django-ha",
        module: "m:app",
        env: { DJANGO_HA_WSGI: "p.wsgi:application" },
        statsSocket: "/run/stats.sock",
        socket: "/run/s",
        chainReloadFile: "/run/r",
        processes: 4,
        harakiriSeconds: 60,
        maxRequests: 5000,
        reloadOnRssMb: 300,
      }),
    );
    for (const want of [
      "strict = true",
      "plugins = python3",
      "master = true",
      "lazy-apps = true",
      "touch-chain-reload = /run/r",
      "harakiri = 60",
      "max-requests = 5000",
      "reload-on-rss = 300",
      "need-app = true",
      "die-on-term = true",
      "vacuum = true",
      "chdir = /var/lib/django-ha",
      "pythonpath = /usr/lib/django-ha",
      "env = DJANGO_HA_WSGI=p.wsgi:application",
      "stats = /run/stats.sock",
    ])
      assert.ok(l.includes(want), want);
  });
});

describe("systemd units", () => {
  it("renders sections in order", () => {
    assert.equal(
      renderUnit({
        name: "x.service",
        sections: [
          ["Unit", [["Description", "d"]]],
          [
            "Service",
            [
              ["ExecStart", "/bin/true"],
              ["RemainAfterExit", true],
              ["TimeoutSec", 5],
            ],
          ],
        ],
      }),
      "# django-ha: x.service\n\n[Unit]\nDescription=d\n\n[Service]\nExecStart=/bin/true\nRemainAfterExit=yes\nTimeoutSec=5\n",
    );
  });
  it("refuses multi-line values", () =>
    assert.throws(() => renderUnit({ name: "x.service", sections: [["Unit", [["Description", "a\nb"]]]] }), /one line/));
  const names: [string, "mount" | "automount", string][] = [
    ["/srv/share", "mount", "srv-share.mount"],
    ["/srv/share/", "automount", "srv-share.automount"],
    ["/srv/my-share", "mount", "srv-my\\x2dshare.mount"],
  ];
  for (const [where, suffix, want] of names) it(`${where} → ${want}`, () => assert.equal(mountUnitName(where, suffix), want));
});

describe("nftables", () => {
  it("splits v4 and v6 sources and opens 'any' rules to everyone", () => {
    const text = renderNftables({
      rules: [
        { comment: "ssh", protocol: "tcp", ports: [22], from: ["10.0.0.0/24", "2001:db8::/64"] },
        { comment: "web", protocol: "tcp", ports: [80, 443], from: "any" },
      ],
    });
    assert.ok(text.includes('ip saddr { 10.0.0.0/24 } tcp dport 22 accept comment "ssh"'));
    assert.ok(text.includes('ip6 saddr { 2001:db8::/64 } tcp dport 22 accept comment "ssh"'));
    assert.ok(text.includes('tcp dport { 80, 443 } accept comment "web"'));
    assert.ok(text.includes("policy drop;"));
  });
});
