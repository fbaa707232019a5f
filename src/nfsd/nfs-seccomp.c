/* nfs-seccomp.c — see nfs-seccomp.h. */
#include <errno.h>
#include <seccomp.h>
#include <sys/socket.h>
#ifdef HAVE_VALGRIND_VALGRIND_H
#include <valgrind/valgrind.h>
#endif

#include "macros.h"
#include "nfs-seccomp.h"

static const char *const allowed[] = {
        /* files inside volumes */
        "openat",
        "openat2",
        "open",
        "close",
        "close_range",
        "read",
        "pread64",
        "readv",
        "preadv",
        "preadv2",
        "write",
        "pwrite64",
        "writev",
        "pwritev",
        "pwritev2",
        "lseek",
        "_llseek",
        "fstat",
        "newfstatat",
        "fstatat64",
        "statx",
        "stat",
        "lstat",
        "getdents64",
        "getdents",
        "mkdirat",
        "mkdir",
        "unlinkat",
        "unlink",
        "rmdir",
        "renameat",
        "renameat2",
        "rename",
        "linkat",
        "symlinkat",
        "readlinkat",
        "readlink",
        "fchmod",
        "fchmodat",
        "fchown",
        "fchownat",
        "ftruncate",
        "utimensat",
        "fsync",
        "fdatasync",
        "syncfs",
        "fstatfs",
        "statfs",
        "ioctl",
        "fcntl",
        "dup",
        "dup3",
        "name_to_handle_at", /* generations without an open (nfs-fsgen.c) */
        "faccessat",
        "faccessat2",
        "access",
        /* state directory (clean-shutdown marker, key file) */
        "rename",
        "umask",
        "getrandom",
        /* sockets: accepted connections, sd_notify */
        "accept4",
        "accept",
        "getsockname",
        "getpeername",
        "setsockopt",
        "getsockopt",
        "sendmsg",
        "sendto",
        "recvmsg",
        "recvfrom",
        "shutdown",
        "connect",
        /* sd-event */
        "epoll_wait",
        "epoll_pwait",
        "epoll_pwait2",
        "epoll_ctl",
        "epoll_create1",
        "timerfd_create",
        "timerfd_settime",
        "timerfd_gettime",
        "signalfd4",
        "eventfd2",
        "rt_sigprocmask",
        "rt_sigaction",
        "rt_sigreturn",
        "clock_gettime",
        "clock_nanosleep",
        "nanosleep",
        "gettimeofday",
        "ppoll",
        "poll",
        /* process and memory */
        "brk",
        "mmap",
        "munmap",
        "mremap",
        "madvise",
        "mprotect",
        "exit",
        "exit_group",
        "getpid",
        "gettid",
        "getuid",
        "geteuid",
        "getgid",
        "getegid",
        "tgkill",
        "futex",
        "sched_yield",
        "prlimit64",
        "uname",
        "sysinfo",
        "sched_getaffinity",
        "restart_syscall",
};

#if defined(__SANITIZE_ADDRESS__)
/* Sanitizer builds only (--enable-sanitizers): what the ASan/LSan runtime itself calls, so
 * the gateway is tested under the same filter as in production. LeakSanitizer's exit-time
 * check clones a tracer task (prctl PR_SET_PDEATHSIG/PR_SET_PTRACER) that ptrace-attaches to
 * every thread and is waited for; without these it dies with "LeakSanitizer has encountered
 * a fatal error" and the gateway exits 1. Reports run on an alternate signal stack. exec
 * stays forbidden, so an external llvm-symbolizer cannot start: use --seccomp=off for
 * symbolized reports. A normal build never compiles this list. */
static const char *const allowed_sanitizer[] = {
        "clone", "ptrace", "wait4", "prctl", "sigaltstack", "getppid",
};
#endif

#ifdef HAVE_VALGRIND_VALGRIND_H
/* Under valgrind only (RUNNING_ON_VALGRIND, checked at run time: `make check-valgrind`):
 * valgrind runs the gateway in this same process, so the filter binds valgrind's own system
 * calls too: it polls for pending signals with a zero-timeout rt_sigtimedwait, which the
 * allow-list refuses (EPERM, seen with strace) to the gateway itself. (valgrind 3.19 does not
 * know seccomp(2) itself: libseccomp falls back to prctl(PR_SET_SECCOMP), which it passes
 * on, so the filter really is installed.) Outside valgrind this list is never used. */
static const char *const allowed_valgrind[] = {
        "rt_sigtimedwait",
};
#endif

static int allow_names(scmp_filter_ctx ctx, const char *const *names, size_t n) {
        for (size_t i = 0; i < n; i++) {
                int nr = seccomp_syscall_resolve_name(names[i]);
                if (nr == __NR_SCMP_ERROR)
                        continue; /* not on this architecture */
                int r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
                if (r < 0 && r != -EEXIST)
                        return r;
        }
        return 0;
}

int nfs_seccomp_install(bool allow_inet) {
        scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
        int r = 0;

        if (!ctx)
                return -ENOMEM;
        r = allow_names(ctx, allowed, ELEMENTSOF(allowed));
#if defined(__SANITIZE_ADDRESS__)
        if (r >= 0)
                r = allow_names(ctx, allowed_sanitizer, ELEMENTSOF(allowed_sanitizer));
#endif
#ifdef HAVE_VALGRIND_VALGRIND_H
        if (r >= 0 && RUNNING_ON_VALGRIND)
                r = allow_names(ctx, allowed_valgrind, ELEMENTSOF(allowed_valgrind));
#endif
        if (r < 0)
                goto out;
        /* sd_notify() makes a fresh AF_UNIX datagram socket each time; nothing else may. */
        r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
        if (r >= 0 && allow_inet)
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
                                     SCMP_A0(SCMP_CMP_EQ, AF_INET));
        if (r >= 0 && allow_inet)
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
                                     SCMP_A0(SCMP_CMP_EQ, AF_INET6));
        if (r < 0)
                goto out;
        r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1);
        if (r >= 0)
                r = seccomp_load(ctx);
out:
        seccomp_release(ctx);
        return r < 0 ? r : 0;
}
