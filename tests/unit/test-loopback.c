/* test-loopback.c — loopback.h: which addresses, listening sockets and Host headers are this
 * host only (issue 19: aegisd refuses a token-less API on the network and answers 421 to a
 * foreign Host without tokens). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "loopback.h"
#include "test-main.h"
#include "util.h"

START_TEST(test_host_header_loopback_names) {
        static const char *const yes[] = {
                "localhost",      "localhost:8088",        "LOCALHOST",
                "localhost.",     "localhost.:1",          "127.0.0.1",
                "127.0.0.1:8088", "127.1.2.3:9",           "[::1]",
                "[::1]:8088",     "[::ffff:127.0.0.1]:80",
        };
        static const char *const no[] = {
                "",
                "evil.example",
                "evil.example:8088",
                "localhost.evil.example",
                "127.0.0.1.nip.io",
                "0.0.0.0",
                "10.0.0.1:8088",
                "[::]",
                "[::2]:1",
                "127.0.0.1:",
                "127.0.0.1:x",
                "localhost:80:80",
                "[::1",
                "[::1]x",
                "[::1]:",
                "127.1",
                "0x7f000001",
                "::1",
                "localhost:123456",
                "[fe80::1]",
                "192.168.1.1",
        };

        for (size_t i = 0; i < ELEMENTSOF(yes); i++)
                ck_assert_msg(http_host_is_loopback(yes[i]), "%s should be loopback", yes[i]);
        for (size_t i = 0; i < ELEMENTSOF(no); i++)
                ck_assert_msg(!http_host_is_loopback(no[i]), "%s should not be loopback", no[i]);
        ck_assert(!http_host_is_loopback(NULL));
}
END_TEST

static int listening(int family, const char *addr) {
        struct sockaddr_storage ss = {};
        socklen_t len;
        int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

        ck_assert_int_ge(fd, 0);
        if (family == AF_INET) {
                struct sockaddr_in *in = (struct sockaddr_in *) &ss;
                in->sin_family = AF_INET;
                ck_assert_int_eq(inet_pton(AF_INET, addr, &in->sin_addr), 1);
                len = sizeof *in;
        } else {
                struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) &ss;
                in6->sin6_family = AF_INET6;
                ck_assert_int_eq(inet_pton(AF_INET6, addr, &in6->sin6_addr), 1);
                len = sizeof *in6;
        }
        ck_assert_int_eq(bind(fd, (struct sockaddr *) &ss, len), 0);
        ck_assert_int_eq(listen(fd, 1), 0);
        return fd;
}

START_TEST(test_listening_sockets) {
        char text[SOCKADDR_TEXT_MAX];
        int fd;

        fd = listening(AF_INET, "127.0.0.1");
        ck_assert_int_eq(socket_is_loopback(fd, text), 1);
        ck_assert(startswith(text, "127.0.0.1:"));
        close(fd);
        fd = listening(AF_INET, "0.0.0.0");
        ck_assert_int_eq(socket_is_loopback(fd, text), 0);
        ck_assert_msg(startswith(text, "0.0.0.0:"), "%s", text);
        close(fd);
        fd = listening(AF_INET6, "::1");
        ck_assert_int_eq(socket_is_loopback(fd, text), 1);
        ck_assert(startswith(text, "[::1]:"));
        close(fd);
        fd = listening(AF_INET6, "::");
        ck_assert_int_eq(socket_is_loopback(fd, NULL), 0);
        close(fd);

        int sv[2];
        ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        ck_assert_int_eq(socket_is_loopback(sv[0], text), 1);
        close(sv[0]);
        close(sv[1]);
        ck_assert_int_eq(socket_is_loopback(STDIN_FILENO + 1000, NULL), -EBADF);
}
END_TEST

int main(void) {
        Suite *s = suite_create("loopback");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_host_header_loopback_names);
        tcase_add_test(tc, test_listening_sockets);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
