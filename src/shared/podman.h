/* podman.h — a client for Podman's (and Docker's) Docker-compatible API over its unix socket.
 *
 * Concurrency model. Every operation is a libcurl transfer driven by libcurl's multi interface,
 * integrated into an sd-event loop the way systemd's curl-util.c does it: curl tells us which
 * sockets to watch (CURLMOPT_SOCKETFUNCTION → sd_event_add_io) and when to wake up
 * (CURLMOPT_TIMERFUNCTION → sd_event_add_time). So the daemon runs any number of engine calls
 * — including the long ones: wait, logs --follow, events, image pulls — concurrently on its one
 * event loop, single-threaded, without blocking it. We chose this over worker threads because
 * the supervisor is an sd-event state machine already: results arrive as callbacks on the same
 * thread that owns the execution state, so nothing needs a lock, and cancelling an operation is
 * just removing a curl handle.
 *
 *  - podman_*_async(): starts the operation and returns at once; the callback runs later from
 *    the client's sd-event loop, exactly once, unless the operation is cancelled first with
 *    podman_op_cancel() (then never). The PodmanOp is freed right after its callback returns:
 *    forget any pointer to it inside the callback. A NULL ret_op lets the client own it.
 *  - The synchronous functions (no suffix) are for the CLI and aegis-reaper: each one runs the
 *    async operation on a private sd-event loop until it finishes. They are safe to call from
 *    anywhere, including from inside a callback of the client's own loop (they never touch it),
 *    but they block the calling thread for up to the operation's time bound.
 *  - A PodmanClient is not thread-safe: use it from the thread running its event loop.
 *
 * Every operation is bounded in time (connect timeout plus a whole-transfer timeout); the
 * caller passes the bound for the long ones. Errors reach the caller in an Error whose message
 * carries the engine's own message and HTTP status ("…: HTTP 404: no such container"); a
 * missing socket or a refused permission produce the actionable messages of the operator
 * documentation (path, `systemctl --user enable --now podman.socket`, lingering, ownership).
 * Error.http_status is set to what an API in front of us should answer: the engine's 4xx as is
 * (404 no such container/image, 409 conflict), 502 for an engine 5xx, 503 when the engine
 * cannot be reached, 504 on a timeout.
 *
 * An engine that cannot be reached (no socket, nobody listening, the connection broke during
 * the call) fails with -ECONNREFUSED or -ECONNRESET, never -ENOENT (which always means "no such
 * container/image"): podman_error_unreachable() tells these apart, so callers can wait for the
 * engine to come back instead of drawing conclusions about containers.
 *
 * The API version is part of every path (/v1.41/...): Podman ≥ 3 and Docker ≥ 20.10 serve it. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <systemd/sd-event.h>

#include "error.h"
#include "macros.h"
#include "spec-enums.h"

struct json_object;

#define PODMAN_API_VERSION "1.41"
/* Default bound for short calls (ping, inspect, create, start, remove, ...). */
#define PODMAN_DEFAULT_TIMEOUT_USEC (30 * UINT64_C(1000000))
/* Bound for create and start: the engine sets up storage and network then, and serialises
 * that work, so under load (many iterations starting at once) they take much longer. */
#define PODMAN_START_TIMEOUT_USEC (120 * UINT64_C(1000000))
/* How long establishing the connection may take (socket-activated podman.service start-up). */
#define PODMAN_CONNECT_TIMEOUT_USEC (10 * UINT64_C(1000000))

struct json_object;
typedef struct PodmanClient PodmanClient;
typedef struct PodmanOp PodmanOp;

typedef enum PodmanEngine {
        PODMAN_ENGINE_UNKNOWN,
        PODMAN_ENGINE_PODMAN,
        PODMAN_ENGINE_DOCKER,
        _PODMAN_ENGINE_MAX,
} PodmanEngine;

/* What GET /version told us; recorded in the client, behaviour adapts to it. */
typedef struct PodmanVersion {
        PodmanEngine engine;
        char version[64]; /* "4.3.1" */
        char api_version[16]; /* "1.41" */
        char os_arch[64]; /* "linux/amd64" */
        unsigned major, minor, patch;
        /* Whether the engine itself translates "host-gateway" in ExtraHosts (Docker ≥ 20.10,
         * Podman ≥ 5.0). When false we put the host's address there ourselves. */
        bool resolves_host_gateway;
        /* Whether the engine takes a user namespace mode "keep-id:uid=U,gid=G" (Podman ≥ 4.3):
         * the container's U:G is the engine's own user, its other ids subordinate ones. */
        bool keep_id_uid;
} PodmanVersion;

