/* test-egress-parse.c — the egress proxy's parsing (egress-parse.h): requests in absolute and
 * origin form are rebuilt for one host and one request, CONNECT targets need a port, a Host
 * header that disagrees with the URI is refused, and the SNI of a ClientHello is found or the
 * hello refused. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "egress-parse.h"
#include "test-main.h"

static int parse(const char *s, EgressRequest *r) {
        return egress_parse_request(s, strlen(s), r);
}

START_TEST(test_absolute_form_is_rebuilt_for_one_request) {
        EgressRequest r = {};

        ck_assert_int_eq(parse("GET http://Files.Example.org:8080/a/b?x=1 HTTP/1.1\r\n"
                               "Host: files.example.org:8080\r\n"
                               "Proxy-Connection: keep-alive\r\n"
                               "Connection: keep-alive\r\n"
                               "Accept: */*\r\n\r\nBODY",
                               &r),
                         0);
        ck_assert(!r.connect);
        ck_assert_str_eq(r.host, "Files.Example.org");
        ck_assert_uint_eq(r.port, 8080);
        ck_assert_str_eq(r.head, "GET /a/b?x=1 HTTP/1.1\r\n"
                                 "Host: files.example.org:8080\r\n"
                                 "Accept: */*\r\n"
                                 "Connection: close\r\n\r\n");
        ck_assert_uint_eq(r.head_len, strlen(r.head));
        ck_assert_uint_eq(r.consumed, strlen("GET http://Files.Example.org:8080/a/b?x=1 HTTP/1.1\r\n"
                                             "Host: files.example.org:8080\r\n"
                                             "Proxy-Connection: keep-alive\r\n"
                                             "Connection: keep-alive\r\n"
                                             "Accept: */*\r\n\r\n"));
        egress_request_done(&r);

        /* No Host header, no path: both supplied. */
        ck_assert_int_eq(parse("HEAD http://a.org HTTP/1.0\r\n\r\n", &r), 0);
        ck_assert_str_eq(r.head, "HEAD / HTTP/1.0\r\nHost: a.org:80\r\nConnection: close\r\n\r\n");
        egress_request_done(&r);

        ck_assert_int_eq(parse("GET http://[::1]:81/ HTTP/1.1\r\n\r\n", &r), 0);
        ck_assert_str_eq(r.host, "::1");
        ck_assert_uint_eq(r.port, 81);
        egress_request_done(&r);
}
END_TEST

START_TEST(test_origin_form_uses_host) {
        EgressRequest r = {};

        ck_assert_int_eq(parse("POST /x HTTP/1.1\r\nhost: a.org\r\nContent-Length: 3\r\n\r\nabc", &r), 0);
        ck_assert_str_eq(r.host, "a.org");
        ck_assert_uint_eq(r.port, 80);
        ck_assert_str_eq(
                r.head, "POST /x HTTP/1.1\r\nhost: a.org\r\nContent-Length: 3\r\nConnection: close\r\n\r\n");
        egress_request_done(&r);
        ck_assert_int_eq(parse("GET /x HTTP/1.1\r\n\r\n", &r), -EINVAL); /* whose? */
}
END_TEST

START_TEST(test_connect) {
        EgressRequest r = {};

        ck_assert_int_eq(
                parse("CONNECT pypi.org:443 HTTP/1.1\r\nHost: pypi.org:443\r\nUser-Agent: pip\r\n\r\n", &r),
                0);
        ck_assert(r.connect);
        ck_assert_str_eq(r.host, "pypi.org");
        ck_assert_uint_eq(r.port, 443);
        ck_assert_ptr_null(r.head);
        egress_request_done(&r);
        ck_assert_int_eq(parse("CONNECT [2001:db8::1]:443 HTTP/1.1\r\n\r\n", &r), 0);
        ck_assert_str_eq(r.host, "2001:db8::1");
        egress_request_done(&r);
        ck_assert_int_eq(parse("CONNECT pypi.org HTTP/1.1\r\n\r\n", &r), -EINVAL);
        ck_assert_int_eq(parse("CONNECT pypi.org:0 HTTP/1.1\r\n\r\n", &r), -EINVAL);
        ck_assert_int_eq(parse("CONNECT pypi.org:65536 HTTP/1.1\r\n\r\n", &r), -EINVAL);
        ck_assert_int_eq(parse("CONNECT pypi.org:443 HTTP/1.1\r\nHost: evil.org:443\r\n\r\n", &r), -EINVAL);
}
END_TEST

