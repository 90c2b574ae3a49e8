/** Unattended security upgrades (Debian's 50unattended-upgrades already limits origins to -security). */
export interface UnattendedUpgrades {
  /** Reboot automatically when an upgrade needs it. Defaults to false: a reboot of the primary is a failover decision. */
  automaticReboot: boolean;
}

export function renderAutoUpgrades(): string {
  return [
    "// django-ha: run apt update and unattended-upgrade daily.",
    'APT::Periodic::Update-Package-Lists "1";',
    'APT::Periodic::Unattended-Upgrade "1";',
    'APT::Periodic::AutocleanInterval "7";',
    "",
  ].join("\n");
}

export function renderUnattendedPolicy(cfg: UnattendedUpgrades): string {
  return [
    "// django-ha: security upgrades only (Debian's default origins), never an automatic reboot unless asked.",
    `Unattended-Upgrade::Automatic-Reboot "${cfg.automaticReboot ? "true" : "false"}";`,
    'Unattended-Upgrade::Remove-Unused-Dependencies "true";',
    "",
  ].join("\n");
}
