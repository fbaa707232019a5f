/* nfs-handle.c — see nfs-handle.h.
 *
 * Layout (big-endian): version(1) type(1) zero(2) volume_key(8) ino(8) gen(4) mac(16).
 * The MAC covers the first 24 bytes; comparison is constant-time. */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "hmac.h"
#include "nfs-handle.h"
#include "util.h"

#define MAC_OFFSET 24
#define MAC_SIZE 16

static void put64(uint8_t *p, uint64_t v) {
        for (int i = 0; i < 8; i++)
                p[i] = (uint8_t) (v >> (56 - 8 * i));
}
static uint64_t get64(const uint8_t *p) {
        uint64_t v = 0;
        for (int i = 0; i < 8; i++)
                v = v << 8 | p[i];
        return v;
}

uint64_t nfs_volume_key(const char *tenant, const char *volume) {
        uint8_t d[SHA256_DIGEST_SIZE];
        char buf[2 * 256 + 2];
        int n = snprintf(buf, sizeof(buf), "%s/%s", tenant, volume);

        assert(n > 0 && (size_t) n < sizeof(buf));
        sha256(buf, (size_t) n, d);
        return get64(d);
}

/* Every handle in and out is MACed: keep one context keyed with the gateway's key (the
 * process has one key; a different one re-keys it). Without a context (out of memory) the
 * one-shot function gives the same MAC, slower. */
static void handle_mac(const uint8_t key[NFS_HANDLE_KEY_SIZE], const uint8_t *data, size_t size,
                       uint8_t ret[SHA256_DIGEST_SIZE]) {
        static HmacSha256 *ctx;
        static uint8_t ctx_key[NFS_HANDLE_KEY_SIZE];

        if (!ctx || memcmp(ctx_key, key, NFS_HANDLE_KEY_SIZE) != 0) {
                ctx = hmac_sha256_free(ctx);
                if (hmac_sha256_new(key, NFS_HANDLE_KEY_SIZE, &ctx) < 0) {
                        hmac_sha256(key, NFS_HANDLE_KEY_SIZE, data, size, ret);
                        return;
                }
                memcpy(ctx_key, key, NFS_HANDLE_KEY_SIZE);
        }
        hmac_sha256_keyed(ctx, data, size, ret);
}

void nfs_handle_encode(const uint8_t key[NFS_HANDLE_KEY_SIZE], const NfsHandle *h,
                       uint8_t ret[NFS_HANDLE_SIZE]) {
        uint8_t mac[SHA256_DIGEST_SIZE];

        memset(ret, 0, NFS_HANDLE_SIZE);
        ret[0] = NFS_HANDLE_VERSION;
        ret[1] = h->type;
        put64(ret + 4, h->volume_key);
        put64(ret + 12, h->ino);
        ret[20] = (uint8_t) (h->gen >> 24);
        ret[21] = (uint8_t) (h->gen >> 16);
        ret[22] = (uint8_t) (h->gen >> 8);
        ret[23] = (uint8_t) h->gen;
        handle_mac(key, ret, MAC_OFFSET, mac);
        memcpy(ret + MAC_OFFSET, mac, MAC_SIZE);
}

int nfs_handle_decode(const uint8_t key[NFS_HANDLE_KEY_SIZE], const void *data, size_t size,
                      NfsHandle *ret) {
        const uint8_t *p = data;
        uint8_t mac[SHA256_DIGEST_SIZE], diff = 0;

        if (size != NFS_HANDLE_SIZE || p[0] != NFS_HANDLE_VERSION)
                return -EBADMSG;
        handle_mac(key, p, MAC_OFFSET, mac);
        for (unsigned i = 0; i < MAC_SIZE; i++)
                diff |= mac[i] ^ p[MAC_OFFSET + i];
        if (diff != 0 || p[1] > NFS_HANDLE_LNK || p[2] != 0 || p[3] != 0)
                return -EBADMSG;
        *ret = (NfsHandle){
                .volume_key = get64(p + 4),
                .ino = get64(p + 12),
                .gen = (uint32_t) p[20] << 24 | (uint32_t) p[21] << 16 | (uint32_t) p[22] << 8 | p[23],
                .type = p[1],
        };
        return 0;
}

static int read_exact(const char *path, void *buf, size_t size) {
        _cleanup_free_ char *data = NULL;
        size_t n;
        int r = read_full_file(path, 4096, &data, &n);

        if (r < 0)
                return r;
        if (n != size)
                return -EBADMSG;
        memcpy(buf, data, size);
        return 0;
}

static int random_bytes(void *buf, size_t size) {
        uint8_t *p = buf;

        while (size > 0) {
                ssize_t k = getrandom(p, size, 0);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += k;
                size -= (size_t) k;
        }
        return 0;
}

int nfs_handle_key_load(const char *state_dir, uint8_t ret[NFS_HANDLE_KEY_SIZE]) {
        _cleanup_free_ char *path = path_join(state_dir, "handle-key");
        uint8_t key[NFS_HANDLE_KEY_SIZE];
        int r;

        if (!path)
                return -ENOMEM;
        r = read_exact(path, key, sizeof(key));
        if (r == -ENOENT) {
                r = random_bytes(key, sizeof(key));
                if (r < 0)
                        return r;
                r = write_file_atomic(path, key, sizeof(key), 0600);
        }
        if (r < 0)
                return r;
        memcpy(ret, key, sizeof(key));
        return 0;
}

int nfs_write_verifier_load(const char *state_dir, uint8_t ret[8]) {
        _cleanup_free_ char *path = path_join(state_dir, "write-verifier");
        _cleanup_free_ char *clean = path_join(state_dir, "clean-shutdown");
        uint8_t verf[8];
        bool reuse;
        int r;

        if (!path || !clean)
                return -ENOMEM;
        reuse = access(clean, F_OK) == 0;
        r = reuse ? read_exact(path, verf, sizeof(verf)) : -ENOENT;
        if (r < 0) {
                r = random_bytes(verf, sizeof(verf));
                if (r < 0)
                        return r;
                r = write_file_atomic(path, verf, sizeof(verf), 0600);
                if (r < 0)
                        return r;
        }
        /* From now on we are "running": a crash before the next clean stop changes it. */
        if (unlink(clean) < 0 && errno != ENOENT)
                return -errno;
        memcpy(ret, verf, sizeof(verf));
        return 0;
}

int nfs_write_verifier_mark_clean(const char *state_dir) {
        _cleanup_free_ char *clean = path_join(state_dir, "clean-shutdown");

        if (!clean)
                return -ENOMEM;
        return write_file_atomic(clean, "clean\n", 6, 0600);
}