START_TEST(test_ambiguous_requests_are_refused) {
        EgressRequest r = {};
        char big[EGRESS_MAX_HEAD + 10];

        ck_assert_int_eq(parse("GET http://a.org/ HTTP/1.1\r\nHost: b.org\r\n\r\n", &r), -EINVAL);
        ck_assert_int_eq(parse("GET http://a.org/ HTTP/1.1\r\nHost: a.org:81\r\n\r\n", &r), -EINVAL);
        ck_assert_int_eq(parse("GET /x HTTP/1.1\r\nHost: a.org\r\nHost: b.org\r\n\r\n", &r), -EINVAL);
        ck_assert_int_eq(parse("GET /x HTTP/1.1\r\nHost: a.org\r\n b.org\r\n\r\n", &r), -EINVAL);
        ck_assert_int_eq(parse("GET http://user@a.org/ HTTP/1.1\r\n\r\n", &r), -EINVAL);
        ck_assert_int_eq(parse("GET http://a$b.org/ HTTP/1.1\r\n\r\n", &r), -EINVAL);
        ck_assert_int_eq(parse("GET http://::1/ HTTP/1.1\r\n\r\n", &r), -EINVAL);
        ck_assert_int_eq(parse("GET http://[a.org]/ HTTP/1.1\r\n\r\n", &r), -EINVAL);
        ck_assert_int_eq(parse("GET https://a.org/ HTTP/1.1\r\n\r\n", &r), -EPROTONOSUPPORT);
        ck_assert_int_eq(parse("GET ftp://a.org/ HTTP/1.1\r\n\r\n", &r), -EINVAL);
        ck_assert_int_eq(parse("GET http://a.org/ HTTP/2.0\r\n\r\n", &r), -EINVAL);
        ck_assert_int_eq(parse("G(T http://a.org/ HTTP/1.1\r\n\r\n", &r), -EINVAL);
        ck_assert_int_eq(parse("GET http://a.org/ HTTP/1.1\r\nHost: a.org\r\n", &r), -EAGAIN);
        ck_assert_int_eq(parse("", &r), -EAGAIN);
        memset(big, 'a', sizeof big);
        ck_assert_int_eq(egress_parse_request(big, sizeof big, &r), -E2BIG);
}
END_TEST

/* A ClientHello with the given SNI (NULL: no server_name extension) behind another extension. */
static size_t hello(uint8_t *b, const char *sni) {
        size_t n = 0, ext_at, hs_at;
        size_t sl = sni ? strlen(sni) : 0;

        b[n++] = 0x16, b[n++] = 0x03, b[n++] = 0x01, n += 2; /* record; length later */
        hs_at = n;
        b[n++] = 0x01, n += 3; /* ClientHello; length later */
        b[n++] = 0x03, b[n++] = 0x03;
        memset(b + n, 0x42, 32), n += 32;
        b[n++] = 0; /* session id */
        b[n++] = 0, b[n++] = 2, b[n++] = 0x13, b[n++] = 0x01; /* one cipher suite */
        b[n++] = 1, b[n++] = 0; /* null compression */
        ext_at = n;
        n += 2;
        b[n++] = 0x00, b[n++] = 0x0b, b[n++] = 0, b[n++] = 2, b[n++] = 1, b[n++] = 0; /* ec_point_formats */
        if (sni) {
                b[n++] = 0, b[n++] = 0;
                b[n++] = (uint8_t) ((sl + 5) >> 8), b[n++] = (uint8_t) (sl + 5);
                b[n++] = (uint8_t) ((sl + 3) >> 8), b[n++] = (uint8_t) (sl + 3);
                b[n++] = 0;
                b[n++] = (uint8_t) (sl >> 8), b[n++] = (uint8_t) sl;
                memcpy(b + n, sni, sl), n += sl;
        }
        b[ext_at] = (uint8_t) ((n - ext_at - 2) >> 8), b[ext_at + 1] = (uint8_t) (n - ext_at - 2);
        b[hs_at + 1] = 0, b[hs_at + 2] = (uint8_t) ((n - hs_at - 4) >> 8),
                  b[hs_at + 3] = (uint8_t) (n - hs_at - 4);
        b[3] = (uint8_t) ((n - 5) >> 8), b[4] = (uint8_t) (n - 5);
        return n;
}

START_TEST(test_client_hello_sni) {
        uint8_t b[1024];
        char *sni = NULL;
        size_t n = hello(b, "files.pythonhosted.org");

        ck_assert_int_eq(egress_parse_client_hello(b, n, &sni), 0);
        ck_assert_str_eq(sni, "files.pythonhosted.org");
        free(sni);
        for (size_t i = 0; i < n; i++) /* every prefix asks for more */
                ck_assert_int_eq(egress_parse_client_hello(b, i, &sni), -EAGAIN);

        n = hello(b, NULL);
        sni = (char *) "unset";
        ck_assert_int_eq(egress_parse_client_hello(b, n, &sni), 0);
        ck_assert_ptr_null(sni);

        ck_assert_int_eq(egress_parse_client_hello((const uint8_t *) "GET / HTTP/1.1\r\n", 16, &sni),
                         -ENOMSG);
        n = hello(b, "bad name.org");
        ck_assert_int_eq(egress_parse_client_hello(b, n, &sni), -EINVAL);
        n = hello(b, "a.org");
        b[5] = 0x02; /* not a ClientHello */
        ck_assert_int_eq(egress_parse_client_hello(b, n, &sni), -EINVAL);
        n = hello(b, "a.org");
        b[n - 6] = 0x40; /* an SNI length past its extension */
        ck_assert_int_eq(egress_parse_client_hello(b, n, &sni), -EINVAL);
}
END_TEST

int main(void) {
        Suite *s = suite_create("egress-parse");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_absolute_form_is_rebuilt_for_one_request);
        tcase_add_test(tc, test_origin_form_uses_host);
        tcase_add_test(tc, test_connect);
        tcase_add_test(tc, test_ambiguous_requests_are_refused);
        tcase_add_test(tc, test_client_hello_sni);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
