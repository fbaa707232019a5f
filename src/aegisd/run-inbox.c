/* run-inbox.c — an iteration's own files as read-only bind mounts of a private host directory
 * (run-inbox.h). */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "run-inbox.h"
#include "util.h"

#define RUN_INBOX_FILES_MAX 4

struct RunInbox {
        char *base; /* <state>/inbox */
        uid_t owner; /* of the inbox directories, when not aegisd ((uid_t) -1) */
        char *paths[RUN_INBOX_FILES_MAX]; /* the host files of the last fill */
        PodmanMount mounts[RUN_INBOX_FILES_MAX];
};

int run_inbox_new(const RunInboxContext *c, RunInbox **ret) {
        RunInbox *b;

        assert(c);
        assert(c->state_dir);
        assert(ret);
        b = calloc(1, sizeof *b);
        if (!b)
                return -ENOMEM;
        b->owner = geteuid() == 0 && c->engine_uid != 0 ? c->engine_uid : (uid_t) -1;
        b->base = path_join(c->state_dir, RUN_INBOX_DIR);
        if (!b->base) {
                free(b);
                return -ENOMEM;
        }
        *ret = b;
        return 0;
}

static void forget_mounts(RunInbox *b) {
        for (size_t i = 0; i < RUN_INBOX_FILES_MAX; i++) {
                free(b->paths[i]);
                b->paths[i] = NULL;
                b->mounts[i] = (PodmanMount){ 0 };
        }
}

RunInbox *run_inbox_free(RunInbox *b) {
        if (!b)
                return NULL;
        forget_mounts(b);
        free(b->base);
        free(b);
        return NULL;
}

const char *run_inbox_base(const RunInbox *b) {
        return b->base;
}

void run_inbox_empty(RunInbox *b, const char *name) {
        _cleanup_free_ char *dir = NULL;
        DIR *d;
        struct dirent *de;

        if (!b || !name || !id_is_valid(name))
                return;
        dir = path_join(b->base, name);
        if (!dir)
                return;
        d = opendir(dir);
        if (!d)
                return; /* none (the usual case for a pooled container), or not ours to read */
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        (void) unlinkat(dirfd(d), de->d_name, 0);
        closedir(d);
        (void) rmdir(dir);
}

static int write_new_file(const char *path, const void *data, size_t size) {
        _cleanup_close_ int fd = -1;

        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        /* Readable by whoever the agent runs as, whatever the umask. */
        if (fchmod(fd, 0644) < 0)
                return -errno;
        return write_all(fd, data, size);
}

int run_inbox_fill(RunInbox *b, const char *name, const PodmanFile *files, size_t n,
                   const PodmanMount **ret_mounts) {
        _cleanup_free_ char *dir = NULL;
        int k;

        assert(b);
        assert(ret_mounts);
        if (!name || !id_is_valid(name) || n > RUN_INBOX_FILES_MAX)
                return -EINVAL;
        run_inbox_empty(b, name); /* what an earlier try left */
        forget_mounts(b);
        dir = path_join(b->base, name);
        if (!dir)
                return -ENOMEM;
        k = mkdir_p_exact(b->base, 0700);
        if (k >= 0 && mkdir(dir, 0700) < 0)
                k = -errno;
        if (k >= 0 && b->owner != (uid_t) -1 && chown(dir, b->owner, (gid_t) -1) < 0)
                k = -errno;
        for (size_t i = 0; k >= 0 && i < n; i++) {
                const char *slash = strrchr(files[i].path, '/');

                if (!slash || !id_is_valid(slash + 1) || (files[i].mode & S_IFMT)) {
                        k = -EINVAL;
                        break;
                }
                b->paths[i] = path_join(dir, slash + 1);
                if (!b->paths[i]) {
                        k = -ENOMEM;
                        break;
                }
                k = write_new_file(b->paths[i], files[i].data, files[i].size);
                b->mounts[i] = (PodmanMount){ .type = PODMAN_MOUNT_BIND,
                                              .source = b->paths[i],
                                              .target = files[i].path,
                                              .read_only = true };
        }
        if (k < 0) {
                run_inbox_empty(b, name);
                forget_mounts(b);
                return k;
        }
        *ret_mounts = b->mounts;
        return 0;
}

/* The user of the process answering on the engine's socket (SO_PEERCRED), (uid_t) -1 when that
 * cannot be told. With socket activation it is the service manager's: root for the system's,
 * the user for a user's. */
static uid_t engine_user(const char *socket_path) {
        _cleanup_close_ int fd = -1;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        struct ucred cred = {};
        socklen_t len = sizeof cred;

        if (!socket_path || strlen(socket_path) >= sizeof sa.sun_path)
                return (uid_t) -1;
        memcpy(sa.sun_path, socket_path, strlen(socket_path) + 1);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0 ||
            getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
                return (uid_t) -1;
        return cred.uid;
}

int run_inbox_engine_sees(const char *state_dir, PodmanClient *podman, uid_t *ret_engine_uid, char *why,
                          size_t why_size) {
        _cleanup_free_ char *base = path_join(state_dir, RUN_INBOX_DIR), *real = NULL, *probe = NULL;
        char name[ID128_STRING_MAX + 8] = "probe-";
        uid_t uid, owner;
        Error e = ERROR_INIT;
        int k;

        assert(state_dir);
        assert(ret_engine_uid);
        assert(why);
        *ret_engine_uid = (uid_t) -1;
        if (!base)
                return -ENOMEM;
        /* aegisd as root, a rootless engine: the directories are given to the engine's user. */
        uid = engine_user(podman_client_socket_path(podman));
        owner = geteuid() == 0 && uid != (uid_t) -1 && uid != 0 ? uid : (uid_t) -1;
        k = mkdir_p_exact(base, 0700);
        if (k >= 0 && owner != (uid_t) -1 && chown(base, owner, (gid_t) -1) < 0)
                k = -errno;
        if (k < 0)
                return k;
        real = realpath(base, NULL);
        if (!real)
                return -errno;
        k = random_id(name + strlen(name));
        probe = k >= 0 ? path_join(real, name) : NULL;
        if (!probe)
                return k < 0 ? k : -ENOMEM;
        if (mkdir(probe, 0700) < 0)
                return -errno;
        if (owner != (uid_t) -1)
                (void) chown(probe, owner, (gid_t) -1);
        k = podman_engine_sees_dir(podman, probe, &e);
        (void) rmdir(probe);
        if (k > 0) {
                *ret_engine_uid = uid;
                return 1;
        }
        snprintf(why, why_size, "%s %s: %s",
                 k == 0 ? "the engine does not see" : "cannot tell whether the engine sees", real,
                 e.message[0] ? e.message : strerror(-k));
        return 0;
}
