/** systemd unit files rendered from typed sections. */
export type UnitValue = string | number | boolean;
export type UnitEntry = [key: string, value: UnitValue];
export type UnitSection = [name: string, entries: UnitEntry[]];

export interface UnitFile {
  /** Unit name with its suffix, e.g. django-ha-uwsgi.service. */
  name: string;
  sections: UnitSection[];
}

function unitValue(v: UnitValue): string {
  if (typeof v === "boolean") return v ? "yes" : "no";
  const s = String(v);
  if (s.includes("\n")) throw new Error(`systemd unit values are one line; got ${JSON.stringify(s)}`);
  return s;
}

export function renderUnit(unit: UnitFile): string {
  const out = [`# django-ha: ${unit.name}`];
  for (const [name, entries] of unit.sections) {
    out.push("", `[${name}]`, ...entries.map(([k, v]) => `${k}=${unitValue(v)}`));
  }
  return `${out.join("\n")}\n`;
}

/** Path of a unit file we own. */
export function unitPath(name: string): string {
  return `/etc/systemd/system/${name}`;
}

/** systemd's escaping of a mount point for mount/automount unit names: /srv/share → srv-share. */
export function mountUnitName(where: string, suffix: "mount" | "automount"): string {
  const body = where
    .replace(/^\/+|\/+$/g, "")
    .split("/")
    .map((part) => part.replace(/[^A-Za-z0-9:_.]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`).replace(/^\./, "\\x2e"))
    .join("-");
  return `${body || "-"}.${suffix}`;
}
