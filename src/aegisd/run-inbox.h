/* run-inbox.h — an iteration's own files (its input, the feedback of the one before) handed to
 * its container as read-only bind mounts of a private host directory, as a part a Run owns
 * (HACKING.md, "An iteration's parts").
 *
 * The engine's archive upload costs it about 100 ms of CPU per container (Podman 4.3 re-executes
 * itself to unpack in a chroot): more than create, start and remove together. A bind mount costs
 * nothing more than the container's other mounts. The directory is
 * <state>/inbox/<container name>/, mode 0700 like its parent: no other host user reads what an
 * agent was given. It is emptied once the container has started (its mounts hold the files
 * from then on), or when the iteration ends without a start; named after the container, so
 * that a Run re-attached after a restart empties it too.
 *
 * What must stay true: the mounts run_inbox_fill() gives stay valid until the next fill, empty
 * or free; a file of the inbox is never followed through a link (O_NOFOLLOW, O_EXCL). */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#include "macros.h"
#include "podman.h"

#define RUN_INBOX_DIR "inbox" /* under the state directory */

typedef struct RunInbox RunInbox;

typedef struct RunInboxContext {
        const char *state_dir; /* copied */
        /* What run_inbox_engine_sees() found: aegisd as root gives the engine's user the
         * directories it makes ((uid_t) -1: nobody). */
        uid_t engine_uid;
} RunInboxContext;

int run_inbox_new(const RunInboxContext *c, RunInbox **ret);
RunInbox *run_inbox_free(RunInbox *b); /* does not empty it: the Run decides (run_inbox_empty) */
DEFINE_TRIVIAL_CLEANUP_FUNC(RunInbox *, run_inbox_free);

/* Writes files (their path in the container, data and mode; uid and gid are not kept: the
 * files are aegisd's, readable by all in the container) into the inbox of container name,
 * replacing what an earlier try left, and gives one read-only bind mount per file. No
 * directories (S_IFDIR). -errno when the directory or a file cannot be written. */
int run_inbox_fill(RunInbox *b, const char *name, const PodmanFile *files, size_t n,
                   const PodmanMount **ret_mounts);

/* Removes the inbox of container name and its files; nothing when there is none. */
void run_inbox_empty(RunInbox *b, const char *name);

const char *run_inbox_base(const RunInbox *b); /* <state>/inbox */

/* Does the engine see the files aegisd writes into <state_dir>/inbox, and can it enter it? Podman
 * makes an empty directory of a bind mount's missing source, so an engine in another mount
 * namespace or on another host would hand the agent that instead of its input, silently. Made
 * sure of once, at start, with a probe directory there (podman_engine_sees_dir()). aegisd as
 * root gives the directory to a rootless engine's user (the peer of its socket). 1: it does,
 * *ret_engine_uid is that user; 0: it does not, or that cannot be told (why says which: the
 * files are uploaded then); -errno when the directory cannot be made. */
int run_inbox_engine_sees(const char *state_dir, PodmanClient *podman, uid_t *ret_engine_uid, char *why,
                          size_t why_size);
