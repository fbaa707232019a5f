/* volume-mount.h — how a volume reaches an agent container (storage.mount_mode):
 *
 *   nfs   an engine volume named aegis-vol-<volume_id> (aegis-vol-<volume_id>-ro for a
 *         read-only mount), driver "local", options
 *           type=nfs
 *           o=addr=<host>,nfsvers=3,proto=tcp,port=<p>,mountport=<p>,soft,timeo=10,nolock[,ro]
 *           device=<host>:/<tenant>/<volume_id>/<token>   (Podman: mount(8) and mount.nfs)
 *           device=:/<tenant>/<volume_id>/<token>         (Docker: mount(2) with addr=)
 *         mounted by name (the host kernel mounts it from aegis-nfsd when the container starts);
 *         <token> is the export's secret (below): aegis-nfsd mounts nothing without it.
 *   bind  the volume's directory storage.root/<tenant>/<volume_id> bind-mounted.
 *
 * Only names and option lists are built here; creating and removing engine volumes is the
 * supervisor's job (podman_volume_create/remove). See aegis-volumes(7). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "config.h"

/* The export path's secret: the first 16 bytes of HMAC-SHA256(mount key, "<tenant>/<volume>"),
 * as 32 lowercase hex digits. The mount key is 32 random bytes in <state>/nfs/mount-key (the
 * gateway's state directory), made by whichever of aegisd and aegis-nfsd needs it first; so
 * only what can read that file (the two daemons, root) can name a volume to the gateway, and
 * knowing a volume's id is not enough. */
#define VOLUME_NFS_STATE_SUBDIR "nfs"
#define VOLUME_NFS_KEY_FILE "mount-key"
#define VOLUME_NFS_KEY_SIZE 32
#define VOLUME_NFS_TOKEN_LEN 32

#define VOLUME_ENGINE_PREFIX "aegis-vol-"
#define VOLUME_ENGINE_LABEL_VOLUME_ID "aegis.volume_id"

/* The mode in effect for configured (storage.mount_mode): auto is bind for a rootless engine
 * (the kernel refuses NFS mounts inside a user namespace) or a host without an NFS client
 * (mount.nfs, which Podman's local volume driver runs), nfs otherwise; nfs and bind are
 * themselves. *ret_why says why, for the start-up log and aegis doctor. */
StorageMountMode storage_mount_mode_resolve(StorageMountMode configured, bool engine_rootless,
                                            const char **ret_why);
/* The mount.nfs this host has ("/sbin/mount.nfs"), NULL when none. */
const char *volume_nfs_client_path(void);

/* "aegis-vol-<id>" or "aegis-vol-<id>-ro" (malloc'd). -EINVAL for an invalid id. */
int volume_engine_name(const char *volume_id, bool read_only, char **ret);

/* Reads nfs_state_dir/mount-key, creating it (and the directory, 0700) when missing: 0600,
 * written under a temporary name and linked into place, so two daemons starting at once agree
 * on one key. Made by root, both take the owner of the directory above (the state directory's
 * owner, the aegis user the gateway runs as). A key file of the wrong size is -EBADMSG,
 * never replaced (that would refuse every mount made with the old one). */
int volume_nfs_key_load(const char *nfs_state_dir, uint8_t ret[VOLUME_NFS_KEY_SIZE]);
/* "/<tenant>/<volume_id>/<token>" (malloc'd); -EINVAL for invalid ids. */
int volume_nfs_export_path(const uint8_t key[VOLUME_NFS_KEY_SIZE], const char *tenant, const char *volume_id,
                           char **ret);

/* The three driver options above as a strv ("type=nfs", "o=…", "device=…"), the token from the
 * mount key of state_dir/nfs (see volume_nfs_key_load()). host is a host name or address
 * without ',', '=', '/', quotes, backslashes or white space (so it cannot add mount options;
 * an IPv6 address is bracketed in device=); port 1..65535; host_in_device: the Podman form.
 * -EINVAL otherwise; the key's errors as volume_nfs_key_load(). */
int volume_nfs_options(const char *host, uint16_t port, const char *state_dir, bool host_in_device,
                       const char *tenant, const char *volume_id, bool read_only, char ***ret);
