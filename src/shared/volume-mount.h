/* volume-mount.h — how a volume reaches an agent container (storage.mount_mode):
 *
 *   nfs   an engine volume named aegis-vol-<volume_id> (aegis-vol-<volume_id>-ro for a
 *         read-only mount), driver "local", options
 *           type=nfs
 *           o=addr=<host>,nfsvers=3,proto=tcp,port=<p>,mountport=<p>,soft,timeo=10,nolock[,ro]
 *           device=:/<tenant>/<volume_id>
 *         mounted by name (the host kernel mounts it from aegis-nfsd when the container starts);
 *   bind  the volume's directory storage.root/<tenant>/<volume_id> bind-mounted.
 *
 * Only names and option lists are built here; creating and removing engine volumes is the
 * supervisor's job (podman_volume_create/remove). See aegis-volumes(7). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define VOLUME_ENGINE_PREFIX "aegis-vol-"
#define VOLUME_ENGINE_LABEL_VOLUME_ID "aegis.volume_id"

/* "aegis-vol-<id>" or "aegis-vol-<id>-ro" (malloc'd). -EINVAL for an invalid id. */
int volume_engine_name(const char *volume_id, bool read_only, char **ret);

/* The three driver options above as a strv ("type=nfs", "o=…", "device=…"). host is a host
 * name or address without ',', '=', '/', quotes, backslashes or white space (so it cannot add
 * mount options); port 1..65535. -EINVAL otherwise. */
int volume_nfs_options(const char *host, uint16_t port, const char *tenant, const char *volume_id,
                       bool read_only, char ***ret);
