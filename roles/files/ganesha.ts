/**
 * /etc/ganesha/ganesha.conf: one export of the share (FSAL VFS), cluster members only, root squashed to the
 * app user. NFSv4 for the mounts; NFSv3 (with rpcbind and a fixed mountd port) only because the libnfs
 * checks (nfs-ls) speak v3. NLM and RQUOTA off.
 */
export interface GaneshaConfig {
  exportId: number;
  path: string;
  clients: string[];
  /** uid/gid root is squashed to: the app user, so root on a client acts as `django` on the share. */
  anonymousUid: number;
  anonymousGid: number;
  mountdPort: number;
  nfsPort: number;
}

export function renderGaneshaConf(cfg: GaneshaConfig): string {
  return `# django-ha: NFS export of the share (nfs-ganesha, FSAL VFS).
NFS_CORE_PARAM {
    Protocols = 3, 4;
    NFS_Port = ${cfg.nfsPort};
    MNT_Port = ${cfg.mountdPort};
    Enable_NLM = false;
    Enable_RQUOTA = false;
    # Ganesha 6 marks itself an I/O flusher (PR_SET_IO_FLUSHER, needs CAP_SYS_RESOURCE) and otherwise refuses
    # to start where root lacks that capability (containers, the lab); on a full machine the call succeeds.
    Allow_Set_Io_Flusher_Fail = true;
}

NFSV4 {
    # Keep the default grace period: shrinking it risks lost locks after a restart.
    Minor_Versions = 0, 1, 2;
}

EXPORT_DEFAULTS {
    Access_Type = None;
    Squash = Root_Squash;
    SecType = sys;
}

EXPORT {
    Export_Id = ${cfg.exportId};
    Path = ${cfg.path};
    Pseudo = ${cfg.path};
    Protocols = 3, 4;
    Transports = TCP;
    SecType = sys;
    Access_Type = None;
    Squash = Root_Squash;
    Anonymous_Uid = ${cfg.anonymousUid};
    Anonymous_Gid = ${cfg.anonymousGid};
    FSAL {
        Name = VFS;
    }
    CLIENT {
        Clients = ${cfg.clients.join(", ")};
        Access_Type = RW;
    }
}
`;
}
