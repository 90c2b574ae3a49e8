import YAML from "yaml";
import { SSHD_DROP_IN } from "../../roles/common";
import { renderSshdDropIn } from "../../roles/files/sshd";

/** Args of {@link renderUserData}: the stack's SSH login (`sshUser`, `sshPort`) and its public keys. */
export interface UserDataArgs {
  sshPublicKeys: string[];
  /** `django-ha:sshUser`: root, or a user cloud-init creates with the keys and password-less sudo. */
  user: string;
  /** `django-ha:sshPort`: sshd listens on it from first boot. */
  port: number;
}

/**
 * Minimal cloud-init user data, so the bootstrap can log in on first boot with any `sshUser` and `sshPort`:
 * - the keys for `user` (root: root's keys; anyone else: a new user with password-less sudo, root untouched);
 * - the roles' own sshd drop-in (same path and content as the bootstrap writes: the port, keys only), written
 *   by cloud-init's init stage, which runs before sshd starts. Its name sorts before cloud-init's
 *   `50-cloud-init.conf`, and sshd keeps the first value it reads, so a password setting there never wins.
 * Everything else happens in the SSH bootstrap. The machines ignore later changes to user data (changing it
 * would replace a droplet), so it holds only what cannot wait for SSH. Pure.
 */
export function renderUserData(args: UserDataArgs): string {
  const keys = args.sshPublicKeys;
  const login =
    args.user === "root"
      ? { disable_root: false, ssh_authorized_keys: keys }
      : { users: [{ name: args.user, shell: "/bin/bash", lock_passwd: true, sudo: "ALL=(ALL) NOPASSWD:ALL", ssh_authorized_keys: keys }] };
  const sshd = { path: SSHD_DROP_IN, permissions: "0644", owner: "root:root", content: renderSshdDropIn({ port: args.port }) };
  return `#cloud-config\n${YAML.stringify({ ...login, ssh_pwauth: false, write_files: [sshd] })}`;
}
