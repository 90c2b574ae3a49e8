/** The managed /etc/hosts block: `primary.<cluster>.internal` → the current primary's private address. */
export const HOSTS_BEGIN = "# BEGIN django-ha";
export const HOSTS_END = "# END django-ha";

export interface HostsBlock {
  entries: { address: string; names: string[] }[];
}

/** The block with its markers, newline-terminated. */
export function renderHostsBlock(block: HostsBlock): string {
  const lines = block.entries.map((e) => `${e.address}\t${e.names.join(" ")}`);
  return [
    HOSTS_BEGIN,
    "# Managed by django-ha (bootstrap, failover): edits inside this block are overwritten.",
    ...lines,
    HOSTS_END,
    "",
  ].join("\n");
}
