/* volume-userns.h — where a volume's files are worked on: in this process, or, with a rootless
 * engine, in the engine's user namespace.
 *
 * With rootless Podman the agent's ids are the engine user's subordinate ids; an unprivileged
 * aegisd (the engine's own user) can neither chown a volume to them nor write or remove what
 * the agent made in its directories. That user owns the engine's user namespace, though, and
 * the owner of a user namespace may join it with every capability over the ids it maps, as
 * `podman unshare` does. So every file operation on a volume goes through volume_userns_call():
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

/* What a program that works on volumes does at start, once it knows its engine: with a
 * rootless Podman (not Docker, whose rootless mode has no per-container mapping) and this
 * process not root, sets the namespace of the pause process in pid_file (NULL: the default
 * above). 1 when set, 0 when volumes stay in this process, -ENOMEM. */
int volume_userns_setup(bool engine_rootless, bool engine_docker, const char *pid_file);

/* The pid file set, or NULL. */
const char *volume_userns_pid_file(void);

/* Runs fn (see above). out may be NULL when out_size is 0, ret_fd NULL when fn hands back no
 * descriptor. -ENOLINK when the namespace cannot be joined (no pid file, no such process,
 * not ours to join): volume_userns_strerror() says why and what to do. */
int volume_userns_call(volume_userns_fn fn, void *userdata, void *out, size_t out_size, int *ret_fd);

/* strerror(-k), except for -ENOLINK: why this thread's last volume_userns_call() could not
 * join, with the fix ("cannot join the rootless engine's user namespace (…): …; …"). */
const char *volume_userns_strerror(int k);
