/* hmac.h — SHA-256 and HMAC-SHA256 from libgcrypt (already in every process through
 * libsystemd), for the NFS gateway's file handles and the secret part of its export paths.
 *
 * hmac_sha256_init() keys a reusable context once (libgcrypt precomputes the padded key),
 * so the per-message cost of hmac_sha256_keyed() is two compression rounds and no
 * allocation. libgcrypt is initialised on first use here unless the program (or libsystemd)
 * already did. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_SIZE 32

typedef struct HmacSha256 HmacSha256;

/* Makes sure libgcrypt is initialised (no secure memory: nothing here needs mlock). Call it
 * before a seccomp filter is installed: the first initialisation reads files. */
void crypto_init(void);

void sha256(const void *data, size_t size, uint8_t ret[SHA256_DIGEST_SIZE]);
/* One-shot HMAC-SHA256 (RFC 2104). */
void hmac_sha256(const void *key, size_t key_size, const void *data, size_t size,
                 uint8_t ret[SHA256_DIGEST_SIZE]);

/* A context keyed once, for many messages. -ENOMEM, or -EIO when libgcrypt refuses. */
int hmac_sha256_new(const void *key, size_t key_size, HmacSha256 **ret);
HmacSha256 *hmac_sha256_free(HmacSha256 *h);
void hmac_sha256_keyed(HmacSha256 *h, const void *data, size_t size, uint8_t ret[SHA256_DIGEST_SIZE]);
