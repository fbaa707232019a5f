/* bootstrap-util.c — logging, clocks, UTF-8 repair and child reaping for aegis-bootstrap.
 *
 * The bootstrap is usually PID 1 of its container: every orphan of a command it ran is
 * re-parented to it, so bs_reap() collects every exited child, not only the one it waits
 * for. SIGCHLD stays blocked and is read from a signalfd so poll() sees it. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bootstrap.h"
#include "fs-tools-core.h"
#include "utf8.h"

void bs_log(const char *fmt, ...) {
        char line[1024];
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(line, sizeof(line), fmt, ap);
        va_end(ap);
        if (n < 0)
                return;
        /* One write per line, so lines of concurrent writers never interleave. */
        fprintf(stderr, "aegis-bootstrap: %s\n", line);
        fflush(stderr);
}

uint64_t bs_now_ms(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000u + (uint64_t) ts.tv_nsec / 1000000u;
}

void bs_sleep_ms(unsigned ms) {
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L };

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

char *bs_utf8_sanitize(const char *s, size_t len, size_t *ret_len) {
        size_t i = 0, o = 0;
        char *out;

        /* Each invalid byte grows to the three bytes of U+FFFD at most. */
        if (len > (SIZE_MAX - 1) / 3)
                return NULL;
        out = malloc(len * 3 + 1);
        if (!out)
                return NULL;
        while (i < len) {
                size_t n = utf8_char_len(s + i, len - i);

                if (n == 0) {
                        memcpy(out + o, "\xEF\xBF\xBD", 3);
                        o += 3;
                        i++;
                        continue;
                }
                memcpy(out + o, s + i, n);
                o += n;
                i += n;
        }
        out[o] = 0;
        *ret_len = o;
        return out;
}

size_t bs_utf8_tail_start(const char *s, size_t len) {
        const unsigned char *u = (const unsigned char *) s;
        size_t i = 0;

        while (i < len && i < 3 && (u[i] & 0xC0) == 0x80)
                i++;
        return i;
}

int bs_sigchld_fd(void) {
        static int fd = -1;
        sigset_t mask;

        if (fd >= 0)
                return fd;
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return -errno;
        fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

bool bs_reap(pid_t pid, int *ret_status) {
        struct signalfd_siginfo si;
        bool found = false;
        int fd = bs_sigchld_fd(), status;
        pid_t p;

        if (fd >= 0)
                while (read(fd, &si, sizeof(si)) == (ssize_t) sizeof(si))
                        ;
        while ((p = waitpid(-1, &status, WNOHANG)) > 0)
                if (p == pid) {
                        *ret_status = status;
                        found = true;
                }
        return found;
}

int bs_exit_code(int status) {
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        if (WIFSIGNALED(status))
                return 128 + WTERMSIG(status);
        return 255;
}
