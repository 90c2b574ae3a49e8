/** What every node runs: app user, /etc/hosts block, SSH hardening, security upgrades, time sync, firewall. */
import { APP_USER, ClusterFacts } from "./context";
import { file, started } from "./actions";
import { sshdConfigCheck } from "./checks";
import { renderHostsBlock } from "./files/hosts";
import { Firewall, FirewallRule, renderNftables } from "./files/nftables";
import { renderSshdDropIn } from "./files/sshd";
import { renderAutoUpgrades, renderUnattendedPolicy } from "./files/unattended";
import { appUserScript, hostsBlockScript, removeFilesScript, timeSyncScript } from "./scripts";
import type { Action, Check } from "./types";
import { firewallGroups, groupsFor, type FirewallGroup, type InventoryNode, type RuleSource } from "../model";

/**
 * sshd keeps the FIRST value it reads for most keywords, and Debian's sshd_config includes sshd_config.d/*.conf
 * in name order before its own settings: this name sorts before cloud-init's `50-cloud-init.conf` (and the
 * lab's `10-django-ha-lab.conf`), so our settings win. cloud-init writes the same file on first boot.
 */
export const SSHD_DROP_IN = "/etc/ssh/sshd_config.d/00-django-ha.conf";
/** Where earlier versions wrote the drop-in (it sorted after 50-cloud-init.conf and lost): removed by the bootstrap. */
export const OLD_SSHD_DROP_INS = ["/etc/ssh/sshd_config.d/django-ha.conf"];
export const NFTABLES_CONF = "/etc/nftables.conf";

/**
 * The firewall of one node: the groups of the cluster's firewall policy (model/firewall.ts) its role belongs
 * to, with each source resolved to addresses — the same groups the cloud firewalls are planned from.
 */
export function firewallFor(node: InventoryNode, f: ClusterFacts): Firewall {
  const groups = firewallGroups({ adminCidrs: f.adminCidrs, sshPort: f.sshPort });
  const rules = groupsFor(groups, node.role).flatMap((group) =>
    group.inbound.map((r): FirewallRule => ({
      comment: r.purpose,
      protocol: r.protocol,
      ports: [r.port],
      from: sourceAddresses(r.source, group, f),
    })),
  );
  return { rules };
}

/** A policy source as the node sees it: "any", the admin CIDRs, or private addresses of this inventory's nodes. Pure. */
function sourceAddresses(source: RuleSource, group: FirewallGroup, f: ClusterFacts): string[] | "any" {
  switch (source.kind) {
    case "internet":
      return "any";
    case "cidrs":
      return source.cidrs;
    case "members":
      return f.memberAddresses;
    case "peers":
      // Both database nodes get the same rules, so a failover needs no firewall change.
      return [...new Set(f.ctx.inventory.nodes.filter((n) => group.roles.includes(n.role)).map((n) => n.privateAddress))];
    default: {
      const never: never = source;
      throw new Error(`unknown rule source ${JSON.stringify(never)}`);
    }
  }
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
