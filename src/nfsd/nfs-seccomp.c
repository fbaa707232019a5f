/* nfs-seccomp.c — see nfs-seccomp.h. */
#include <errno.h>
#include <seccomp.h>
#include <sys/socket.h>

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

int nfs_seccomp_install(bool allow_inet) {
        scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
        int r = 0;

        if (!ctx)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(allowed); i++) {
                int nr = seccomp_syscall_resolve_name(allowed[i]);
                if (nr == __NR_SCMP_ERROR)
                        continue; /* not on this architecture */
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
                if (r < 0 && r != -EEXIST)
                        goto out;
        }
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
