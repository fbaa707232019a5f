/* podman-probe — drives the Podman client (src/shared/podman*.c) from the integration tests.
 *
 *   podman-probe SOCKET ping | version | gateway
 *
 * Prints results as "key=value" lines on stdout; on failure prints the Error's message on
 * stderr and exits 1 (2 for usage errors). */
#include <stdio.h>
#include <string.h>

#include "podman.h"
#include "util.h"

static int fail(const Error *e) {
        fprintf(stderr, "%s\n", e->message);
        return 1;
}

static int cmd_ping(PodmanClient *c, int argc, char **argv) {
        Error e = ERROR_INIT;

        if (podman_ping(c, 0, &e) < 0)
                return fail(&e);
        printf("ping=OK\n");
        return 0;
}

static int cmd_version(PodmanClient *c, int argc, char **argv) {
        Error e = ERROR_INIT;
        PodmanVersion v;

        if (podman_version(c, &v, &e) < 0)
                return fail(&e);
        printf("engine=%s\nversion=%s\napi=%s\nmajor=%u\nminor=%u\nresolves_host_gateway=%s\n",
               podman_engine_to_string(v.engine), v.version, v.api_version, v.major, v.minor,
               v.resolves_host_gateway ? "yes" : "no");
        return 0;
}

static int cmd_gateway(PodmanClient *c, int argc, char **argv) {
        char addr[PODMAN_ADDRESS_MAX];
        Error e = ERROR_INIT;

        if (podman_host_gateway_address(addr, &e) < 0)
                return fail(&e);
        printf("gateway=%s\n", addr);
        return 0;
}

static const struct {
        const char *name;
        int (*run)(PodmanClient *c, int argc, char **argv);
} commands[] = {
        { "ping", cmd_ping },
        { "version", cmd_version },
        { "gateway", cmd_gateway },
};

int main(int argc, char **argv) {
        _cleanup_(podman_client_freep) PodmanClient *c = NULL;
        size_t i;
        int r;

        if (argc < 3) {
                fprintf(stderr, "usage: %s SOCKET COMMAND [ARGS...]\n", argv[0]);
                return 2;
        }
        r = podman_client_new(argv[1], NULL, &c);
        if (r < 0) {
                fprintf(stderr, "cannot create a client for %s: %s\n", argv[1], strerror(-r));
                return 1;
        }
        for (i = 0; i < ELEMENTSOF(commands); i++)
                if (streq(commands[i].name, argv[2]))
                        return commands[i].run(c, argc - 3, argv + 3);
        fprintf(stderr, "unknown command %s\n", argv[2]);
        return 2;
}
