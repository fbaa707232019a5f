/* nfs-handle.h — NFSv3 file handles: volume key + inode + generation + file type,
 * authenticated with HMAC-SHA256 (truncated to 128 bits) under a key kept in the state
 * directory. 40 bytes, well under NFS3_FHSIZE (64).
 *
 * Invariants: a handle that does not verify is BADHANDLE (never looked up); the key never
 * leaves this module's callers; the same file gives the same handle across restarts as
 * long as the key file survives. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NFS_HANDLE_KEY_SIZE 32
#define NFS_HANDLE_SIZE 40
#define NFS_HANDLE_VERSION 1

typedef enum NfsHandleType {
        NFS_HANDLE_OTHER = 0, /* symlink, fifo, socket, device: generation from birth time */
        NFS_HANDLE_REG = 1,
        NFS_HANDLE_DIR = 2,
        NFS_HANDLE_LNK = 3,
} NfsHandleType;

typedef struct NfsHandle {
        uint64_t volume_key; /* nfs_volume_key(tenant, volume) */
        uint64_t ino;
        uint32_t gen;
        uint8_t type; /* NfsHandleType */
} NfsHandle;

/* Stable 64-bit key of a volume: the first 8 bytes of SHA-256("tenant/volume"). */
uint64_t nfs_volume_key(const char *tenant, const char *volume);

/* Encodes h into ret (NFS_HANDLE_SIZE bytes). */
void nfs_handle_encode(const uint8_t key[NFS_HANDLE_KEY_SIZE], const NfsHandle *h,
                       uint8_t ret[NFS_HANDLE_SIZE]);
/* -EBADMSG when the handle is malformed or its MAC does not verify. */
int nfs_handle_decode(const uint8_t key[NFS_HANDLE_KEY_SIZE], const void *data, size_t size, NfsHandle *ret);

/* Reads STATE_DIR/handle-key, creating it (0600, 32 random bytes) when missing. A key file
 * of the wrong size is an error, never silently replaced (that would stale every handle). */
int nfs_handle_key_load(const char *state_dir, uint8_t ret[NFS_HANDLE_KEY_SIZE]);

/* The COMMIT/WRITE verifier: kept in STATE_DIR/write-verifier and reused only when the
 * previous run left STATE_DIR/clean-shutdown behind (that marker is consumed here), so the
 * verifier changes after a crash and stays after a clean restart. */
int nfs_write_verifier_load(const char *state_dir, uint8_t ret[8]);
/* Called after all data is synced at a clean shutdown. */
int nfs_write_verifier_mark_clean(const char *state_dir);
