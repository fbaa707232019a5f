/* test-hmac.c — SHA-256 and HMAC-SHA256 through libgcrypt: FIPS 180-4 and RFC 4231 vectors,
 * and the keyed context (reused for many messages) agreeing with the one-shot function. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "hmac.h"
#include "test-main.h"

static const char *hex(const uint8_t d[SHA256_DIGEST_SIZE]) {
        static char buf[2 * SHA256_DIGEST_SIZE + 1];
        for (unsigned i = 0; i < SHA256_DIGEST_SIZE; i++)
                snprintf(buf + 2 * i, 3, "%02x", d[i]);
        return buf;
}

START_TEST(test_sha256_vectors) {
        uint8_t d[SHA256_DIGEST_SIZE];
        sha256("abc", 3, d);
        ck_assert_str_eq(hex(d), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        sha256("", 0, d);
        ck_assert_str_eq(hex(d), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}
END_TEST

START_TEST(test_hmac_rfc4231) {
        uint8_t d[SHA256_DIGEST_SIZE], key1[20], key6[131];
        const char *data6 = "Test Using Larger Than Block-Size Key - Hash Key First";
        HmacSha256 *h = NULL;

        memset(key1, 0x0b, sizeof(key1));
        hmac_sha256(key1, sizeof(key1), "Hi There", 8, d); /* test case 1 */
        ck_assert_str_eq(hex(d), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
        hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, d); /* test case 2 */
        ck_assert_str_eq(hex(d), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
        memset(key6, 0xaa, sizeof(key6));
        hmac_sha256(key6, sizeof(key6), data6, strlen(data6), d); /* test case 6 */
        ck_assert_str_eq(hex(d), "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");

        /* The keyed context: the same MACs, message after message. */
        ck_assert_int_eq(hmac_sha256_new("Jefe", 4, &h), 0);
        for (int i = 0; i < 3; i++) {
                hmac_sha256_keyed(h, "what do ya want for nothing?", 28, d);
                ck_assert_str_eq(hex(d), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
                hmac_sha256_keyed(h, "", 0, d);
                ck_assert_str_ne(hex(d), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
        }
        h = hmac_sha256_free(h);
        ck_assert_ptr_null(h);
}
END_TEST

int main(void) {
        Suite *s = suite_create("hmac");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_sha256_vectors);
        tcase_add_test(tc, test_hmac_rfc4231);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
