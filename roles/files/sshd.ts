/** sshd drop-in: keys only, root by key only. Debian's sshd_config includes sshd_config.d first, so these win. */
export interface SshdHardening {
  port: number;
}

export function renderSshdDropIn(cfg: SshdHardening): string {
  return [
    "# django-ha: SSH hardening (keys only; root by key only).",
    `Port ${cfg.port}`,
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    "PermitEmptyPasswords no",
    "PubkeyAuthentication yes",
    "PermitRootLogin prohibit-password",
    "X11Forwarding no",
    "MaxAuthTries 3",
    "LoginGraceTime 30",
    "",
  ].join("\n");
}
