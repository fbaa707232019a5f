/* bus-harness.c — runs the aegisd bus module (src/aegisd/bus.c) on an event loop with an
 * in-memory execution table, so tests can drive org.aegis1 with busctl against a private
 * dbus-daemon without the rest of aegisd.
 *
 * Usage: bus-harness VERSION [ID:STATE:AGENT...]. Ready turns true once the name is
 * requested; CancelExecution removes the execution (so ActiveExecutions drops and signals);
 * "finished" marks one that answers AlreadyFinished. SIGTERM exits 0. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "util.h"

typedef struct Exec {
        char id[65], state[32], agent[64];
        bool gone;
} Exec;

static Exec table[32];
static size_t table_n;

static unsigned active(void *userdata) {
        unsigned n = 0;
        for (size_t i = 0; i < table_n; i++)
                n += !table[i].gone && !streq(table[i].state, "finished");
        return n;
}

static int list(void *userdata, BusExecution **ret, size_t *ret_n) {
        BusExecution *l = calloc(table_n + 1, sizeof(*l));
        size_t n = 0;

        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < table_n; i++) {
                if (table[i].gone || streq(table[i].state, "finished"))
                        continue;
                l[n].id = strdup(table[i].id);
                l[n].state = strdup(table[i].state);
                l[n].agent = strdup(table[i].agent);
                n++;
        }
        *ret = l;
        *ret_n = n;
        return 0;
}

static int cancel(void *userdata, const char *id, Error *e) {
        for (size_t i = 0; i < table_n; i++) {
                if (table[i].gone || !streq(table[i].id, id))
                        continue;
                if (streq(table[i].state, "finished"))
                        return error_set(e, -EALREADY, "execution %s already finished", id);
                table[i].gone = true;
                return 0;
        }
        return error_set(e, -ENOENT, "no execution with id %s", id);
}

int main(int argc, char **argv) {
        _cleanup_(aegis_bus_freep) AegisBus *bus = NULL;
        sd_event *event = NULL;
        BusCallbacks cb = { .active_executions = active,
                            .list_executions = list,
                            .cancel_execution = cancel };
        sigset_t ss;
        int r;

        if (argc < 2) {
                fprintf(stderr, "usage: %s VERSION [ID:STATE:AGENT...]\n", argv[0]);
                return 2;
        }
        for (int i = 2; i < argc && table_n < ELEMENTSOF(table); i++, table_n++)
                if (sscanf(argv[i], "%64[^:]:%31[^:]:%63s", table[table_n].id, table[table_n].state,
                           table[table_n].agent) != 3) {
                        fprintf(stderr, "bad execution spec: %s\n", argv[i]);
                        return 2;
                }

        sigemptyset(&ss);
        sigaddset(&ss, SIGTERM);
        sigaddset(&ss, SIGINT);
        sigprocmask(SIG_BLOCK, &ss, NULL);
        r = sd_event_default(&event);
        if (r >= 0)
                r = sd_event_add_signal(event, NULL, SIGTERM, NULL, NULL);
        if (r >= 0)
                r = sd_event_add_signal(event, NULL, SIGINT, NULL, NULL);
        if (r < 0) {
                fprintf(stderr, "event loop: %s\n", strerror(-r));
                return 1;
        }
        r = aegis_bus_new(event, argv[1], &cb, &bus);
        if (r < 0) {
                fprintf(stderr, "no bus: %s\n", strerror(-r));
                return 3;
        }
        aegis_bus_set_ready(bus, true);
        printf("bus=%s\n", aegis_bus_kind(bus));
        fflush(stdout);
        r = sd_event_loop(event);
        bus = aegis_bus_free(bus);
        sd_event_unref(event);
        return r < 0 ? 1 : 0;
}
