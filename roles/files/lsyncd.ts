/** /etc/lsyncd/lsyncd.conf.lua: continuous one-way copy of the share to the standby (rsync over ssh). */
export interface LsyncdConfig {
  source: string;
  /** `root@<standby private address>`; the standby's authorized_keys confines the key to rrsync of the share. */
  targetHost: string;
  identityFile: string;
  knownHostsFile: string;
  /** Seconds lsyncd aggregates events before it runs rsync. */
  delaySeconds: number;
  sshPort: number;
  statusFile: string;
}

function luaString(value: string): string {
  return JSON.stringify(value);
}

export function renderLsyncdConf(cfg: LsyncdConfig): string {
  const rsh = `/usr/bin/ssh -p ${cfg.sshPort} -i ${cfg.identityFile} -o BatchMode=yes -o IdentitiesOnly=yes -o StrictHostKeyChecking=accept-new -o UserKnownHostsFile=${cfg.knownHostsFile}`;
  return `-- django-ha: replicate the share to the standby (lag: delay + rsync time, see README).
settings {
    -- logs go to the journal (stdout of django-ha-share-sync.service)
    statusFile = ${luaString(cfg.statusFile)},
    statusInterval = 10,
    insist = true,
    nodaemon = true,
}

sync {
    default.rsync,
    source = ${luaString(cfg.source)},
    -- rrsync on the standby roots every path at its /srv/share: "/" is the share there.
    target = ${luaString(`${cfg.targetHost}:/`)},
    delay = ${cfg.delaySeconds},
    delete = true,
    rsync = {
        archive = true,
        hard_links = true,
        -- rrsync refuses -s (it must see the paths the client asks for)
        protect_args = false,
        acls = false,
        xattrs = false,
        _extra = { "--numeric-ids", "--omit-dir-times" },
        rsh = ${luaString(rsh)},
    },
}
`;
}
