/* main.c — aegisd's entry point: parses the arguments, loads the configuration (or only
 * checks and prints it), sets up and starts the daemon (daemon.h), publishes org.aegis1 on
 * D-Bus with the executions' callbacks (bus.h), and runs the sd-event loop until stopped.
 * Exit statuses: 0 on a clean stop, 78 (EX_CONFIG) for a configuration error, 1 otherwise;
 * no D-Bus is a warning, not a failure. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "api-routes.h"
#include "bus.h"
#include "config.h"
#include "daemon.h"
#include "executions.h"
#include "log.h"

static void help(void) {
        printf("Usage: aegisd [OPTIONS]\n\n"
               "The AEGIS agent runtime daemon: HTTP API, execution supervisor, Podman driver.\n\n"
               "  -c, --config=FILE   read FILE instead of discovering aegis-config.yaml\n"
               "      --check-config  validate the configuration, print it with the source of\n"
               "                      every value, and exit (78 when invalid)\n"
               "      --version       print the version and exit\n"
               "  -h, --help          show this help\n\n"
               "See aegisd(8) and aegis-config.yaml(5).\n");
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "config", required_argument, NULL, 'c' },
                { "check-config", no_argument, NULL, 'C' },
                { "version", no_argument, NULL, 'V' },
                { "help", no_argument, NULL, 'h' },
                /* Hidden: the API listener's routes, "METHOD PATTERN" a line (for the
                 * OpenAPI test). */
                { "list-routes", no_argument, NULL, 'R' },
                {},
        };
        _cleanup_(daemon_freep) Daemon *d = NULL;
        _cleanup_(aegis_bus_freep) AegisBus *bus = NULL; /* after d: freed before its event loop */
        BusCallbacks bus_callbacks;
        Config *config = NULL;
        const char *config_path = NULL;
        bool check_config = false;
        Error e = ERROR_INIT;
        int c, r;

        log_setup("aegisd");
        while ((c = getopt_long(argc, argv, "c:h", options, NULL)) >= 0)
                switch (c) {
                case 'c':
                        config_path = optarg;
                        break;
                case 'C':
                        check_config = true;
                        break;
                case 'V':
                        printf("aegisd %s\n", PACKAGE_VERSION);
                        return EXIT_SUCCESS;
                case 'h':
                        help();
                        return EXIT_SUCCESS;
                case 'R':
                        r = api_routes_print(stdout);
                        if (r < 0) {
                                log_error_errno(r, "Failed to list the routes: %m");
                                return EXIT_FAILURE;
                        }
                        return EXIT_SUCCESS;
                default:
                        return EXIT_FAILURE;
                }
        if (optind < argc) {
                log_error("Unexpected argument \"%s\" (see aegisd --help)", argv[optind]);
                return EXIT_FAILURE;
        }

        r = config_load(config_path, &config, &e);
        if (r < 0) {
                log_error("%s", e.message);
                return CONFIG_EXIT_STATUS;
        }
        log_set_max_level(config->logging.level);
        if (check_config) {
                r = config_dump(config, stdout);
                config_free(config);
                return r < 0 || fflush(stdout) != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
        }

        r = daemon_new(config, &d);
        if (r < 0) {
                config_free(config);
                log_error_errno(r, "Failed to set up: %m");
                return EXIT_FAILURE;
        }
        r = daemon_start(d);
        if (r != 0)
                return r;
        /* org.aegis1 (bus.h), its methods served by the executions. */
        executions_bus_callbacks(d->executions, &bus_callbacks);
        r = aegis_bus_new(d->event, PACKAGE_VERSION, &bus_callbacks, &bus);
        if (r < 0)
                log_warning_errno(r, "Not publishing org.aegis1 on D-Bus: %m");
        else
                aegis_bus_set_ready(bus, true);
        r = sd_event_loop(d->event);
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m"), EXIT_FAILURE;
        return r == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
