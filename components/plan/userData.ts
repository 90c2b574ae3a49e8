import YAML from "yaml";

/**
 * Minimal cloud-init user data: only the SSH keys the bootstrap logs in with, for `user`.
 * Everything else happens in the SSH bootstrap, so the user data never changes (changing it would replace
 * a droplet); the machines ignore later changes to it, and keys are rotated by the bootstrap. Pure.
 */
export function renderUserData(sshPublicKeys: string[], user: string): string {
  const doc = user === "root" ? { disable_root: false, ssh_authorized_keys: sshPublicKeys } : { users: ["default"], ssh_authorized_keys: sshPublicKeys };
  return `#cloud-config\n${YAML.stringify(doc)}`;
}
