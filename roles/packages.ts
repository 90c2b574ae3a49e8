import type { Role } from "../model";
import { POSTGRES_MAJOR } from "../model/debian";

/**
 * Debian packages per role (the release of model/debian.ts): the ONE source of truth for both the bootstrap (apt-get install) and the
 * lab image bake (baked in so lab nodes need no network, and the package names are proven).
 */
export const COMMON_PACKAGES = [
  "openssh-server",
  "sudo",
  "ca-certificates",
  "netbase",
  "nftables",
  "unattended-upgrades",
  "systemd-timesyncd",
  "python3",
  "curl",
  "rsync",
  "procps",
  "iproute2",
  "libnfs-utils",
] as const;

/** Both database machines get the same packages: either may become the primary (failover), so neither lacks one. */
const DB_MACHINE_PACKAGES = [
  `postgresql-${POSTGRES_MAJOR}`,
  "nfs-ganesha",
  "nfs-ganesha-vfs",
  "redis-server",
  "lsyncd",
  "e2fsprogs",
  "nodejs",
  "bind9-dnsutils",
] as const;

export const ROLE_PACKAGES: Record<Role, readonly string[]> = {
  // postgresql-<major>, not the `postgresql` metapackage: the paths and unit names are derived from that major.
  // e2fsprogs: mkfs.ext4 for a blank data volume (roles/volumes.ts); Priority "important" since Debian 13, so not
  // in every minimal image.
  // nodejs: runs the certificate renewal agent (one bundled file, ops/acme/bundle.ts) on both database machines;
  // bind9-dnsutils: its nsupdate, for DNS-01 through RFC 2136.
  parent: DB_MACHINE_PACKAGES,
  standby: DB_MACHINE_PACKAGES,
  // libjs-jquery: python3-django only Recommends it, but its admin static files are symlinks into it (collectstatic fails without).
  child: [
    "nginx",
    "uwsgi",
    "uwsgi-plugin-python3",
    "python3-django",
    "libjs-jquery",
    "python3-psycopg2",
    "python3-celery",
    "python3-redis",
    "nfs-common",
  ],
  // python3-venv, python3-pip: releases are built on the worker into `python3 -m venv --system-site-packages` and
  // pip installs the project's requirements there (docs/releases.md).
  worker: ["python3-django", "python3-psycopg2", "python3-celery", "python3-redis", "ffmpeg", "nfs-common", "python3-venv", "python3-pip"],
};

/** The roles that run the app: they also get the app's own Debian packages (django-ha:app.debianPackages). */
export const APP_ROLES: readonly Role[] = ["child", "worker"];

/** A role's packages; `appPackages` (django-ha:app.debianPackages) are added on the children and the worker. */
export function packagesFor(role: Role, appPackages: readonly string[] = []): string[] {
  return [...new Set([...COMMON_PACKAGES, ...ROLE_PACKAGES[role], ...(APP_ROLES.includes(role) ? appPackages : [])])].sort();
}

/** Every package any role installs, sorted and unique: what the lab bakes into its image. */
export function allRolePackages(): string[] {
  return [...new Set([...COMMON_PACKAGES, ...Object.values(ROLE_PACKAGES).flat()])].sort();
}
