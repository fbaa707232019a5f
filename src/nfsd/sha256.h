/* sha256.h — a compact SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104), enough to
 * authenticate NFS file handles without pulling a crypto library into the gateway. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_SIZE 32
#define SHA256_BLOCK_SIZE 64

typedef struct Sha256 {
        uint32_t h[8];
        uint64_t length; /* bytes hashed so far */
        uint8_t block[SHA256_BLOCK_SIZE];
        size_t fill;
} Sha256;

void sha256_init(Sha256 *s);
void sha256_update(Sha256 *s, const void *data, size_t size);
void sha256_final(Sha256 *s, uint8_t ret[SHA256_DIGEST_SIZE]);
void sha256(const void *data, size_t size, uint8_t ret[SHA256_DIGEST_SIZE]);
void hmac_sha256(const void *key, size_t key_size, const void *data, size_t size,
                 uint8_t ret[SHA256_DIGEST_SIZE]);
