/* nfs-exports.h — which volumes the gateway exports: the one place that knows where the
 * volume registry lives (the store's volumes table, or a registry file for single-host and
 * test setups), so swapping the source touches only nfs-exports.c.
 *
 * Lookups are always fresh to within NFS_EXPORTS_TTL_USEC: a volume deactivated or deleted
 * in the registry stops being served (its handles go STALE) within that time. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "macros.h"
#include "nfs-clients.h"

#define NFS_ID_MAX 65
#define NFS_EXPORTS_TTL_USEC (500 * UINT64_C(1000))
#define NFS_EXPORTS_MAX 100000

typedef struct NfsVolumeInfo {
        char tenant[NFS_ID_MAX];
        char volume[NFS_ID_MAX];
        uid_t uid;
        gid_t gid;
        uint64_t size_limit; /* bytes, 0 = unlimited */
        bool read_only;
        bool active;
        NfsClients clients; /* registry file's 8th field; unset: the gateway's --clients */
} NfsVolumeInfo;

typedef struct NfsExports NfsExports;

/* source: a database URL (sqlite://…, postgresql://…): the store's volumes table, the
 * volume id as the export's second component; or "file:PATH" (or a plain path), one
 * volume per line:
 *   <tenant> <volume> <uid> <gid> <size_limit|0> <read-write|read-only> <active|inactive|…> [clients]
 * where clients is "*" or up to NFS_CLIENTS_MAX comma-separated ADDR[/PREFIX] (the hosts
 * allowed to mount the volume and use its handles). '#' starts a comment. A malformed line is reported with its number and skipped. */
int nfs_exports_new(const char *source, NfsExports **ret);
NfsExports *nfs_exports_free(NfsExports *e);
DEFINE_TRIVIAL_CLEANUP_FUNC(NfsExports *, nfs_exports_free);

/* 0 and the volume when registered and active; -ENOENT when unknown, -EACCES when
 * registered but not active. */
int nfs_exports_lookup(NfsExports *e, const char *tenant, const char *volume, NfsVolumeInfo *ret);
/* Finds an active volume by its handle key (nfs_volume_key()); -ENOENT otherwise. */
int nfs_exports_lookup_key(NfsExports *e, uint64_t key, NfsVolumeInfo *ret);
/* All active volumes (borrowed array, valid until the next call). */
int nfs_exports_list(NfsExports *e, const NfsVolumeInfo **ret, size_t *ret_n);
