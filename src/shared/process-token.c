/* process-token.c — "<pid>:<start time>" of a process, from /proc/PID/stat (field 22, the
 * start time in clock ticks since boot): equal tokens are one process's life, even after its
 * pid is reused. Nothing here logs. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "process-token.h"
#include "util.h"

static int start_time(pid_t pid, uint64_t *ret) {
        char path[64], buf[1024];
        const char *p;
        FILE *f;
        size_t n;

        snprintf(path, sizeof path, "/proc/%ld/stat", (long) pid);
        f = fopen(path, "re");
        if (!f)
                return -errno;
        n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = '\0';
        /* The command (field 2) is in parentheses and may hold anything: count from its end. */
        p = strrchr(buf, ')');
        if (!p)
                return -EBADMSG;
        /* Fields 3… follow; the start time is field 22, the 20th after the ')'. */
        for (unsigned field = 2; field < 22; field++) {
                p = strchr(p + 1, ' ');
                if (!p)
                        return -EBADMSG;
        }
        n = strspn(p + 1, "0123456789");
        if (n == 0 || n >= 24)
                return -EBADMSG;
        memmove(buf, p + 1, n);
        buf[n] = '\0';
        return safe_atou64(buf, ret);
}

int process_token(pid_t pid, char buf[static PROCESS_TOKEN_MAX]) {
        uint64_t t;
        int r;

        if (pid == 0)
                pid = getpid();
        r = start_time(pid, &t);
        if (r < 0)
                return r;
        snprintf(buf, PROCESS_TOKEN_MAX, "%ld:%" PRIu64, (long) pid, t);
        return 0;
}

bool process_token_alive(const char *token) {
        char now[PROCESS_TOKEN_MAX];
        uint64_t pid;
        const char *colon;
        char pidbuf[24];

        if (!token)
                return false;
        colon = strchr(token, ':');
        if (!colon || colon == token || (size_t) (colon - token) >= sizeof pidbuf)
                return false;
        memcpy(pidbuf, token, colon - token);
        pidbuf[colon - token] = '\0';
        if (safe_atou64(pidbuf, &pid) < 0 || pid == 0 || pid > INT32_MAX)
                return false;
        if (process_token((pid_t) pid, now) < 0)
                return false;
        return streq(now, token);
}
