/* bus.c — publishes org.aegis1 on the user or system bus (see bus.h).
 *
 * Invariants: the object is registered before the name is requested, so a client that sees
 * the name always finds the object; Ready and ActiveExecutions signal only real changes;
 * nothing here blocks the event loop (the name request is asynchronous, the callbacks are
 * expected to answer from memory). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-bus.h>

#include "bus.h"
#include "util.h"

#define ACTIVE_POLL_USEC (1 * USEC_PER_SEC)

struct AegisBus {
        sd_bus *bus;
        sd_bus_slot *vtable_slot;
        sd_event_source *poll_source;
        char *version;
        BusCallbacks cb;
        bool has_cb;
        bool ready;
        unsigned last_active;
        bool user;
};

static unsigned active_now(AegisBus *b) {
        return b->has_cb && b->cb.active_executions ? b->cb.active_executions(b->cb.userdata) : 0;
}

static int property_get_version(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        AegisBus *b = userdata;
        return sd_bus_message_append(reply, "s", b->version);
}

static int property_get_ready(sd_bus *bus, const char *path, const char *interface, const char *property,
                              sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        AegisBus *b = userdata;
        return sd_bus_message_append(reply, "b", b->ready);
}

static int property_get_active(sd_bus *bus, const char *path, const char *interface, const char *property,
                               sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        AegisBus *b = userdata;
        return sd_bus_message_append(reply, "u", active_now(b));
}

static void bus_executions_free(BusExecution *l, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(l[i].id);
                free(l[i].state);
                free(l[i].agent);
        }
        free(l);
}

static int method_list_executions(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        AegisBus *b = userdata;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        BusExecution *l = NULL;
        size_t n = 0;
        int r;

        if (b->has_cb && b->cb.list_executions) {
                r = b->cb.list_executions(b->cb.userdata, &l, &n);
                if (r < 0)
                        return sd_bus_error_set_errnof(error, r, "Failed to list executions: %m");
        }

        r = sd_bus_message_new_method_return(m, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(sss)");
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = sd_bus_message_append(reply, "(sss)", strempty(l[i].id), strempty(l[i].state),
                                          strempty(l[i].agent));
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        bus_executions_free(l, n);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_cancel_execution(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        AegisBus *b = userdata;
        Error e = ERROR_INIT;
        const char *id;
        int r;

        r = sd_bus_message_read(m, "s", &id);
        if (r < 0)
                return r;
        if (!id_is_valid(id))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "CancelExecution: \"%s\" is not a valid execution id", id);
        if (!b->has_cb || !b->cb.cancel_execution)
                return sd_bus_error_setf(error, "org.aegis1.Error.NotSupported",
                                         "This aegisd cannot cancel executions over D-Bus");

        r = b->cb.cancel_execution(b->cb.userdata, id, &e);
        if (r == -ENOENT)
                return sd_bus_error_setf(error, "org.aegis1.Error.NoSuchExecution", "%s",
                                         e.code ? e.message : "No such execution");
        if (r == -EALREADY)
                return sd_bus_error_setf(error, "org.aegis1.Error.AlreadyFinished", "%s",
                                         e.code ? e.message : "Execution already finished");
        if (r < 0) {
                if (e.code)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_FAILED, "%s", e.message);
                return sd_bus_error_set_errnof(error, r, "Failed to cancel execution %s: %m", id);
        }
        aegis_bus_active_changed(b);
        return sd_bus_reply_method_return(m, NULL);
}

static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Version", "s", property_get_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Ready", "b", property_get_ready, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("ActiveExecutions", "u", property_get_active, 0,
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_METHOD_WITH_NAMES("ListExecutions", "", SD_BUS_PARAM(), "a(sss)", SD_BUS_PARAM(executions),
                                 method_list_executions, 0),
        SD_BUS_METHOD_WITH_NAMES("CancelExecution", "s", SD_BUS_PARAM(id), "", SD_BUS_PARAM(),
                                 method_cancel_execution, 0),
        SD_BUS_VTABLE_END
};

static int poll_active(sd_event_source *s, uint64_t usec, void *userdata) {
        AegisBus *b = userdata;

        aegis_bus_active_changed(b);
        (void) sd_event_source_set_time_relative(s, ACTIVE_POLL_USEC);
        return sd_event_source_set_enabled(s, SD_EVENT_ON);
}

static int bus_open(bool *ret_user, sd_bus **ret) {
        const char *which = getenv("AEGIS_BUS");
        bool user;
        int r;

        if (streq(which, "none"))
                return -ENOMEDIUM;
        if (streq(which, "user"))
                user = true;
        else if (streq(which, "system"))
                user = false;
        else if (!isempty(which))
                return -EINVAL;
        else
                user = !isempty(getenv("DBUS_SESSION_BUS_ADDRESS")) || !isempty(getenv("XDG_RUNTIME_DIR"));

        r = user ? sd_bus_open_user_with_description(ret, "aegisd")
                 : sd_bus_open_system_with_description(ret, "aegisd");
        if (r < 0)
                return r;
        *ret_user = user;
        return 0;
}

int aegis_bus_new(sd_event *event, const char *version, const BusCallbacks *callbacks, AegisBus **ret) {
        _cleanup_(aegis_bus_freep) AegisBus *b = NULL;
        int r;

        b = calloc(1, sizeof(*b));
        if (!b)
                return -ENOMEM;
        b->version = strdup(strempty(version));
        if (!b->version)
                return -ENOMEM;
        if (callbacks) {
                b->cb = *callbacks;
                b->has_cb = true;
        }

        r = bus_open(&b->user, &b->bus);
        if (r < 0)
                return r;
        r = sd_bus_attach_event(b->bus, event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return r;
        r = sd_bus_add_object_vtable(b->bus, &b->vtable_slot, AEGIS_BUS_PATH, AEGIS_BUS_INTERFACE,
                                     manager_vtable, b);
        if (r < 0)
                return r;
        /* Another aegisd owning the name is not fatal: we keep serving our sockets. */
        r = sd_bus_request_name_async(b->bus, NULL, AEGIS_BUS_NAME, 0, NULL, NULL);
        if (r < 0)
                return r;

        b->last_active = active_now(b);
        r = sd_event_add_time_relative(event, &b->poll_source, CLOCK_MONOTONIC, ACTIVE_POLL_USEC,
                                       USEC_PER_SEC / 4, poll_active, b);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(b->poll_source, "aegis-bus-poll");

        *ret = TAKE_PTR(b);
        return 0;
}

AegisBus *aegis_bus_free(AegisBus *b) {
        if (!b)
                return NULL;
        sd_event_source_disable_unref(b->poll_source);
        sd_bus_slot_unref(b->vtable_slot);
        if (b->bus) {
                sd_bus_detach_event(b->bus);
                sd_bus_flush_close_unref(b->bus);
        }
        free(b->version);
        free(b);
        return NULL;
}

void aegis_bus_set_ready(AegisBus *b, bool ready) {
        if (!b || b->ready == ready)
                return;
        b->ready = ready;
        (void) sd_bus_emit_properties_changed(b->bus, AEGIS_BUS_PATH, AEGIS_BUS_INTERFACE, "Ready", NULL);
}

void aegis_bus_active_changed(AegisBus *b) {
        unsigned n;

        if (!b)
                return;
        n = active_now(b);
        if (n == b->last_active)
                return;
        b->last_active = n;
        (void) sd_bus_emit_properties_changed(b->bus, AEGIS_BUS_PATH, AEGIS_BUS_INTERFACE,
                                              "ActiveExecutions", NULL);
}

const char *aegis_bus_kind(const AegisBus *b) {
        return b && b->user ? "user" : "system";
}
