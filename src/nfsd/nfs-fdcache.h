/* nfs-fdcache.h — a small, bounded LRU cache of open file descriptors per volume, keyed by
 * inode, so that a request on a handle that was just used (LOOKUP, then WRITE, COMMIT,
 * GETATTR…) does not re-open the file beneath the volume root every time.
 *
 * Invariants: at most NFS_FDCACHE_MAX entries per volume and NFS_FDCACHE_TOTAL_MAX open
 * cached fds in the process; an entry is only handed out while the inode it holds still
 * has a name (nlink > 0) and has the owner and mode it was opened with (so permission
 * checks made at open time still hold); an entry that is forgotten while a request still
 * uses it is closed when that request lets go of it (refs), never under its feet. Holding
 * an fd keeps its inode (and so its inode number) alive: a cached fd can never be mistaken
 * for a newer file that reuses the number. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#define NFS_FDCACHE_MAX 64
#define NFS_FDCACHE_TOTAL_MAX 256

typedef struct NfsFdEntry NfsFdEntry;
struct NfsFdEntry {
        int fd;
        uint64_t ino;
        uint32_t gen;
        uint8_t type; /* NfsHandleType */
        bool rw; /* regular file opened O_RDWR */
        bool dead; /* no longer in the cache: closed when refs drops to 0 */
        unsigned refs;
        uint32_t mode, uid, gid; /* at open time */
        NfsFdEntry *prev, *next;
};

typedef struct NfsFdCache {
        NfsFdEntry *head, *tail; /* most recently used first */
        size_t n;
} NfsFdCache;

/* The entry for ino (taking a reference), moved to the front; NULL if none, or if
 * need_rw and the entry is read-only. */
NfsFdEntry *nfs_fdcache_get(NfsFdCache *c, uint64_t ino, bool need_rw);
/* Takes fd into the cache (replacing any entry for the same inode, evicting the least
 * recently used unreferenced entry when full) and returns the entry with a reference;
 * NULL (fd untouched, still the caller's) when the cache cannot take it. */
NfsFdEntry *nfs_fdcache_add(NfsFdCache *c, int fd, uint64_t ino, uint32_t gen, uint8_t type, bool rw,
                            const struct statx *sx);
/* Drops a reference taken by get/add. */
void nfs_fdcache_put(NfsFdEntry *e);
/* Does e still describe the inode as statx'ed now (named, same owner and mode)? */
bool nfs_fdcache_valid(const NfsFdEntry *e, const struct statx *sx);
/* Removes ino's entry (its fd is closed now, or when the last user lets go). */
void nfs_fdcache_forget(NfsFdCache *c, uint64_t ino);
/* Removes every entry. */
void nfs_fdcache_clear(NfsFdCache *c);
/* Number of cached fds in the whole process (for tests and metrics). */
size_t nfs_fdcache_total(void);
