/* bootstrap-report.c — --env-file with an exit report: PROG runs as this program's child and,
 * once it has exited, its status is said on stdout and on stderr (exit-report.h), so that
 * aegisd learns it from the log stream before the engine notices the container's end.
 *
 * What must stay true:
 * - PROG gets the signal mask and dispositions this program was given (the forwarding
 *   handlers are installed in the parent only, with the signals blocked across fork()).
 * - SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 sent to this program (PID 1 of
 *   the container: the engine's stop and kill) are passed on to PROG.
 * - The report is written only after PROG has exited by itself, one write per stream, so
 *   it is the last thing on each; a PROG killed by a signal gets none, and aegisd asks the
 *   engine, which knows whether the kernel's OOM killer did it.
 * - This program exits with PROG's status (128+N for signal N), as if PROG had been
 *   exec'd, even when the report cannot be written; orphans re-parented to it are reaped
 *   meanwhile. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bootstrap.h"
#include "exit-report.h"

static const int forwarded[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };
static volatile pid_t child_pid;

static void forward_signal(int sig) {
        int saved = errno;

        if (child_pid > 0)
                (void) kill(child_pid, sig);
        errno = saved;
}

static void write_all(int fd, const char *p, size_t n) {
        while (n > 0) {
                ssize_t k = write(fd, p, n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return;
                p += k;
                n -= (size_t) k;
        }
}

int bs_report_main(const char *nonce, char **argv) {
        struct sigaction sa = { .sa_handler = forward_signal }; /* no SA_RESTART: waitpid sees EINTR */
        char line[EXIT_REPORT_LINE_MAX];
        sigset_t block, old;
        int status = 0, n;
        pid_t pid, p;

        sigemptyset(&block);
        for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
                sigaddset(&block, forwarded[i]);
        if (sigprocmask(SIG_BLOCK, &block, &old) < 0) {
                bs_log("cannot block signals: %s", strerror(errno));
                return 126;
        }
        pid = fork();
        if (pid < 0) {
                bs_log("cannot fork to run %s: %s", argv[0], strerror(errno));
                return 126;
        }
        if (pid == 0) {
                (void) sigprocmask(SIG_SETMASK, &old, NULL);
                execvp(argv[0], argv);
                bs_log("cannot run %s: %s", argv[0], strerror(errno));
                _exit(errno == ENOENT ? 127 : 126);
        }
        child_pid = pid;
        /* A log pipe gone before the report must not change the status (141). */
        (void) signal(SIGPIPE, SIG_IGN);
        sigemptyset(&sa.sa_mask);
        for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
                (void) sigaction(forwarded[i], &sa, NULL);
        (void) sigprocmask(SIG_SETMASK, &old, NULL);

        for (;;) {
                p = waitpid(-1, &status, 0);
                if (p == pid)
                        break;
                if (p < 0 && errno != EINTR) {
                        bs_log("cannot wait for %s: %s", argv[0], strerror(errno));
                        return 126;
                }
        }
        if (WIFEXITED(status)) {
                n = exit_report_format(line, sizeof line, nonce, WEXITSTATUS(status));
                if (n > 0) {
                        write_all(STDOUT_FILENO, line, (size_t) n);
                        write_all(STDERR_FILENO, line, (size_t) n);
                }
        }
        return bs_exit_code(status);
}
