/* nfs-volume.h — one exported volume on disk: its root directory, the inode→(parent, name)
 * index that turns file handles back into files, byte usage for the quota, and the only
 * functions that open anything inside it.
 *
 * Invariants: every open is relative to the volume root and resolved with
 * openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS|RESOLVE_NO_XDEV) (or a
 * component-by-component O_NOFOLLOW walk where openat2 is missing), so no handle and no
 * name can reach outside the volume; names handed in by clients are single components
 * (nfs_name_is_valid()). A handle resolves only to the inode it was made for: same inode
 * number and same generation, otherwise STALE. */
#pragma once

#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "nfs-exports.h"
#include "nfs-fdcache.h"
#include "nfs-fsgen.h"
#include "nfs-handle.h"

#define NFS_SCAN_INTERVAL_USEC (1000 * UINT64_C(1000))
/* What an inode that is not a regular file (directory, symlink, special file) counts against
 * the quota: a block, about what it costs the file system; regular files count their size. */
#define NFS_INODE_CHARGE 4096
#define NFS_INDEX_MAX (4 * 1024 * 1024)
#define NFS_DEPTH_MAX 256

typedef struct NfsIndexEntry NfsIndexEntry;

typedef struct NfsVol {
        NfsVolumeInfo info;
        uint64_t key;
        int root_fd; /* O_RDONLY|O_DIRECTORY on storage.root/tenant/volume */
        dev_t dev;
        uint64_t root_ino;
        uint32_t root_gen;
        bool gen_ioctl; /* FS_IOC_GETVERSION works on this file system */
        NfsFsGen fsgen; /* ... and its answer can be read from name_to_handle_at() */
        bool unsynced; /* an UNSTABLE write since the last syncfs() (nfs_gateway_sync()) */
        bool usage_known;
        uint64_t used_bytes; /* sum of regular file sizes + NFS_INODE_CHARGE per other entry */
        uint64_t used_entries; /* names in the volume (every file, directory, link) */
        uint64_t max_entries; /* the gateway's --max-entries */
        uint64_t scan_usec; /* CLOCK_MONOTONIC of the last full scan, 0 = never */
        NfsIndexEntry **buckets;
        size_t n_buckets, n_entries;
        NfsFdCache fds; /* recently used files and directories, kept open */
        unsigned pins; /* requests using it now (nfs_gateway_pin()): not freed under them */
        bool dropped; /* no longer among the gateway's open volumes: freed when unpinned */
} NfsVol;

/* A resolved object: an fd (O_PATH for symlinks and specials, O_RDONLY or O_RDWR for
 * regular files, O_RDONLY|O_DIRECTORY for directories), its attributes and generation.
 * The fd is either the object's own or borrowed from the volume's fd cache (`cached`):
 * never close o->fd directly, use nfs_obj_done() or nfs_obj_set_fd(). An object found by
 * name (nfs_vol_stat_at()) may have no fd at all (`unopened`): attributes, generation and
 * type only, enough for a handle and fattr3. */
typedef struct NfsObj {
        int fd;
        struct statx sx;
        uint32_t gen;
        uint8_t type; /* NfsHandleType */
        bool unopened; /* fd is -1, sx/gen/type are valid */
        NfsFdEntry *cached;
} NfsObj;

#define NFS_OBJ_NULL ((NfsObj){ .fd = -1 })
void nfs_obj_done(NfsObj *o);
/* Lets go of o's fd (closing it or returning it to the cache) and takes fd instead. */
void nfs_obj_set_fd(NfsObj *o, int fd);

typedef enum NfsOpen {
        NFS_OPEN_READ, /* files O_RDONLY */
        NFS_OPEN_WRITE, /* files O_RDWR */
        NFS_OPEN_ATTR, /* attributes only: the object may come back `unopened` */
} NfsOpen;

/* Opens storage_root/tenant/volume; -ENOENT when the directory is missing. */
int nfs_vol_open(const char *storage_root, const NfsVolumeInfo *info, NfsVol **ret);
NfsVol *nfs_vol_free(NfsVol *v);

