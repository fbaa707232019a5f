/* state-dir.h — the state directory the installed units get from systemd, so that a program
 * run by hand (aegis-reaper, aegisd, aegis-nfsd, the CLI) uses the same directory, and so the
 * same default store (<state dir>/aegis.db) and volumes (<state dir>/storage), as under systemd.
 *
 * The units say StateDirectory=aegis, which systemd turns into (systemd.exec(5)):
 *   - the system manager: /var/lib/aegis;
 *   - a user manager before systemd 254 (Debian 12 has 252): $XDG_CONFIG_HOME/aegis
 *     (~/.config/aegis);
 *   - a user manager from systemd 254 on: $XDG_STATE_HOME/aegis (~/.local/state/aegis); when
 *     that is missing but ~/.config/aegis exists, systemd links the one to the other.
 * The version is the running user manager's (asked over D-Bus); when none answers, the
 * version of the libsystemd this was built against (the host's systemd, as packaged).
 *
 * Under systemd $STATE_DIRECTORY says it already; config.c uses this only without it. */
#pragma once

#include <stdbool.h>

/* The first user-manager version that maps StateDirectory= to $XDG_STATE_HOME. */
#define SYSTEMD_USER_STATE_HOME_SINCE 254

/* The version of the running service manager (252 of "252.39-1~deb12u2"): the user manager
 * when user, else the system manager; 0 when none answers. */
unsigned systemd_manager_version(bool user);

/* The directory StateDirectory=aegis names for a manager of this version (user or system),
 * from $XDG_CONFIG_HOME / $XDG_STATE_HOME (when absolute) and else $HOME (else the password
 * database's home). -ENOENT when a user has no home to put it in; -ENOMEM. */
int state_dir_for_manager(bool user, unsigned manager_version, char **ret);

/* The same for the manager that runs the units here: the system one (user false) is
 * /var/lib/aegis without asking; a user one is asked its version, falling back to
 * SYSTEMD_BUILD_VERSION. When ret_version is not NULL it gets the version used and
 * *ret_asked whether the manager answered. */
int state_dir_for_unit(bool user, char **ret, unsigned *ret_version, bool *ret_asked);
