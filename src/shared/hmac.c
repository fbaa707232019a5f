/* hmac.c — see hmac.h. Checked against RFC 4231's HMAC-SHA256 vectors and FIPS 180-4's
 * SHA-256 vectors in tests/unit/test-hmac.c. */
#include <assert.h>
#include <errno.h>
#include <gcrypt.h>
#include <stdlib.h>
#include <string.h>

#include "hmac.h"

struct HmacSha256 {
        gcry_md_hd_t md;
};

void crypto_init(void) {
        if (gcry_control(GCRYCTL_INITIALIZATION_FINISHED_P))
                return;
        /* Exactly what libsystemd does when it is first: the version check initialises. */
        (void) gcry_check_version(NULL);
        (void) gcry_control(GCRYCTL_DISABLE_SECMEM, 0);
        (void) gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
}

void sha256(const void *data, size_t size, uint8_t ret[SHA256_DIGEST_SIZE]) {
        crypto_init();
        gcry_md_hash_buffer(GCRY_MD_SHA256, ret, data, size);
}

void hmac_sha256(const void *key, size_t key_size, const void *data, size_t size,
                 uint8_t ret[SHA256_DIGEST_SIZE]) {
        gcry_buffer_t iov[2] = {
                { .data = (void *) key, .len = key_size },
                { .data = (void *) data, .len = size },
        };
        gcry_error_t e;

        crypto_init();
        e = gcry_md_hash_buffers(GCRY_MD_SHA256, GCRY_MD_FLAG_HMAC, ret, iov, 2);
        /* Only an unknown algorithm or an allocation failure can fail this: neither leaves a
         * MAC, so none that a caller could accept by mistake. */
        if (e != 0)
                memset(ret, 0, SHA256_DIGEST_SIZE), abort();
}

int hmac_sha256_new(const void *key, size_t key_size, HmacSha256 **ret) {
        HmacSha256 *h;

        assert(key && ret);
        crypto_init();
        h = calloc(1, sizeof(*h));
        if (!h)
                return -ENOMEM;
        if (gcry_md_open(&h->md, GCRY_MD_SHA256, GCRY_MD_FLAG_HMAC) != 0) {
                free(h);
                return -EIO;
        }
        if (gcry_md_setkey(h->md, key, key_size) != 0) {
                gcry_md_close(h->md);
                free(h);
                return -EIO;
        }
        *ret = h;
        return 0;
}

HmacSha256 *hmac_sha256_free(HmacSha256 *h) {
        if (!h)
                return NULL;
        gcry_md_close(h->md);
        free(h);
        return NULL;
}

void hmac_sha256_keyed(HmacSha256 *h, const void *data, size_t size, uint8_t ret[SHA256_DIGEST_SIZE]) {
        assert(h);
        /* gcry_md_reset() keeps the key: the context starts again from the inner pad. */
        gcry_md_reset(h->md);
        gcry_md_write(h->md, data, size);
        memcpy(ret, gcry_md_read(h->md, GCRY_MD_SHA256), SHA256_DIGEST_SIZE);
}
