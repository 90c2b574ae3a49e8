/**
 * The children's side of the certificate: nginx serves /etc/django-ha/tls/ (a self-signed placeholder until
 * the first real certificate), and django-ha-tls-sync installs each new certificate from the share within
 * 10 s (decrypting the key with the cluster's passphrase), checked, then nginx reloaded (no dropped request).
 */
import { file, started } from "./actions";
import { ClusterFacts, PATHS } from "./context";
import { renderUnit, unitPath, UnitFile } from "./files/systemd";
import { bashScript, shellQuote as q } from "./shell";
import type { Action } from "./types";

export const TLS_PATHS = {
  dir: "/etc/django-ha/tls",
  fullchain: "/etc/django-ha/tls/fullchain.pem",
  privkey: "/etc/django-ha/tls/privkey.pem",
  /** Present while the placeholder serves (removed when the first real certificate is installed). */
  selfSigned: "/etc/django-ha/tls/SELF-SIGNED",
  env: "/etc/django-ha/tls.env",
  sync: "/usr/local/sbin/django-ha-tls-sync",
} as const;
export const TLS_SYNC_SERVICE = "django-ha-tls-sync.service";
export const TLS_SYNC_TIMER = "django-ha-tls-sync.timer";
export const TLS_SYNC_EVERY_SECONDS = 10;

/** The certificate's directory on the share (the agent's `store`/`certName`). */
export function shareCertDir(fqdn: string): string {
  return `${PATHS.tls}/${fqdn}`;
}

/**
 * A self-signed placeholder where nginx looks, made once when no certificate is there (a new child, or a
 * child of the old layout that served the share's placeholder). Clearly named; replaced by the first sync.
 */
export function tlsPlaceholderScript(fqdn: string): Action {
  const t = TLS_PATHS;
  return {
    kind: "script",
    name: "tls-placeholder",
    script: bashScript(
      "self-signed placeholder in /etc/django-ha/tls until the first ACME certificate",
      `install -d -o root -g root -m 0755 ${q(t.dir)}
if [ ! -s ${q(t.fullchain)} ] || [ ! -s ${q(t.privkey)} ]; then
  tmp=$(mktemp -d ${q(`${t.dir}/.placeholder.XXXXXX`)})
  trap 'rm -rf "$tmp"' EXIT
  openssl req -x509 -newkey rsa:2048 -nodes -days 90 -subj ${q(`/O=django-ha SELF-SIGNED placeholder/CN=${fqdn}`)} \\
    -addext ${q(`subjectAltName=DNS:${fqdn}`)} -keyout "$tmp/privkey.pem" -out "$tmp/fullchain.pem" 2>/dev/null
  chmod 0600 "$tmp/privkey.pem"
  chmod 0644 "$tmp/fullchain.pem"
  echo "self-signed by django-ha until the first ACME certificate (django-ha-tls-sync installs it)" > ${q(t.selfSigned)}
  mv "$tmp/privkey.pem" ${q(t.privkey)}
  mv "$tmp/fullchain.pem" ${q(t.fullchain)}
  changed
fi`,
    ),
  };
}

