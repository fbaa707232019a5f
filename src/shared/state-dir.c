/* state-dir.c — the state directory the installed units get (state-dir.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

#include "state-dir.h"
#include "util.h"

#define STATE_DIR_BUS_TIMEOUT_USEC (2 * USEC_PER_SEC)

unsigned systemd_manager_version(bool user) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_free_ char *v = NULL;
        unsigned long n;
        char *end;

        if ((user ? sd_bus_open_user(&bus) : sd_bus_open_system(&bus)) < 0)
                return 0;
        /* A manager that does not answer promptly counts as none (the default is 25 s). */
        (void) sd_bus_set_method_call_timeout(bus, STATE_DIR_BUS_TIMEOUT_USEC);
        if (sd_bus_get_property_string(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                       "org.freedesktop.systemd1.Manager", "Version", NULL, &v) < 0)
                return 0;
        n = strtoul(v, &end, 10);
        return end != v && n > 0 && n < 100000 ? (unsigned) n : 0;
}

int state_dir_for_manager(bool user, unsigned manager_version, char **ret) {
        _cleanup_free_ char *base = NULL;
        bool state_home = manager_version >= SYSTEMD_USER_STATE_HOME_SINCE;
        const char *v;

        if (!user) {
                *ret = strdup(LOCALSTATEDIR "/lib/aegis");
                return *ret ? 0 : -ENOMEM;
        }
        v = getenv(state_home ? "XDG_STATE_HOME" : "XDG_CONFIG_HOME");
        if (v && v[0] == '/')
                base = strdup(v);
        else {
                _cleanup_free_ char *home = home_dir();
                if (!home)
                        return -ENOENT;
                base = path_join(home, state_home ? ".local/state" : ".config");
        }
        if (!base)
                return -ENOMEM;
        *ret = path_join(base, "aegis");
        return *ret ? 0 : -ENOMEM;
}

int state_dir_for_unit(bool user, char **ret, unsigned *ret_version, bool *ret_asked) {
        unsigned v = user ? systemd_manager_version(true) : 0;
        bool asked = v > 0;

        if (user && !asked)
                v = SYSTEMD_BUILD_VERSION;
        if (ret_version)
                *ret_version = v;
        if (ret_asked)
                *ret_asked = asked;
        return state_dir_for_manager(user, v, ret);
}
