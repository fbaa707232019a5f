/* volume-userns.h — where a volume's files are worked on, and whose they are: in this process,
 * or, with a rootless Podman older than 4.3, in the engine's user namespace.
 *
 * With rootless Podman the agent's ids are the engine user's subordinate ids; an unprivileged
 * aegisd (the engine's own user) can neither chown a volume to them nor write or remove what
 * the agent made in its directories. From Podman 4.3 on, a container with a bind-mode volume
 * runs keep-id with the agent's uid:gid, so the agent IS the engine's user on the host and
 * its files are aegisd's own (VOLUME_USERNS_KEEP_ID): nothing below is needed. Before 4.3,
 * the user owns the engine's user namespace, and the owner of a user namespace may join it
 * with every capability over the ids it maps, as `podman unshare` does; every file operation
 * on a volume goes through volume_userns_call():
 *   - without a namespace set (rootful, or aegisd is root), fn runs here, as it always did;
 *   - with one (volume_userns_set()), fn runs in a forked child (single-threaded, so setns()
 *     may join a user namespace) that joins the namespace of the engine's pause process, whose
 *     pid the engine records in a file; ids fn passes to chown are that namespace's (the
 *     agent's uid u is BASE+u there, as podman.h maps containers), and the child sees the
 *     parent's memory and descriptors as they were at the call;
 *   - what fn hands back travels by value (out, at most VOLUME_USERNS_OUT_MAX bytes) and as
 *     one descriptor, which stays usable in the parent (permission is checked at open);
 *   - nested calls (fn calling a volume function) run in place: the child is already inside.
 * The pause process is looked up at each call, so an engine that started after aegisd, or
 * whose pause process was replaced, is found. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <unistd.h>

#define VOLUME_USERNS_OUT_MAX 4096

/* fn runs with out (out_size bytes, zeroed) to fill and *ret_fd (-1) to hand a descriptor
 * back; returns a negative errno or a value ≥ 0, which volume_userns_call() returns. */
typedef int (*volume_userns_fn)(void *userdata, void *out, size_t out_size, int *ret_fd);

/* Volumes are worked on in the user namespace of the process whose pid pid_file holds (NULL:
 * in this process again). Process-wide: set once at start-up, before any volume is touched. */
int volume_userns_set(const char *pid_file);

/* Where rootless Podman records its pause process: $XDG_RUNTIME_DIR/libpod/tmp/pause.pid
 * (/run/user/<uid>/… without XDG_RUNTIME_DIR), malloc'd. */
char *volume_userns_engine_pid_file(void);

/* Where a volume's files are worked on, and whose they are. */
typedef enum VolumeUserns {
        /* Rootful, Docker, or this process is root: here; a volume is its agent's uid:gid
         * shifted by the containers' mapping (SupervisorOptions.volume_uid_shift). */
        VOLUME_USERNS_HOST,
        /* Rootless Podman ≥ 4.3 and this process its user: here too; a container with a
         * bind-mode volume runs keep-id with the agent's uid:gid (podman.h), so the agent is
         * this process's user on the host and a volume is this process's own. Nothing joins
         * the engine's namespace, which a sandboxed service (PrivateUsers=, a seccomp filter
         * without setns or chown) could not do. */
        VOLUME_USERNS_KEEP_ID,
        /* Rootless Podman < 4.3: in the engine's namespace (volume_userns_call()). */
        VOLUME_USERNS_ENGINE,
} VolumeUserns;

/* Whose a bind-mode volume's files are on the host (the namespace they are worked on in). */
typedef struct VolumeOwner {
        VolumeUserns mode;
        uint32_t shift; /* VOLUME_USERNS_HOST and _ENGINE: the agent's uid:gid plus this */
} VolumeOwner;

static inline uid_t volume_owner_uid(const VolumeOwner *o, uid_t agent_uid) {
        return o->mode == VOLUME_USERNS_KEEP_ID ? getuid() : agent_uid + o->shift;
}
static inline gid_t volume_owner_gid(const VolumeOwner *o, gid_t agent_gid) {
        return o->mode == VOLUME_USERNS_KEEP_ID ? getgid() : agent_gid + o->shift;
}

/* What a program that works on volumes does at start, once it knows its engine: decides the
 * above (engine_keep_id: PodmanVersion.keep_id_uid) and for VOLUME_USERNS_ENGINE sets the
 * namespace of the pause process in pid_file (NULL: the default above). The mode, or
 * -ENOMEM. */
int volume_userns_setup(bool engine_rootless, bool engine_docker, bool engine_keep_id, const char *pid_file);

/* The pid file set, or NULL. */
const char *volume_userns_pid_file(void);

/* Runs fn (see above). out may be NULL when out_size is 0, ret_fd NULL when fn hands back no
 * descriptor. -ENOLINK when the namespace cannot be joined (no pid file, no such process,
 * not ours to join): volume_userns_strerror() says why and what to do. */
int volume_userns_call(volume_userns_fn fn, void *userdata, void *out, size_t out_size, int *ret_fd);

/* strerror(-k), except for -ENOLINK: why this thread's last volume_userns_call() could not
 * join, with the fix ("cannot join the rootless engine's user namespace (…): …; …"). */
const char *volume_userns_strerror(int k);