const char *podman_engine_to_string(PodmanEngine e);

/* True for the errors that mean the engine could not be reached (see above). */
bool podman_error_unreachable(int r); /* "podman", "docker", "unknown" */

/* A client for the API socket at socket_path (an absolute path; config resolves it from
 * runtime.container_socket_path or CONTAINER_HOST). event: the loop async operations run on;
 * NULL gives the client a private loop (enough for the synchronous functions). */
int podman_client_new(const char *socket_path, sd_event *event, PodmanClient **ret);
/* Cancels every pending operation (no callbacks run) and frees the client. */
PodmanClient *podman_client_free(PodmanClient *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(PodmanClient *, podman_client_free);
const char *podman_client_socket_path(const PodmanClient *c);
/* The version recorded by the last successful podman_version*(), or NULL. */
const PodmanVersion *podman_client_version(const PodmanClient *c);
/* Number of operations in flight (for idle-exit decisions and tests). */
size_t podman_client_pending(const PodmanClient *c);

/* Stops an operation; its callback will not run. No-op on NULL. Must not be called from
 * inside that same operation's streaming callback: return a negative value there instead. */
void podman_op_cancel(PodmanOp *op);

typedef void (*podman_done_fn)(int r, const Error *e, void *userdata);

/* GET /_ping: the engine answers "OK". timeout_usec 0 = PODMAN_DEFAULT_TIMEOUT_USEC. */
int podman_ping(PodmanClient *c, uint64_t timeout_usec, Error *e);
int podman_ping_async(PodmanClient *c, uint64_t timeout_usec, podman_done_fn cb, void *userdata,
                      PodmanOp **ret_op);

/* GET /version; also records the result in the client. */
typedef void (*podman_version_fn)(int r, const PodmanVersion *v, const Error *e, void *userdata);
int podman_version(PodmanClient *c, PodmanVersion *ret, Error *e);
int podman_version_async(PodmanClient *c, podman_version_fn cb, void *userdata, PodmanOp **ret_op);
/* Parses a GET /version answer (exposed for tests and the fuzzer). */
int podman_version_parse(const char *json, size_t size, PodmanVersion *ret);

/* What GET /libpod/info tells about the limits the engine can enforce. */
typedef struct PodmanInfo {
        bool rootless;
        unsigned cgroup_version; /* 1 or 2; 0 when the engine did not say */
        bool cpu, memory, pids; /* the controller is available to the engine's containers */
} PodmanInfo;

typedef void (*podman_info_fn)(int r, const PodmanInfo *i, const Error *e, void *userdata);
int podman_info(PodmanClient *c, PodmanInfo *ret, Error *e);
int podman_info_async(PodmanClient *c, uint64_t timeout_usec, podman_info_fn cb, void *userdata,
                      PodmanOp **ret_op);
/* Parses a GET /libpod/info answer (exposed for tests and the fuzzer). */
int podman_info_parse(const char *json, size_t size, PodmanInfo *ret);

/* Does the engine see the host directory dir (absolute) as the caller does? Podman makes an
 * empty directory of a bind mount's missing source, so a caller whose files the engine does
 * not see (another mount namespace or host) or cannot enter would mount nothing, silently.
 * Asked by creating a container whose root file system is dir (libpod's rootfs: the engine
 * stats it first), never started and removed at once. 1: it sees it; 0: it does not (e says
 * what the engine answered); < 0: it cannot tell (Docker has no such create, the engine does
 * not answer). Synchronous: for startup. */
int podman_engine_sees_dir(PodmanClient *c, const char *dir, Error *e);
/* The limits of an agent container that do not hold with this engine, "memory, pids, cpu"
 * (into buf), and why with what to do (a static string); NULL when every limit holds. */
const char *podman_info_unenforced_limits(const PodmanInfo *i, char *buf, size_t size);

/* The address containers reach the host at, used for "host-gateway" when the engine does not
 * translate it: the source address of the host's default route (reachable from bridged and
 * from rootless slirp4netns/pasta containers), else the first non-loopback IPv4 address. */
#define PODMAN_ADDRESS_MAX 46
int podman_host_gateway_address(char ret[PODMAN_ADDRESS_MAX], Error *e);

/* ========================================================================================
 * Images
 * ======================================================================================== */

/* ImagePullPolicy and its words: spec-enums.h. */

typedef struct PodmanImage {
        char id[80]; /* "sha256:…" */
        char *reference; /* what was asked for */
        uint64_t size_bytes;
} PodmanImage;
void podman_image_done(PodmanImage *i); /* frees the members */

/* GET /images/{name}/json. r = -ENOENT (with e) when the image is not present. */
typedef void (*podman_image_fn)(int r, const PodmanImage *image, const Error *e, void *userdata);
int podman_image_inspect(PodmanClient *c, const char *reference, PodmanImage *ret, Error *e);
int podman_image_inspect_async(PodmanClient *c, const char *reference, podman_image_fn cb, void *userdata,
                               PodmanOp **ret_op);

/* Pull progress, summed over the layers the engine has named so far (the compat endpoint
 * streams docker-style {"status", "id", "progressDetail": {"current", "total"}} per layer):
 * status is the line's ("Pulling fs layer", "Downloading", "Download complete", …; "pulling"
 * when the pull is requested), layer its layer id ("" for none). bytes_total counts the
 * layers whose size the engine said; bytes_done never goes down (a finished layer counts its
 * whole size). layers_done counts those downloaded or already present; Podman counts the
 * image's configuration blob as one more "layer". */
typedef struct PodmanPullProgress {
        const char *status;
        const char *layer;
        uint64_t bytes_done;
        uint64_t bytes_total;
        unsigned layers_done;
        unsigned layers_total;
} PodmanPullProgress;
typedef void (*podman_pull_progress_fn)(const PodmanPullProgress *progress, void *userdata);

/* Makes the image present according to policy:
 *   IfNotPresent — inspect; pull only when missing.   Always — pull (then inspect).
 *   Never — inspect; a missing image fails with -ENOENT and a message saying to pull it
 *           (`podman pull …`) or change image_pull_policy; nothing is pulled.
 * The pull (POST /images/create) is bounded by timeout_usec (runtime.image_pull_timeout_secs),
 * sends X-Registry-Auth for the image's registry from the first of $REGISTRY_AUTH_FILE,
 * $XDG_RUNTIME_DIR/containers/auth.json, ~/.docker/config.json that has it, and reports
 * progress as it streams (progress may be NULL; it is first called with status "pulling" and
 * no layer when the pull is requested — for Always from inside the _async call itself —
 * so callers know a pull happened even when it fails before the engine says anything). An error the engine reports inside the
 * stream (HTTP 200 then {"error": …}) fails the pull with that message. */
int podman_image_ensure(PodmanClient *c, const char *reference, ImagePullPolicy policy,
                        uint64_t timeout_usec, podman_pull_progress_fn progress, void *userdata,
                        PodmanImage *ret, Error *e);
int podman_image_ensure_async(PodmanClient *c, const char *reference, ImagePullPolicy policy,
                              uint64_t timeout_usec, podman_pull_progress_fn progress, podman_image_fn cb,
                              void *userdata, PodmanOp **ret_op);

/* The X-Registry-Auth value (base64url JSON) for reference's registry, or NULL in *ret when
 * no credentials are configured (exposed for tests). */
int podman_registry_auth_header(const char *reference, char **ret, Error *e);

/* ========================================================================================
 * Containers
 * ======================================================================================== */

#define PODMAN_LABEL_MANAGED "aegis.managed"
#define PODMAN_LABEL_EXECUTION_ID "aegis.execution_id"
#define PODMAN_LABEL_ITERATION "aegis.iteration"
#define PODMAN_LABEL_RUNTIME "aegis.runtime"
#define PODMAN_LABEL_KEEP_ON_FAILURE "aegis.keep_container_on_failure"
/* The id of the store (store_id()) of the daemon that created it: containers and engine volumes. */
#define PODMAN_LABEL_STORE "aegis.store"
#define PODMAN_LABEL_POOL "aegis.pool" /* a warm pool's container: the agent's id */
#define PODMAN_LABEL_POOL_OWNER "aegis.pool_owner" /* the aegisd that keeps it: process_token() */
#define PODMAN_POOL_NAME_PREFIX "aegis-pool-"

typedef enum PodmanMountType {
        PODMAN_MOUNT_BIND, /* source = host path */
        PODMAN_MOUNT_VOLUME, /* source = volume name; driver/driver_options create it on first use */
        _PODMAN_MOUNT_TYPE_MAX,
} PodmanMountType;

typedef struct PodmanMount {
        PodmanMountType type;
        const char *source;
        const char *target; /* absolute path in the container */
        bool read_only;
        /* VOLUME: sent as VolumeOptions.DriverConfig, which Docker applies when it creates the
         * volume on first use but Podman 4.3 ignores (the volume is created plain): for volumes
         * with options (NFS), podman_volume_create() them first and mount by name. */
        const char *driver; /* "local"; NULL = none */
        char **driver_options; /* strv of "key=value" ("type=nfs", "o=addr=…", "device=:/t/v") */
} PodmanMount;

/* A small file placed into the container before it starts (PUT /containers/{id}/archive with
 * a tar we build; parent directories are created 0755 root-owned). Works on read-only root
 * filesystems and for remote engines, unlike a bind-mounted host file. */
typedef struct PodmanFile {
        const char *path; /* absolute, e.g. "/run/aegis/input.json" */
        const void *data;
        size_t size; /* ≤ PODMAN_FILE_MAX */
        mode_t mode; /* 0 = 0644; S_IFDIR | perms: a directory (no data) */
        uid_t uid;
        gid_t gid;
} PodmanFile;
#define PODMAN_FILE_MAX (64U * 1024U * 1024U)

typedef struct PodmanContainerSpec {
        const char *execution_id; /* required, id_is_valid(); name is aegis-<execution>-<iteration> */
        unsigned iteration; /* ≥ 1 */
        const char *store_id; /* label aegis.store; NULL or "" = no such label */
        const char *image; /* required */
        char **cmd; /* strv argv, NULL = the image's default */
        char **env; /* strv "NAME=value" */
        const char *user; /* "uid:gid", NULL = the image's user */
        const char *workdir; /* NULL = the image's */
        uint64_t nano_cpus; /* 0 = no CPU limit */
        uint64_t memory_bytes; /* 0 = no limit; MemorySwap is set equal (no swap beyond it) */
        uint64_t pids_limit; /* 0 = engine default */
        const char *network_mode; /* NULL = engine default; see podman_network_mode() */
        bool read_only_rootfs;
        bool keep_container_on_failure;
        /* Address for host.docker.internal / host.containers.internal when the engine does not
         * translate host-gateway itself; NULL = podman_host_gateway_address(). */
        const char *host_gateway;
        /* host.containers.internal and host.docker.internal name the container's own loopback
         * (where aegis-bootstrap's relay listens), with or without a network; Docker refuses
         * extra hosts without a network, so there they are left out then. */
        bool host_names_loopback;
        const PodmanMount *mounts;
        size_t n_mounts;
        const PodmanFile *files; /* placed before start by podman_container_create*() */
        size_t n_files;
        /* A user namespace of its own: the container's ids 0…PODMAN_USERNS_SIZE-1 are the
         * engine's userns_base… (uid and gid alike), so no agent id is a host user's. false =
         * the engine's namespace (the identity for rootful Podman). Docker has no
         * per-container mapping (its daemon's userns-remap does it): ignored there. */
        bool userns;
        uint32_t userns_base;
        /* Instead of userns: the container's keep_id_uid:keep_id_gid are the engine's own user
         * (keep-id, PodmanVersion.keep_id_uid), its other ids the engine's subordinate ones;
         * how a rootless engine's agent shares a bind-mode volume with aegisd (volume-userns.h). */
        bool userns_keep_id;
        uint32_t keep_id_uid, keep_id_gid;
        /* A warm pool's container (run-pool.c): non-NULL = created for no execution yet.
         * execution_id is then the pool member's own id; the name is aegis-pool-<it>, and the
         * labels aegis.pool=<pool_agent_id> and aegis.pool_owner=<pool_owner> (a
         * process_token()) replace aegis.execution_id and aegis.iteration. */
        const char *pool_agent_id;
        const char *pool_owner;
} PodmanContainerSpec;

/* How many ids a container's own user namespace maps (podman_container_create_body). */
#define PODMAN_USERNS_SIZE 65536U

/* NetworkMode for a manifest's network policy: "none" for deny/none, else the configured
 * runtime.network (NULL = engine default). policy_mode: "allow", "deny", "none" or NULL. */
const char *podman_network_mode(const char *policy_mode, const char *configured);

/* The container name for an execution and iteration ("aegis-<execution>-<iteration>"). */
int podman_container_name(const char *execution_id, unsigned iteration, char **ret);
/* The POST /containers/create body for spec (exposed for tests); gateway = address for
 * host-gateway or NULL to leave "host-gateway" to the engine. */
int podman_container_create_body(const PodmanContainerSpec *spec, PodmanEngine engine, const char *gateway,
                                 char **ret, Error *e);
/* A ustar archive holding files (exposed for tests and the fuzzer's corpus). */
int podman_tar_build(const PodmanFile *files, size_t n_files, char **ret, size_t *ret_size, Error *e);

/* POST /containers/create?name=…, then PUT the spec's files. On any failure after the create,
 * the container is removed again before the callback runs, so nothing leaks. id: 64 hex. */
typedef void (*podman_create_fn)(int r, const char *id, const Error *e, void *userdata);
int podman_container_create(PodmanClient *c, const PodmanContainerSpec *spec, char **ret_id, Error *e);
int podman_container_create_async(PodmanClient *c, const PodmanContainerSpec *spec, podman_create_fn cb,
                                  void *userdata, PodmanOp **ret_op);

/* PUT /containers/{id}/archive?path=/ (files as above), for a created container. */
int podman_container_put_files(PodmanClient *c, const char *id, const PodmanFile *files, size_t n_files,
                               Error *e);
int podman_container_put_files_async(PodmanClient *c, const char *id, const PodmanFile *files,
                                     size_t n_files, podman_done_fn cb, void *userdata, PodmanOp **ret_op);

/* POST /containers/{id}/wait: the exit code once the container stops. timeout_usec bounds the
 * wait (the iteration's timeout plus a margin; the supervisor kills the container at its own
 * timeout and the wait then returns 137).
 *
 * podman_container_wait_start*(): the way to run a created container: starts it and reports its
 * exit code, without a window in which a quick exit could be missed. On Docker the wait
 * (condition next-exit) is issued BEFORE start, because it blocks and Docker registers the
 * waiter before it answers the headers; POST /start goes out when the headers arrive. On Podman
 * that order is racy: Podman 4.3 flushes the headers first and subscribes to the "died" event
 * afterwards, so a container that exits at once is missed and the wait hangs (measured here).
 * There we start first, then wait for the state "exited", which Podman answers with the
 * recorded exit code even when the container has already exited. A failed start fails the
 * operation with the start's error.
 *
 * podman_container_wait*(): waits for a created or running container to exit; may be issued
 * before start (the supervisor's order) or after (reaper, CLI). Docker: condition not-running.
 * Podman: while the container is still "created" it is watched with inspect every 250 ms; once
 * started, Podman's own /libpod/…/wait for the state "exited" is used, because the compatible
 * not-running can return while the container is "stopped" but its exit code not yet recorded
 * (reporting 0 for a container that exited 3: measured with Podman 4.3). The exit code is
 * then confirmed by inspect; a container the engine lost track of (state back to "created"
 * after it ran) fails with -EIO instead of a false 0. timeout_usec 0 = no bound. Call
 * podman_version() once first when the engine may be Docker (unknown is taken as Podman).
 *
 * podman_container_wait_started_async(): the same for a container known to have been
 * started (its start answered, or inspect saw it leave "created"): Podman's wait goes out
 * at once, without the inspect that looks for "created" first. */
typedef void (*podman_wait_fn)(int r, int64_t exit_code, const Error *e, void *userdata);
int podman_container_wait_start(PodmanClient *c, const char *id, uint64_t timeout_usec,
                                int64_t *ret_exit_code, Error *e);
int podman_container_wait_start_async(PodmanClient *c, const char *id, uint64_t timeout_usec,
                                      podman_wait_fn cb, void *userdata, PodmanOp **ret_op);
int podman_container_wait(PodmanClient *c, const char *id, uint64_t timeout_usec, int64_t *ret_exit_code,
                          Error *e);
int podman_container_wait_async(PodmanClient *c, const char *id, uint64_t timeout_usec, podman_wait_fn cb,
                                void *userdata, PodmanOp **ret_op);
int podman_container_wait_started_async(PodmanClient *c, const char *id, uint64_t timeout_usec,
                                        podman_wait_fn cb, void *userdata, PodmanOp **ret_op);

/* POST /containers/{id}/start (already running: success). */
int podman_container_start(PodmanClient *c, const char *id, Error *e);
int podman_container_start_async(PodmanClient *c, const char *id, podman_done_fn cb, void *userdata,
                                 PodmanOp **ret_op);
/* POST /containers/{id}/stop?t=timeout_secs: SIGTERM, SIGKILL after timeout_secs (already
 * stopped: success). The call is bounded by timeout_secs plus a margin. */
int podman_container_stop(PodmanClient *c, const char *id, unsigned timeout_secs, Error *e);
int podman_container_stop_async(PodmanClient *c, const char *id, unsigned timeout_secs, podman_done_fn cb,
                                void *userdata, PodmanOp **ret_op);
/* POST /containers/{id}/kill?signal=SIG (NULL = SIGKILL). Not running: -EBUSY (HTTP 409). */
int podman_container_kill(PodmanClient *c, const char *id, const char *signal, Error *e);
int podman_container_kill_async(PodmanClient *c, const char *id, const char *signal, podman_done_fn cb,
                                void *userdata, PodmanOp **ret_op);
/* DELETE /containers/{id}?force=1&v=1 (anonymous volumes too). Already gone: success. */
int podman_container_remove(PodmanClient *c, const char *id, Error *e);
int podman_container_remove_async(PodmanClient *c, const char *id, podman_done_fn cb, void *userdata,
                                  PodmanOp **ret_op);

typedef enum PodmanContainerStatus {
        PODMAN_STATUS_UNKNOWN,
        PODMAN_STATUS_CREATED,
        PODMAN_STATUS_RUNNING,
        PODMAN_STATUS_PAUSED,
        PODMAN_STATUS_RESTARTING,
        PODMAN_STATUS_REMOVING,
        PODMAN_STATUS_EXITED,
        PODMAN_STATUS_DEAD,
        _PODMAN_STATUS_MAX,
} PodmanContainerStatus;
const char *podman_container_status_to_string(PodmanContainerStatus s); /* Docker's words */
PodmanContainerStatus podman_container_status_from_string(const char *s); /* UNKNOWN if unknown */

/* What inspect and list tell about one container (strings malloc'd, NULL when absent). */
typedef struct PodmanContainer {
        char *id;
        char *name; /* without the leading '/' */
        char *image;
        PodmanContainerStatus status;
        bool running;
        bool oom_killed; /* inspect only */
        int64_t exit_code; /* inspect only; valid when status is EXITED */
        int64_t pid; /* inspect only; 0 when not running */
        uint64_t created_usec; /* CLOCK_REALTIME, 0 when unknown */
        uint64_t started_usec, finished_usec; /* inspect only */
        char *error; /* inspect only: State.Error */
        /* inspect only: the limits the engine gave the container (HostConfig; 0 = none). */
        uint64_t memory_bytes, nano_cpus, pids_limit;
        /* Our labels, parsed. */
        bool managed; /* aegis.managed=true */
        char *execution_id;
        char *store_id; /* aegis.store, NULL when absent */
        unsigned iteration;
        bool keep_container_on_failure;
        char **labels; /* strv "key=value", all of them */
} PodmanContainer;
void podman_container_done(PodmanContainer *ct); /* frees the members */

/* GET /containers/{id}/json. No such container: -ENOENT. */
typedef void (*podman_inspect_fn)(int r, const PodmanContainer *ct, const Error *e, void *userdata);
int podman_container_inspect(PodmanClient *c, const char *id, PodmanContainer *ret, Error *e);
int podman_container_inspect_async(PodmanClient *c, const char *id, podman_inspect_fn cb, void *userdata,
                                   PodmanOp **ret_op);

/* The limits of spec that the engine did not give the container ct (an inspect answer):
 * 0 when every requested one (memory, pids, cpu) holds, else 1 and buf gets their names
 * ("memory, cpu"). An engine that cannot enforce one drops it from the container's
 * definition, which is what inspect shows. */
int podman_container_limits_differ(const PodmanContainerSpec *spec, const PodmanContainer *ct, char *buf,
                                   size_t size);

/* GET /containers/json?all=1&filters={"label":[…]}: every container (running or not) carrying
 * all the given "key=value" labels (NULL = aegis.managed=true). */
typedef void (*podman_list_fn)(int r, const PodmanContainer *cts, size_t n, const Error *e, void *userdata);
int podman_container_list(PodmanClient *c, char *const *label_filters, PodmanContainer **ret, size_t *ret_n,
                          Error *e);
int podman_container_list_async(PodmanClient *c, char *const *label_filters, podman_list_fn cb,
                                void *userdata, PodmanOp **ret_op);
void podman_container_list_free(PodmanContainer *cts, size_t n);

/* ========================================================================================
 * Logs: GET /containers/{id}/logs (or POST …/attach), demultiplexed
 * ======================================================================================== */

typedef enum PodmanStream {
        PODMAN_STREAM_STDIN = 0,
        PODMAN_STREAM_STDOUT = 1,
        PODMAN_STREAM_STDERR = 2,
} PodmanStream;

/* The marker appended to a stream's buffer when its bound cut it short. */
#define PODMAN_TRUNCATION_MARKER "\n[aegis: output truncated]\n"

/* Called with each chunk as it arrives (a frame may come in several chunks); binary-safe. */
typedef int (*podman_log_chunk_fn)(PodmanStream stream, const void *data, size_t size, void *userdata);

typedef struct PodmanLogOptions {
        bool follow; /* stream until the container stops (start it after issuing this) */
        /* Instead of the logs: POST /containers/{id}/attach?stream=1, what a running container
         * writes from the moment the engine attached, as it writes it, until it stops. (A
         * followed log of Podman 4 polls its file every 250 ms.) Not its past output: read the
         * logs for that. on_attached runs once the engine is attached. */
        bool attach;
        void (*on_attached)(void *userdata); /* attach only; with chunk_userdata */
        bool stdout_, stderr_; /* which streams (both false = both) */
        size_t max_bytes; /* per stream kept in PodmanLogs; 0 = 1 MiB; beyond: marker, dropped */
        uint64_t timeout_usec; /* bound on the whole transfer; 0 = default */
        podman_log_chunk_fn on_chunk; /* optional; returning < 0 stops the stream */
        void *chunk_userdata;
} PodmanLogOptions;

typedef struct PodmanLogs {
        char *out, *err; /* NUL-terminated for convenience; may hold NULs: use the sizes */
        size_t out_size, err_size; /* kept bytes, marker included */
        uint64_t out_total, err_total; /* bytes the container wrote */
        bool out_truncated, err_truncated;
} PodmanLogs;
void podman_logs_done(PodmanLogs *l);

typedef void (*podman_logs_fn)(int r, const PodmanLogs *logs, const Error *e, void *userdata);
int podman_container_logs(PodmanClient *c, const char *id, const PodmanLogOptions *opts, PodmanLogs *ret,
                          Error *e);
int podman_container_logs_async(PodmanClient *c, const char *id, const PodmanLogOptions *opts,
                                podman_logs_fn cb, void *userdata, PodmanOp **ret_op);

/* The frame demultiplexer (exposed for tests and the fuzzer): feed it any split of the byte
 * stream; each payload piece goes to emit in order. Frames: 8-byte header (stream byte 0/1/2,
 * three zero bytes, big-endian u32 length) then the payload. A malformed header is -EBADMSG. */
typedef struct PodmanDemux {
        uint8_t header[8];
        size_t header_len;
        uint8_t stream;
        uint32_t remaining;
        uint64_t frames;
} PodmanDemux;
typedef int (*podman_demux_emit_fn)(PodmanStream stream, const void *data, size_t size, void *userdata);
void podman_demux_init(PodmanDemux *d);
int podman_demux_feed(PodmanDemux *d, const void *data, size_t size, podman_demux_emit_fn emit,
                      void *userdata);
/* At end of stream: -EBADMSG when a frame was cut off in the middle. */
int podman_demux_finish(const PodmanDemux *d);

/* ========================================================================================
 * Stats: GET /containers/{id}/stats?stream=false, normalised over cgroups v1 and v2
 * ======================================================================================== */

typedef struct PodmanStats {
        /* Each value comes with a flag: false means the engine did not report it or reported a
         * zero that cannot be real (cgroup controllers not delegated): unknown, not 0. */
        uint64_t cpu_usage_nsec;
        bool cpu_known;
        uint64_t memory_bytes; /* usage minus page cache (v1 total_cache, v2 inactive_file) */
        bool memory_known;
        uint64_t memory_limit_bytes;
        bool memory_limit_known;
        uint64_t pids;
        bool pids_known;
        uint64_t read_usec; /* CLOCK_REALTIME of the sample, 0 if unknown */
} PodmanStats;

int podman_stats_parse(const char *json, size_t size, PodmanStats *ret);
typedef void (*podman_stats_fn)(int r, const PodmanStats *stats, const Error *e, void *userdata);
int podman_container_stats(PodmanClient *c, const char *id, PodmanStats *ret, Error *e);
int podman_container_stats_async(PodmanClient *c, const char *id, podman_stats_fn cb, void *userdata,
                                 PodmanOp **ret_op);

/* ========================================================================================
 * Events: GET /events?filters=…, one JSON object per line
 * ======================================================================================== */

typedef struct PodmanEvent {
        const char *type; /* "container", "image", "volume", … */
        const char *action; /* "create", "start", "die", "remove", "oom", … */
        const char *id;
        const char *name; /* Actor.Attributes.name, may be NULL */
        const char *execution_id; /* aegis.execution_id label, may be NULL */
        int64_t exit_code; /* "die": containerExitCode / exitCode, else -1 */
        uint64_t time_nsec;
} PodmanEvent;

/* Parses one line (exposed for tests and the fuzzer); pointers in ret point into *ret_json,
 * which the caller puts. */
int podman_event_parse(const char *line, size_t size, PodmanEvent *ret, struct json_object **ret_json);

/* Streams events about containers carrying all label_filters (NULL = aegis.managed=true) from
 * since_usec (CLOCK_REALTIME, 0 = from now). on_event returning < 0 stops the stream; done runs
 * once when the stream ends (the engine went away, timeout_usec elapsed — UINT64_MAX for none —
 * or on_event asked to stop). */
typedef int (*podman_event_fn)(const PodmanEvent *ev, void *userdata);
int podman_events_async(PodmanClient *c, char *const *label_filters, uint64_t since_usec,
                        uint64_t timeout_usec, podman_event_fn on_event, podman_done_fn done, void *userdata,
                        PodmanOp **ret_op);

/* ========================================================================================
 * Volumes (engine volumes, e.g. NFS-backed aegis-vol-*)
 * ======================================================================================== */

/* POST /volumes/create; labels/driver_options: strv "key=value". An existing name fails with
 * -EEXIST (HTTP 409): engines answer such a create with the old volume and silently ignore the
 * new options, so stale volumes must be removed first (podman_volume_remove). */
int podman_volume_create(PodmanClient *c, const char *name, const char *driver, char *const *driver_options,
                         char *const *labels, Error *e);
int podman_volume_create_async(PodmanClient *c, const char *name, const char *driver,
                               char *const *driver_options, char *const *labels, podman_done_fn cb,
                               void *userdata, PodmanOp **ret_op);
/* DELETE /volumes/{name}?force=true. Missing: success (so stale-volume replacement is idempotent). */
int podman_volume_remove(PodmanClient *c, const char *name, Error *e);
int podman_volume_remove_async(PodmanClient *c, const char *name, podman_done_fn cb, void *userdata,
                               PodmanOp **ret_op);
/* DELETE /volumes/{name} without force: the engine refuses (-EBUSY, HTTP 409) while any
 * container uses the volume. Missing: success. For the reaper, which must never take a
 * volume from under a container. */
int podman_volume_remove_unused(PodmanClient *c, const char *name, Error *e);

/* Whether any container (running or not) mounts the volume: 1 yes, 0 no. */
int podman_volume_in_use(PodmanClient *c, const char *name, Error *e);

typedef struct PodmanVolume {
        char *name;
        uint64_t created_usec; /* CLOCK_REALTIME, 0 when unknown */
        char *store_id; /* label aegis.store, NULL when absent */
} PodmanVolume;
/* GET /volumes: every engine volume whose name starts with name_prefix (NULL or "" = all). */
int podman_volume_list(PodmanClient *c, const char *name_prefix, PodmanVolume **ret, size_t *ret_n,
                       Error *e);
void podman_volume_list_free(PodmanVolume *vs, size_t n);

/* GET /volumes/{name}: 1 and the driver options as strv when present, 0 when absent. */
int podman_volume_inspect(PodmanClient *c, const char *name, char ***ret_options, Error *e);
