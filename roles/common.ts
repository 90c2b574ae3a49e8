/** What every node runs: app user, /etc/hosts block, SSH hardening, security upgrades, time sync, firewall. */
import { APP_USER, ClusterFacts, PORTS } from "./context";
import { file, started } from "./actions";
import { sshdConfigCheck } from "./checks";
import { renderHostsBlock } from "./files/hosts";
import { Firewall, FirewallRule, renderNftables } from "./files/nftables";
import { renderSshdDropIn } from "./files/sshd";
import { renderAutoUpgrades, renderUnattendedPolicy } from "./files/unattended";
import { appUserScript, hostsBlockScript, removeFilesScript, timeSyncScript } from "./scripts";
import type { Action, Check } from "./types";
import type { InventoryNode } from "../model";

/**
 * sshd keeps the FIRST value it reads for most keywords, and Debian's sshd_config includes sshd_config.d/*.conf
 * in name order before its own settings: this name sorts before cloud-init's `50-cloud-init.conf` (and the
 * lab's `10-django-ha-lab.conf`), so our settings win. cloud-init writes the same file on first boot.
 */
export const SSHD_DROP_IN = "/etc/ssh/sshd_config.d/00-django-ha.conf";
/** Where earlier versions wrote the drop-in (it sorted after 50-cloud-init.conf and lost): removed by the bootstrap. */
export const OLD_SSHD_DROP_INS = ["/etc/ssh/sshd_config.d/django-ha.conf"];
export const NFTABLES_CONF = "/etc/nftables.conf";

/** The firewall of one node: SSH from the admin CIDRs, plus what its role serves, to whom. */
export function firewallFor(node: InventoryNode, f: ClusterFacts): Firewall {
  const members = f.memberAddresses;
  const rules: FirewallRule[] = [{ comment: "ssh from admin CIDRs", protocol: "tcp", ports: [f.sshPort], from: f.adminCidrs }];
  switch (node.role) {
    case "child":
      rules.push({ comment: "web", protocol: "tcp", ports: [PORTS.http, PORTS.https], from: "any" });
      break;
    case "worker":
      break;
    case "parent":
    case "standby":
      // Both database nodes get the same rules, so a failover needs no firewall change.
      rules.push(
        {
          comment: "share replication (rsync over ssh) between the database nodes",
          protocol: "tcp",
          ports: [f.sshPort],
          from: [f.parent.privateAddress, f.standby.privateAddress],
        },
        { comment: "postgresql from cluster members", protocol: "tcp", ports: [PORTS.postgres], from: members },
        { comment: "redis from cluster members", protocol: "tcp", ports: [PORTS.redis], from: members },
        {
          comment: "nfs v4 + v3 (mountd, rpcbind for the libnfs checks) from cluster members",
          protocol: "tcp",
          ports: [PORTS.rpcbind, PORTS.nfs, PORTS.mountd],
          from: members,
        },
        { comment: "rpcbind over udp from cluster members", protocol: "udp", ports: [PORTS.rpcbind], from: members },
      );
      break;
    default: {
      const never: never = node.role;
      throw new Error(`unknown role ${String(never)}`);
    }
  }
  return { rules };
}

export function commonActions(node: InventoryNode, f: ClusterFacts, extraAppGroupMembers: string[] = []): Action[] {
  const hosts = renderHostsBlock({ entries: [{ address: f.parent.privateAddress, names: [f.primaryHostname] }] });
  const sshd = file(SSHD_DROP_IN, renderSshdDropIn({ port: f.sshPort }));
  const firewall = file(NFTABLES_CONF, renderNftables(firewallFor(node, f)), "0755");
  return [
    appUserScript(extraAppGroupMembers),
    hostsBlockScript(hosts),
    sshd,
    removeFilesScript("sshd-old-drop-in-off", OLD_SSHD_DROP_INS),
    started("ssh", [SSHD_DROP_IN], { reload: true, restartAfterScripts: ["sshd-old-drop-in-off"] }),
    file("/etc/apt/apt.conf.d/20auto-upgrades", renderAutoUpgrades()),
    file("/etc/apt/apt.conf.d/52django-ha-unattended-upgrades", renderUnattendedPolicy({ automaticReboot: false })),
    started("unattended-upgrades"),
    timeSyncScript(),
    firewall,
    // reload, not restart: Debian's nftables.service flushes the whole ruleset on stop.
    started("nftables", [NFTABLES_CONF], { reload: true }),
  ];
}

export function commonChecks(): Check[] {
  return [sshdConfigCheck()];
}

export { APP_USER };
