/* test-nfs-volume-names.c — the gateway's checks on names and symlink targets that keep
 * every path inside its volume: nfs_name_is_valid() (one path component) and
 * nfs_symlink_target_is_confined() (a SYMLINK's target, relative to the link's depth below
 * the volume root, never climbs out of the volume). */
#include <check.h>

#include "nfs-volume.h"
#include "test-main.h"

START_TEST(test_name_is_one_component) {
        ck_assert(nfs_name_is_valid("a"));
        ck_assert(nfs_name_is_valid("..."));
        ck_assert(nfs_name_is_valid(".hidden"));
        ck_assert(!nfs_name_is_valid(""));
        ck_assert(!nfs_name_is_valid(NULL));
        ck_assert(!nfs_name_is_valid("."));
        ck_assert(!nfs_name_is_valid(".."));
        ck_assert(!nfs_name_is_valid("a/b"));
        ck_assert(!nfs_name_is_valid("/"));
}
END_TEST

START_TEST(test_name_length_limit) {
        char name[300];

        memset(name, 'x', sizeof name);
        name[255] = '\0';
        ck_assert(nfs_name_is_valid(name));
        name[255] = 'x';
        name[256] = '\0';
        ck_assert(!nfs_name_is_valid(name));
}
END_TEST

START_TEST(test_symlink_absolute_or_empty_refused) {
        ck_assert(!nfs_symlink_target_is_confined("/etc/passwd", 0));
        ck_assert(!nfs_symlink_target_is_confined("/", 5));
        ck_assert(!nfs_symlink_target_is_confined("", 0));
        ck_assert(!nfs_symlink_target_is_confined(NULL, 0));
}
END_TEST

START_TEST(test_symlink_at_root_cannot_climb) {
        ck_assert(nfs_symlink_target_is_confined("a", 0));
        ck_assert(nfs_symlink_target_is_confined("a/b/../c", 0));
        ck_assert(nfs_symlink_target_is_confined("./a", 0));
        ck_assert(nfs_symlink_target_is_confined("a/..", 0));
        ck_assert(!nfs_symlink_target_is_confined("..", 0));
        ck_assert(!nfs_symlink_target_is_confined("../x", 0));
        ck_assert(!nfs_symlink_target_is_confined("a/../../x", 0));
        ck_assert(!nfs_symlink_target_is_confined("./../x", 0));
}
END_TEST

START_TEST(test_symlink_depth_allows_that_many_ups) {
        ck_assert(nfs_symlink_target_is_confined("../x", 1));
        ck_assert(nfs_symlink_target_is_confined("../../x", 2));
        ck_assert(!nfs_symlink_target_is_confined("../../x", 1));
        ck_assert(!nfs_symlink_target_is_confined("../../../etc/passwd", 2));
        /* Climbing out and back in is still out: the check is on every prefix. */
        ck_assert(!nfs_symlink_target_is_confined("../../dir/x", 1));
}
END_TEST

START_TEST(test_symlink_slashes_and_dots_collapse) {
        ck_assert(nfs_symlink_target_is_confined("a//b///c", 0));
        ck_assert(nfs_symlink_target_is_confined("a/./../b/", 0));
        ck_assert(!nfs_symlink_target_is_confined("a//..//..//x", 0));
        ck_assert(nfs_symlink_target_is_confined("..a", 0)); /* a name, not a parent */
        ck_assert(nfs_symlink_target_is_confined("a/...", 0));
}
END_TEST

static Suite *suite(void) {
        Suite *s = suite_create("nfs-volume-names");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_name_is_one_component);
        tcase_add_test(tc, test_name_length_limit);
        tcase_add_test(tc, test_symlink_absolute_or_empty_refused);
        tcase_add_test(tc, test_symlink_at_root_cannot_climb);
        tcase_add_test(tc, test_symlink_depth_allows_that_many_ups);
        tcase_add_test(tc, test_symlink_slashes_and_dots_collapse);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return run_suite(suite());
}
