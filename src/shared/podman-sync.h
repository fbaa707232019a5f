/* podman-sync.h — the synchronous wrappers' common shape: run one async operation on a private
 * client (own sd-event loop, same socket) until its callback has run. Internal. */
#pragma once

#include <string.h>

#include "podman-internal.h"

typedef struct PodmanSync {
        bool done;
        int r;
        Error e;
        void *result; /* where the operation-specific callback copies its result */
} PodmanSync;

static inline void podman_sync_done(int r, const Error *e, void *userdata) {
        PodmanSync *sync = userdata;

        sync->r = r;
        if (r < 0 && e)
                sync->e = *e;
        sync->done = true;
}

#define PODMAN_SYNC_BEGIN(c, e)                                   \
        _cleanup_(podman_client_freep) PodmanClient *priv = NULL; \
        PodmanSync sync = { 0 };                                  \
        int r;                                                    \
        if (!(c))                                                 \
                return error_set(e, -EINVAL, "no Podman client"); \
        r = podman_client_clone_private(c, &priv);                \
        if (r < 0)                                                \
                return error_set(e, r, "cannot set up a Podman API client: %s", strerror(-r));

#define PODMAN_SYNC_END(c, e)                                                                           \
        if (r < 0)                                                                                      \
                return error_set(e, r, "cannot start a Podman API call: %s", strerror(-r));             \
        r = podman_client_run_until(priv, &sync.done);                                                  \
        if (r < 0)                                                                                      \
                return error_set(e, r, "the event loop of a Podman API call failed: %s", strerror(-r)); \
        if (priv->have_version && !(c)->have_version)                                                   \
                podman_client_record_version(c, &priv->version);                                        \
        r = sync.r;                                                                                     \
        if (r < 0 && (e))                                                                               \
                *(e) = sync.e;
