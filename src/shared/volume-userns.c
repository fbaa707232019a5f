/* volume-userns.c — see volume-userns.h. The child talks back over a socketpair: one message
 * of fn's result, the errno of a refused setns() (0 else), fn's out bytes and (SCM_RIGHTS)
 * its descriptor; a child that dies without one is -EIO. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "macros.h"
#include "util.h"
#include "volume-userns.h"

#define HEADER (2 * sizeof(int))

static char *pid_file;
static bool inside; /* in the child, after setns() */
static __thread char last_error[512];

int volume_userns_set(const char *path) {
        char *p = NULL;

        if (path) {
                p = strdup(path);
                if (!p)
                        return -ENOMEM;
        }
        free(pid_file);
        pid_file = p;
        return 0;
}

char *volume_userns_engine_pid_file(void) {
        const char *d = getenv("XDG_RUNTIME_DIR");

        if (d && d[0] == '/')
                return asprintf_safe("%s/libpod/tmp/pause.pid", d);
        return asprintf_safe("/run/user/%u/libpod/tmp/pause.pid", (unsigned) geteuid());
}

int volume_userns_setup(bool engine_rootless, bool engine_docker, bool engine_keep_id, const char *path) {
        _cleanup_free_ char *p = NULL;

        if (volume_userns_set(NULL) < 0)
                return -ENOMEM;
        if (!engine_rootless || engine_docker || geteuid() == 0)
                return VOLUME_USERNS_HOST;
        if (engine_keep_id)
                return VOLUME_USERNS_KEEP_ID;
        p = path ? strdup(path) : volume_userns_engine_pid_file();
        if (!p || volume_userns_set(p) < 0)
                return -ENOMEM;
        return VOLUME_USERNS_ENGINE;
}

const char *volume_userns_pid_file(void) {
        return pid_file;
}

const char *volume_userns_strerror(int k) {
        if (k != -ENOLINK)
                return strerror(-k);
        return last_error[0] ? last_error : "cannot join the rootless engine's user namespace";
}

static int join_failed(int k, const char *what) {
        (void) snprintf(last_error, sizeof last_error,
                        "cannot join the rootless engine's user namespace (its pause process, recorded in "
                        "%s): %s: %s; start the engine first (its API service, or `podman unshare true` as "
                        "aegisd's user) and run aegisd as the engine's own user, with its XDG_RUNTIME_DIR",
                        pid_file, what, strerror(-k));
        return -ENOLINK;
}

/* The engine's user namespace as a descriptor, or join_failed(). */
static int open_userns(void) {
        _cleanup_free_ char *text = NULL, *ns = NULL;
        int pid, fd, k;

        k = read_full_file(pid_file, 64, &text, NULL);
        if (k < 0)
                return join_failed(k, "cannot read the pid file");
        text[strcspn(text, "\n")] = '\0';
        if (safe_atoi(text, &pid) < 0 || pid <= 0)
                return join_failed(-EBADMSG, "the pid file holds no pid");
        ns = asprintf_safe("/proc/%d/ns/user", pid);
        if (!ns)
                return -ENOMEM;
        fd = open(ns, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return join_failed(errno == ENOENT ? -ESRCH : -errno,
                                   "cannot open the pause process's namespace");
        return fd;
}

/* The child's half: join, run, send one message, never return. */
_noreturn_ static void child(int nsfd, int sock, volume_userns_fn fn, void *userdata, size_t out_size) {
        char buf[HEADER + VOLUME_USERNS_OUT_MAX] = {};
        union {
                struct cmsghdr h;
                char space[CMSG_SPACE(sizeof(int))];
        } control = {};
        struct iovec iov = { .iov_base = buf, .iov_len = HEADER + out_size };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
        int k, refused = 0, fd = -1;

        if (setns(nsfd, CLONE_NEWUSER) < 0) {
                refused = errno;
                k = -ENOLINK;
        } else {
                inside = true;
                k = fn(userdata, buf + HEADER, out_size, &fd);
        }
        memcpy(buf, &k, sizeof k);
        memcpy(buf + sizeof k, &refused, sizeof refused);
        if (k >= 0 && fd >= 0) {
                mh.msg_control = control.space;
                mh.msg_controllen = sizeof control.space;
                struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(c), &fd, sizeof fd);
        }
        (void) sendmsg(sock, &mh, MSG_NOSIGNAL);
        _exit(0);
}

int volume_userns_call(volume_userns_fn fn, void *userdata, void *out, size_t out_size, int *ret_fd) {
        _cleanup_close_ int nsfd = -EBADF, fd = -EBADF;
        int sp[2], k, status, refused;
        char buf[HEADER + VOLUME_USERNS_OUT_MAX];
        union {
                struct cmsghdr h;
                char space[CMSG_SPACE(sizeof(int))];
        } control = {};
        struct iovec iov = { .iov_base = buf, .iov_len = HEADER + out_size };
        struct msghdr mh = { .msg_iov = &iov,
                             .msg_iovlen = 1,
                             .msg_control = control.space,
                             .msg_controllen = sizeof control.space };
        ssize_t n;
        pid_t pid;

        assert(fn);
        assert(out_size <= VOLUME_USERNS_OUT_MAX);
        assert(out || out_size == 0);
        if (out)
                memset(out, 0, out_size);
        if (!pid_file || inside) {
                k = fn(userdata, out, out_size, &fd);
                if (k >= 0 && ret_fd)
                        *ret_fd = TAKE_FD(fd);
                return k;
        }
        nsfd = open_userns();
        if (nsfd < 0)
                return nsfd;
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
                return -errno;
        pid = fork();
        if (pid < 0) {
                k = -errno;
                (void) close(sp[0]);
                (void) close(sp[1]);
                return k;
        }
        if (pid == 0) {
                (void) close(sp[0]);
                child(nsfd, sp[1], fn, userdata, out_size);
        }
        (void) close(sp[1]);
        do
                n = recvmsg(sp[0], &mh, MSG_CMSG_CLOEXEC);
        while (n < 0 && errno == EINTR);
        k = n < 0 ? -errno : 0;
        (void) close(sp[0]);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        for (struct cmsghdr *c = n > 0 ? CMSG_FIRSTHDR(&mh) : NULL; c; c = CMSG_NXTHDR(&mh, c))
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
                        memcpy(&fd, CMSG_DATA(c), sizeof fd);
        if (k < 0)
                return k;
        if ((size_t) n < HEADER)
                return -EIO; /* the child died before it answered */
        memcpy(&k, buf, sizeof k);
        memcpy(&refused, buf + sizeof k, sizeof refused);
        if (refused != 0)
                return join_failed(-refused,
                                   "setns() refused it (aegisd must be the engine's own user and run in "
                                   "the host's user namespace: not under PrivateUsers=, which the shipped "
                                   "user unit's sandbox needs, nor RestrictNamespaces= without user; "
                                   "aegis-volumes(7))");
        if (k < 0)
                return k;
        if (out)
                memcpy(out, buf + HEADER, MIN(out_size, (size_t) n - HEADER));
        if (ret_fd)
                *ret_fd = TAKE_FD(fd);
        return k;
}
