/** sshd drop-in: keys only, root by key only. It wins because its name sorts first (roles/common.ts SSHD_DROP_IN). */
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
