/* bus.h — aegisd's D-Bus face: the name org.aegis1, object /org/aegis1, interface
 * org.aegis1.Manager with properties Version, Ready, ActiveExecutions (PropertiesChanged on
 * change) and methods ListExecutions() → a(sss) and CancelExecution(s).
 *
 * The bus module knows nothing of executions: whoever owns them fills a BusCallbacks. The
 * bus is optional: when none is reachable aegis_bus_new() fails and aegisd runs without it
 * (the caller logs a warning). Which bus: $AEGIS_BUS (user|system|none) if set; else the
 * user bus when the environment names one (DBUS_SESSION_BUS_ADDRESS or XDG_RUNTIME_DIR, as
 * the user manager sets for its services); else the system bus. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <systemd/sd-event.h>

#include "error.h"

#define AEGIS_BUS_NAME "org.aegis1"
#define AEGIS_BUS_PATH "/org/aegis1"
#define AEGIS_BUS_INTERFACE "org.aegis1.Manager"

/* One active execution as ListExecutions returns it; strings are malloc'd and freed by the
 * bus module. */
typedef struct BusExecution {
        char *id;
        char *state; /* "pending", "running", ... */
        char *agent; /* the manifest's metadata.name, "" if unknown */
} BusExecution;

/* The bus carries no API token: whoever fills these acts for the tenant "default" only
 * (HTTP_TENANT_DEFAULT): another tenant's executions are not listed, and cancelling one is
 * -ENOENT exactly as an unknown id (issue 19; aegisd(8), aegis.systemd(7)). */
typedef struct BusCallbacks {
        /* Number of executions in progress. */
        unsigned (*active_executions)(void *userdata);
        /* A malloc'd array of the executions in progress (NULL and 0 when there are none);
         * returns 0 or a negative errno. */
        int (*list_executions)(void *userdata, BusExecution **ret, size_t *ret_n);
        /* Cancels one execution: 0, or a negative errno with e filled (-ENOENT: unknown id;
         * -EALREADY: already finished). */
        int (*cancel_execution)(void *userdata, const char *id, Error *e);
        void *userdata;
} BusCallbacks;

typedef struct AegisBus AegisBus;

/* Connects, attaches to the event loop, registers the object and requests the name
 * asynchronously. callbacks may be NULL (then ActiveExecutions is 0, ListExecutions is
 * empty and CancelExecution fails with org.aegis1.Error.NotSupported). -ENOMEDIUM when
 * $AEGIS_BUS=none; otherwise the connect error. */
int aegis_bus_new(sd_event *event, const char *version, const BusCallbacks *callbacks, AegisBus **ret);
AegisBus *aegis_bus_free(AegisBus *b);
DEFINE_TRIVIAL_CLEANUP_FUNC(AegisBus *, aegis_bus_free);

/* Sets Ready and emits PropertiesChanged when it changed. */
void aegis_bus_set_ready(AegisBus *b, bool ready);
/* Re-reads the active count and emits PropertiesChanged when it changed. Call it whenever
 * an execution starts or ends; the bus also checks by itself once a second, so a missed
 * call only delays the signal. */
void aegis_bus_active_changed(AegisBus *b);
/* "user" or "system": the bus this connection is on. */
const char *aegis_bus_kind(const AegisBus *b);