/* Handle → object; -ESTALE when it no longer exists (or is another file now). */
int nfs_vol_resolve(NfsVol *v, const NfsHandle *h, NfsOpen mode, NfsObj *ret);
/* The volume root as an object. */
int nfs_vol_root(NfsVol *v, NfsObj *ret);
/* dir + single-component name → object; "." and ".." handled (".." of the root is the root). */
int nfs_vol_lookup(NfsVol *v, const NfsObj *dir, const char *name, NfsObj *ret);
/* Stats dir/name (no follow) and computes generation; records the entry in the index. The
 * name is opened only when its generation cannot be had otherwise (FS_IOC_GETVERSION with no
 * name_to_handle_at() layout known for the file system) and it is not in the fd cache: the
 * result is often `unopened` (fd -1), good for a handle and attributes only. */
int nfs_vol_stat_at(NfsVol *v, const NfsObj *dir, const char *name, NfsObj *ret);
/* The object behind fd, just opened as dir/name (CREATE): no second open by name. On
 * success fd belongs to *ret (release with nfs_obj_done()); on error it stays the caller's. */
int nfs_vol_adopt(NfsVol *v, const NfsObj *dir, const char *name, int fd, bool rw, NfsObj *ret);
void nfs_vol_handle(const NfsVol *v, const NfsObj *o, NfsHandle *ret);
/* Re-reads o's attributes (after a change). */
int nfs_vol_refresh(NfsObj *o);

/* A name of inode ino was removed or replaced: close its cached fd so that the file's space
 * is released now and its handle goes STALE. */
void nfs_vol_forget(NfsVol *v, uint64_t ino);
/* Closes every cached fd of the volume (idle gateway). */
void nfs_vol_forget_all(NfsVol *v);

/* Index maintenance for the procedures that change names. */
int nfs_vol_index_add(NfsVol *v, uint64_t ino, uint64_t parent, const char *name);
void nfs_vol_index_remove(NfsVol *v, uint64_t ino);
/* The directory's path relative to the root ("" for the root), for symlink confinement. */
int nfs_vol_depth(NfsVol *v, uint64_t dir_ino, unsigned *ret_depth);

/* Quota: may `grow` more bytes be written? -EDQUOT if not (after a rescan if the last one
 * is old, because others may have freed space). */
int nfs_vol_quota_check(NfsVol *v, uint64_t grow);
/* May one more name be made, charging `grow` bytes (NFS_INODE_CHARGE for a directory or
 * symlink, 0 for a new empty file)? -EDQUOT past the bytes or past max_entries. */
int nfs_vol_quota_check_entry(NfsVol *v, uint64_t grow);
void nfs_vol_usage_add(NfsVol *v, int64_t delta);
void nfs_vol_entries_add(NfsVol *v, int64_t delta);
/* A name of this mode was removed: its share of the usage goes. */
void nfs_vol_usage_remove(NfsVol *v, mode_t mode, uint64_t size, bool last_name);
int nfs_vol_usage(NfsVol *v, uint64_t *ret);

/* Single path component: non-empty, ≤255, no '/', not "." or "..". */
bool nfs_name_is_valid(const char *name);
/* A symlink target created in a directory `depth` levels below the root stays inside the
 * volume (relative, and its ".." never climbs above the root). */
bool nfs_symlink_target_is_confined(const char *target, unsigned depth);
/* Same generation scheme for fresh objects (reg/dir: FS_IOC_GETVERSION; others: btime). */
uint32_t nfs_vol_gen(const NfsVol *v, int fd, const struct statx *sx);

/* Hard link: file (resolved from its handle) gets the new name dir/name. The existing name
 * is opened beneath the root and linked without following anything; the result is checked
 * to be the same inode. */
int nfs_vol_link(NfsVol *v, const NfsObj *file, const NfsObj *dir, const char *name);
/* Cookie verifier of a directory (8 bytes, keyed: a client cannot make one up). */
void nfs_vol_cookieverf(const NfsVol *v, const uint8_t key[NFS_HANDLE_KEY_SIZE], const NfsObj *dir,
                        uint8_t ret[8]);