/** The sync program: install the share's certificate when it differs from the installed one. Pure. */
export function renderTlsSync(fqdn: string): string {
  const t = TLS_PATHS;
  return `#!/usr/bin/env bash
# django-ha: install the cluster's certificate from the share when it changed (${TLS_SYNC_TIMER}, every ${TLS_SYNC_EVERY_SECONDS} s).
# Idempotent: nothing happens while the share's files equal the installed ones. A certificate that fails a
# check is not installed; the one nginx serves stays.
set -euo pipefail
src=${q(shareCertDir(fqdn))}
dst=${q(t.dir)}
seen="$dst/.share"
fail() { printf 'django-ha-tls-sync: %s\\n' "$*" >&2; exit 1; }

# Nothing issued yet: the placeholder keeps serving.
if [ ! -s "$src/fullchain.pem" ] || [ ! -s "$src/privkey.pem.enc" ]; then exit 0; fi
if cmp -s "$src/fullchain.pem" "$seen/fullchain.pem" && cmp -s "$src/privkey.pem.enc" "$seen/privkey.pem.enc" \\
   && [ -s "$dst/fullchain.pem" ] && [ -s "$dst/privkey.pem" ]; then
  exit 0
fi

set -a
# shellcheck source=/dev/null
. ${q(t.env)}
set +a
if [ -z "\${DJANGO_HA_TLS_PASSPHRASE:-}" ]; then fail "${t.env} has no DJANGO_HA_TLS_PASSPHRASE: re-run the bootstrap"; fi

work=$(mktemp -d "$dst/.sync.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp "$src/fullchain.pem" "$work/fullchain.pem"
cp "$src/privkey.pem.enc" "$work/privkey.pem.enc"
if ! openssl pkey -in "$work/privkey.pem.enc" -passin env:DJANGO_HA_TLS_PASSPHRASE -out "$work/privkey.pem" 2>"$work/err"; then
  fail "cannot decrypt $src/privkey.pem.enc ($(head -c 200 "$work/err")): is ${t.env}'s passphrase the agent's? Re-run the bootstrap"
fi
chmod 0600 "$work/privkey.pem"
if [ "$(openssl x509 -in "$work/fullchain.pem" -noout -pubkey)" != "$(openssl pkey -in "$work/privkey.pem" -pubout)" ]; then
  fail "the key on the share does not match its certificate (a renewal being written?); keeping the installed certificate, next try in ${TLS_SYNC_EVERY_SECONDS} s"
fi
if ! openssl x509 -in "$work/fullchain.pem" -noout -checkend 0 >/dev/null; then fail "$src/fullchain.pem has expired; keeping the installed certificate"; fi
not_before=$(date -d "$(openssl x509 -in "$work/fullchain.pem" -noout -startdate | cut -d= -f2)" +%s)
if [ "$not_before" -gt "$(date +%s)" ]; then fail "$src/fullchain.pem is not valid yet (notBefore in the future: is this machine's clock right?)"; fi
# Only a chain this machine's trust store verifies: a certificate from a CA that reset its root, or from
# another CA (a staging directory, a restored share), would replace a working one with one clients refuse.
# The agent on the primary orders its replacement (it checks the same); until then what is served stays.
openssl x509 -in "$work/fullchain.pem" -out "$work/leaf.pem"
awk 'n > 0 { print } /^-----END CERTIFICATE-----$/ { n++ }' "$work/fullchain.pem" > "$work/rest.pem"
chain=()
if [ -s "$work/rest.pem" ]; then chain=(-untrusted "$work/rest.pem"); fi
if ! openssl verify "\${chain[@]}" "$work/leaf.pem" >"$work/err" 2>&1; then
  fail "$src/fullchain.pem (issuer: $(openssl x509 -in "$work/leaf.pem" -noout -issuer | sed 's/^issuer=//')) does not lead to a root this machine trusts ($(grep -m1 -o 'error [0-9]*.*' "$work/err" || head -c 200 "$work/err")); keeping the installed certificate. The agent on the primary replaces it from the stack's ACME directory (Let's Encrypt staging is never trusted: set django-ha:acmeDirectory to letsencrypt)"
fi

# Install beside the old pair, then swap; nginx -t must accept the new pair, or the old one comes back.
install -d -m 0700 "$dst/.previous" "$seen"
cp -p "$dst/fullchain.pem" "$dst/.previous/fullchain.pem" 2>/dev/null || true
cp -p "$dst/privkey.pem" "$dst/.previous/privkey.pem" 2>/dev/null || true
chmod 0644 "$work/fullchain.pem"
mv -f "$work/privkey.pem" "$dst/privkey.pem"
mv -f "$work/fullchain.pem" "$dst/fullchain.pem"
if ! nginx -t -q 2>"$work/err"; then
  mv -f "$dst/.previous/privkey.pem" "$dst/privkey.pem" 2>/dev/null || true
  mv -f "$dst/.previous/fullchain.pem" "$dst/fullchain.pem" 2>/dev/null || true
  fail "nginx -t refused the new certificate ($(head -c 300 "$work/err")); the previous one is back"
fi
rm -f ${q(t.selfSigned)}
systemctl reload nginx
cp "$src/fullchain.pem" "$seen/fullchain.pem.new" && mv -f "$seen/fullchain.pem.new" "$seen/fullchain.pem"
cp "$work/privkey.pem.enc" "$seen/privkey.pem.enc.new" && mv -f "$seen/privkey.pem.enc.new" "$seen/privkey.pem.enc"
printf 'django-ha-tls-sync: installed %s (serial %s, until %s)\\n' "$src/fullchain.pem" \\
  "$(openssl x509 -in "$dst/fullchain.pem" -noout -serial | cut -d= -f2)" "$(openssl x509 -in "$dst/fullchain.pem" -noout -enddate | cut -d= -f2)"
`;
}

export function tlsSyncUnits(): UnitFile[] {
  return [
    {
      name: TLS_SYNC_SERVICE,
      sections: [
        [
          "Unit",
          [
            ["Description", "django-ha: install a new certificate from the share and reload nginx"],
            ["After", "nginx.service remote-fs.target"],
          ],
        ],
        [
          "Service",
          [
            ["Type", "oneshot"],
            ["ExecStart", TLS_PATHS.sync],
            ["TimeoutStartSec", 60],
          ],
        ],
      ],
    },
    {
      name: TLS_SYNC_TIMER,
      sections: [
        ["Unit", [["Description", `django-ha: look for a new certificate on the share every ${TLS_SYNC_EVERY_SECONDS} s`]]],
        [
          "Timer",
          [
            ["OnBootSec", `${TLS_SYNC_EVERY_SECONDS}s`],
            ["OnUnitActiveSec", `${TLS_SYNC_EVERY_SECONDS}s`],
            ["AccuracySec", "1s"],
          ],
        ],
        ["Install", [["WantedBy", "timers.target"]]],
      ],
    },
  ];
}

/** The child's certificate: placeholder, passphrase, sync program and its timer (before nginx's site). */
export function childTlsActions(f: ClusterFacts): Action[] {
  const units = tlsSyncUnits();
  const unitFiles = units.map((u) => file(unitPath(u.name), renderUnit(u)));
  return [
    tlsPlaceholderScript(f.fqdn),
    file(
      TLS_PATHS.env,
      `# django-ha: passphrase of the certificate key on the share; root only\nDJANGO_HA_TLS_PASSPHRASE=${f.ctx.secrets.tlsPassphrase}\n`,
      "0600",
    ),
    file(TLS_PATHS.sync, renderTlsSync(f.fqdn), "0755"),
    ...unitFiles,
  ];
}

/** Started once nginx serves the site (the sync reloads it). */
export function tlsSyncTimer(): Action {
  return started(
    TLS_SYNC_TIMER,
    tlsSyncUnits().map((u) => unitPath(u.name)),
  );
}
