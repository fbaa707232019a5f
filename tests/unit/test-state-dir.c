/* test-state-dir.c — the state directory of the installed units (state-dir.h): by systemd
 * version for a user manager (~/.config/aegis before 254, ~/.local/state/aegis from 254), the
 * XDG variables, $HOME, and the fallback to the build's systemd when no user manager answers. */
#include <stdlib.h>
#include <string.h>

#include "state-dir.h"
#include "test-main.h"
#include "util.h"

static void setup(void) {
        unsetenv("XDG_CONFIG_HOME");
        unsetenv("XDG_STATE_HOME");
        ck_assert_int_eq(setenv("HOME", "/home/u", 1), 0);
        /* No user manager can answer: a bus address and runtime directory that do not exist. */
        ck_assert_int_eq(setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/aegis-test/bus", 1), 0);
        ck_assert_int_eq(setenv("XDG_RUNTIME_DIR", "/nonexistent/aegis-test", 1), 0);
}

static void expect_for_manager(bool user, unsigned version, const char *expected) {
        _cleanup_free_ char *p = NULL;

        ck_assert_int_eq(state_dir_for_manager(user, version, &p), 0);
        ck_assert_str_eq(p, expected);
}

START_TEST(test_state_dir_system_manager) {
        expect_for_manager(false, 252, LOCALSTATEDIR "/lib/aegis");
        expect_for_manager(false, 257, LOCALSTATEDIR "/lib/aegis");
        /* The XDG variables are a user manager's business only. */
        ck_assert_int_eq(setenv("XDG_STATE_HOME", "/srv/state", 1), 0);
        expect_for_manager(false, 257, LOCALSTATEDIR "/lib/aegis");
}
END_TEST

START_TEST(test_state_dir_user_manager_by_version) {
        ck_assert_int_eq(SYSTEMD_USER_STATE_HOME_SINCE, 254);
        expect_for_manager(true, 247, "/home/u/.config/aegis");
        expect_for_manager(true, 252, "/home/u/.config/aegis"); /* Debian 12 */
        expect_for_manager(true, 253, "/home/u/.config/aegis");
        expect_for_manager(true, 254, "/home/u/.local/state/aegis");
        expect_for_manager(true, 257, "/home/u/.local/state/aegis"); /* Debian 13 */

        /* Each side follows its own variable, when absolute. */
        ck_assert_int_eq(setenv("XDG_CONFIG_HOME", "/srv/cfg", 1), 0);
        ck_assert_int_eq(setenv("XDG_STATE_HOME", "/srv/state", 1), 0);
        expect_for_manager(true, 252, "/srv/cfg/aegis");
        expect_for_manager(true, 254, "/srv/state/aegis");
        ck_assert_int_eq(setenv("XDG_CONFIG_HOME", "relative", 1), 0);
        ck_assert_int_eq(setenv("XDG_STATE_HOME", "", 1), 0);
        expect_for_manager(true, 252, "/home/u/.config/aegis");
        expect_for_manager(true, 254, "/home/u/.local/state/aegis");
}
END_TEST

START_TEST(test_state_dir_user_without_home) {
        _cleanup_free_ char *p = NULL, *expected = NULL, *home = NULL;

        /* $HOME not absolute: the password database's home of this uid. */
        ck_assert_int_eq(setenv("HOME", "relative", 1), 0);
        home = home_dir();
        if (!home) {
                ck_assert_int_eq(state_dir_for_manager(true, 252, &p), -ENOENT);
                return;
        }
        ck_assert_str_ne(home, "relative");
        ck_assert_int_eq(state_dir_for_manager(true, 252, &p), 0);
        expected = path_join(home, ".config/aegis");
        ck_assert_str_eq(p, expected);
}
END_TEST

START_TEST(test_state_dir_for_unit_falls_back_to_build_version) {
        _cleanup_free_ char *p = NULL, *sys = NULL;
        unsigned version = 0;
        bool asked = true;

        ck_assert_uint_eq(systemd_manager_version(true), 0);
        ck_assert_int_eq(state_dir_for_unit(true, &p, &version, &asked), 0);
        ck_assert(!asked);
        ck_assert_uint_eq(version, SYSTEMD_BUILD_VERSION);
        ck_assert_str_eq(p, SYSTEMD_BUILD_VERSION >= 254 ? "/home/u/.local/state/aegis"
                                                         : "/home/u/.config/aegis");

        /* The system manager's is fixed: nobody is asked. */
        ck_assert_int_eq(state_dir_for_unit(false, &sys, &version, &asked), 0);
        ck_assert_str_eq(sys, LOCALSTATEDIR "/lib/aegis");
        ck_assert(!asked);
}
END_TEST

int main(void) {
        Suite *s = suite_create("state-dir");
        TCase *tc = tcase_create("state-dir");

        tcase_add_checked_fixture(tc, setup, NULL);
        tcase_add_test(tc, test_state_dir_system_manager);
        tcase_add_test(tc, test_state_dir_user_manager_by_version);
        tcase_add_test(tc, test_state_dir_user_without_home);
        tcase_add_test(tc, test_state_dir_for_unit_falls_back_to_build_version);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
