#!/usr/bin/env bash
# Make sure the Debian packages the tests and the lab need are on this machine (lab/host-packages.txt,
# test/host-packages.txt). As root it installs the missing ones; otherwise it names them and the command.
#   bash scripts/host-packages.sh           install what is missing (root)
#   bash scripts/host-packages.sh --check   only report; exit 1 when something is missing
set -euo pipefail
cd "$(dirname "$0")/.."

mapfile -t wanted < <(grep -hv '^\s*#' lab/host-packages.txt test/host-packages.txt | grep -v '^\s*$' | sort -u)
missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "host packages: all ${#wanted[@]} installed"
  exit 0
fi
if [ "${1:-}" = "--check" ] || [ "$(id -u)" -ne 0 ]; then
  echo "host packages missing: ${missing[*]}" >&2
  echo "install them as root: apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
echo "host packages: installing ${missing[*]}"
# No service may start while the tools install (openssh-server would leave a system sshd on port 22).
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod 755 /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "host packages: installed ${#missing[@]}"
