/* test-tools-fs.c — the fs tools (src/aegisd/tools-fs.c) on a scratch directory standing for a
 * volume mounted at /workspace: path resolution, escapes refused ("..", absolute paths, planted
 * symlinks), writes with parents, edits that rewrite the file whole, bounded walks. */
#include <check.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test-main.h"
#include "tools-fs.h"
#include "tools.h"
#include "util.h"

static char tmpdir[] = "/tmp/test-tools-fs-XXXXXX";
static char *voldir;
static ToolVolume vol;
static ToolEnv env;

static void setup(void) {
        ck_assert_ptr_nonnull(mkdtemp(tmpdir));
        voldir = asprintf_safe("%s/vol", tmpdir);
        ck_assert_int_eq(mkdir(voldir, 0755), 0);
        vol = (ToolVolume){ .mount_path = "/workspace", .dir = voldir };
        env = (ToolEnv){ .volumes = &vol, .n_volumes = 1, .uid = getuid(), .gid = getgid() };
}

static void teardown(void) {
        _cleanup_free_ char *cmd = asprintf_safe("rm -rf %s", tmpdir);
        ck_assert_int_eq(system(cmd), 0);
        memcpy(tmpdir + strlen(tmpdir) - 6, "XXXXXX", 6);
        free(voldir);
}

/* Runs tool with args (JSON text); the result's "error" or NULL; *ret the result (put it). */
static json_object *run(const char *tool, const char *args_json) {
        json_object *a = json_tokener_parse(args_json), *r;
        ck_assert_ptr_nonnull(a);
        r = tool_fs_run(&env, tool, a);
        json_object_put(a);
        ck_assert_ptr_nonnull(r);
        return r;
}

static const char *err(json_object *r) {
        json_object *v;
        return json_object_object_get_ex(r, "error", &v) ? json_object_get_string(v) : NULL;
}

static void expect_error(const char *tool, const char *args, const char *needle) {
        json_object *r = run(tool, args);
        ck_assert_msg(err(r), "%s %s succeeded: %s", tool, args, json_object_to_json_string(r));
        ck_assert_msg(strstr(err(r), needle), "%s %s: \"%s\" lacks \"%s\"", tool, args, err(r), needle);
        json_object_put(r);
}

static void expect_ok(const char *tool, const char *args) {
        json_object *r = run(tool, args);
        ck_assert_msg(!err(r), "%s %s failed: %s", tool, args, err(r));
        json_object_put(r);
}

static char *disk(const char *rel) {
        _cleanup_free_ char *p = asprintf_safe("%s/%s", voldir, rel);
        char *text = NULL;
        size_t n;
        if (read_full_file(p, 1 << 20, &text, &n) < 0)
                return NULL;
        return text;
}

START_TEST(test_locate_maps_paths_lexically_and_refuses_what_is_outside) {
        const ToolVolume *v;
        char *rel = NULL;

        ck_assert_int_eq(tool_fs_locate(&env, "a/b", &v, &rel), 0);
        ck_assert_str_eq(rel, "a/b");
        free(rel);
        ck_assert_int_eq(tool_fs_locate(&env, "/workspace/a/./c/../b//", &v, &rel), 0);
        ck_assert_str_eq(rel, "a/b");
        free(rel);
        ck_assert_int_eq(tool_fs_locate(&env, "/workspace", &v, &rel), 0);
        ck_assert_str_eq(rel, ".");
        free(rel);
        ck_assert_int_eq(tool_fs_locate(&env, "", &v, &rel), 0);
        ck_assert_str_eq(rel, ".");
        free(rel);
        ck_assert_int_eq(tool_fs_locate(&env, "../etc/passwd", &v, &rel), -ENOENT);
        ck_assert_int_eq(tool_fs_locate(&env, "/workspace/../etc", &v, &rel), -ENOENT);
        ck_assert_int_eq(tool_fs_locate(&env, "/etc/passwd", &v, &rel), -ENOENT);
        ck_assert_int_eq(tool_fs_locate(&env, "/workspacex/a", &v, &rel), -ENOENT);
        ck_assert_int_eq(tool_fs_locate(&env, "/..", &v, &rel), -EXDEV);
        ck_assert_int_eq(tool_fs_locate(&env, "../../../..", &v, &rel), -EXDEV);
}
END_TEST

START_TEST(test_escapes_are_refused) {
        _cleanup_free_ char *link = asprintf_safe("%s/etc", voldir), *up = asprintf_safe("%s/up", voldir),
                            *secret = asprintf_safe("%s/secret", tmpdir);
        _cleanup_free_ char *sub = asprintf_safe("%s/sub", voldir),
                            *sublink = asprintf_safe("%s/sub/back", voldir);

        ck_assert_int_eq(symlink("/etc", link), 0);
        ck_assert_int_eq(symlink("..", up), 0);
        ck_assert_int_eq(mkdir(sub, 0755), 0);
        ck_assert_int_eq(symlink("../../secret", sublink), 0);
        ck_assert_int_eq(write_file_atomic(secret, "s3cret", 6, 0600), 0);

        expect_error("fs.read", "{\"path\":\"../secret\"}", "outside the execution's volumes");
        expect_error("fs.read", "{\"path\":\"/etc/passwd\"}", "outside the execution's volumes");
        expect_error("fs.read", "{\"path\":\"/workspace/../secret\"}", "outside");
        expect_error("fs.read", "{\"path\":\"etc/passwd\"}", "leads outside the volume");
        expect_error("fs.read", "{\"path\":\"up/secret\"}", "leads outside the volume");
        expect_error("fs.read", "{\"path\":\"sub/back\"}", "leads outside the volume");
        expect_error("fs.write", "{\"path\":\"etc/evil\",\"content\":\"x\"}", "leads outside the volume");
        expect_error("fs.write", "{\"path\":\"up/evil\",\"content\":\"x\"}", "leads outside the volume");
        expect_error("fs.create_dir", "{\"path\":\"etc/d\"}", "leads outside the volume");
        expect_error("fs.list", "{\"path\":\"etc\"}", "leads outside the volume");
        expect_error("fs.grep", "{\"pattern\":\"root\",\"path\":\"etc\"}", "leads outside the volume");
        expect_error("fs.edit",
                     "{\"path\":\"sub/back\",\"target_content\":\"s3\",\"replacement_content\":\"xx\"}",
                     "leads outside the volume");
        /* Deleting a symlink removes the link, never its target. */
        expect_ok("fs.delete", "{\"path\":\"sub/back\"}");
        ck_assert_int_eq(access(secret, F_OK), 0);
        /* A grep of the whole volume does not follow the links out. */
        {
                json_object *r = run("fs.grep", "{\"pattern\":\"s3cret|root:\"}");
                ck_assert_ptr_null(err(r));
                ck_assert_int_eq(json_object_array_length(json_object_object_get(r, "matches")), 0);
                json_object_put(r);
        }
        /* A write replacing a planted symlink replaces the link, not /etc's file. */
        expect_ok("fs.write", "{\"path\":\"etc\",\"content\":\"plain\"}");
        {
                _cleanup_free_ char *t = disk("etc");
                ck_assert_str_eq(t, "plain");
        }
}
END_TEST

START_TEST(test_write_read_and_edits_rewrite_the_file_whole) {
        json_object *r;
        _cleanup_free_ char *t1 = NULL, *t2 = NULL, *t3 = NULL;

        expect_ok("fs.write", "{\"path\":\"deep/er/f.txt\",\"content\":\"hello wonderful world\\n\"}");
        t1 = disk("deep/er/f.txt");
        ck_assert_str_eq(t1, "hello wonderful world\n");
        r = run("fs.read", "{\"path\":\"/workspace/deep/er/f.txt\"}");
        ck_assert_str_eq(json_object_get_string(json_object_object_get(r, "content")),
                         "hello wonderful world\n");
        ck_assert_str_eq(json_object_get_string(json_object_object_get(r, "path")),
                         "/workspace/deep/er/f.txt");
        json_object_put(r);

        /* A shorter text leaves no old bytes. */
        expect_ok("fs.edit", "{\"path\":\"deep/er/f.txt\",\"target_content\":\"wonderful world\\n\","
                             "\"replacement_content\":\"x\"}");
        t2 = disk("deep/er/f.txt");
        ck_assert_str_eq(t2, "hello x");
        expect_error(
                "fs.edit",
                "{\"path\":\"deep/er/f.txt\",\"target_content\":\"absent\",\"replacement_content\":\"\"}",
                "not found");

        /* multi_edit: all or nothing. */
        expect_error("fs.multi_edit",
                     "{\"path\":\"deep/er/"
                     "f.txt\",\"edits\":[{\"target_content\":\"hello\",\"replacement_content\":"
                     "\"bye\"},{\"target_content\":\"nope\",\"replacement_content\":\"z\"}]}",
                     "edit 2");
        t3 = disk("deep/er/f.txt");
        ck_assert_str_eq(t3, "hello x");
        expect_ok("fs.multi_edit",
                  "{\"path\":\"deep/er/f.txt\",\"edits\":[{\"target_content\":\"hello\","
                  "\"replacement_content\":\"bye\"},{\"target_content\":\"x\",\"replacement_content\":"
                  "\"y\"}]}");
        free(t3);
        t3 = disk("deep/er/f.txt");
        ck_assert_str_eq(t3, "bye y");
        expect_error("fs.read", "{\"path\":\"missing\"}", "no such file");
        expect_error("fs.write", "{\"path\":\"x\"}", "\"content\"");
}
END_TEST

START_TEST(test_list_delete_grep_glob) {
        json_object *r, *m;

        expect_ok("fs.create_dir", "{\"path\":\"src/lib\"}");
        expect_ok("fs.write", "{\"path\":\"src/a.c\",\"content\":\"int main;\\nint other;\\n\"}");
        expect_ok("fs.write", "{\"path\":\"src/lib/b.c\",\"content\":\"static int main2;\\n\"}");
        expect_ok("fs.write", "{\"path\":\"README\",\"content\":\"read me\\n\"}");

        r = run("fs.list", "{}");
        m = json_object_object_get(r, "entries");
        ck_assert_int_eq(json_object_array_length(m), 2);
        ck_assert_str_eq(
                json_object_get_string(json_object_object_get(json_object_array_get_idx(m, 1), "type")),
                "directory");
        json_object_put(r);

        r = run("fs.grep", "{\"pattern\":\"main\\\\d?;\",\"path\":\"src\"}");
        m = json_object_object_get(r, "matches");
        ck_assert_int_eq(json_object_array_length(m), 2);
        json_object_put(r);
        expect_error("fs.grep", "{\"pattern\":\"(unclosed\"}", "pattern");

        r = run("fs.glob", "{\"pattern\":\"**/*.c\"}");
        m = json_object_object_get(r, "matches");
        ck_assert_int_eq(json_object_array_length(m), 2);
        ck_assert_str_eq(json_object_get_string(json_object_array_get_idx(m, 0)), "src/a.c");
        ck_assert_str_eq(json_object_get_string(json_object_array_get_idx(m, 1)), "src/lib/b.c");
        json_object_put(r);

        expect_error("fs.delete", "{\"path\":\"src\"}", "recursive");
        expect_error("fs.delete", "{\"path\":\"/workspace\",\"recursive\":true}", "the volume itself");
        expect_ok("fs.delete", "{\"path\":\"src\",\"recursive\":true}");
        expect_error("fs.read", "{\"path\":\"src/a.c\"}", "no such file");
}
END_TEST

START_TEST(test_read_only_volume_is_not_written) {
        vol.read_only = true;
        expect_error("fs.write", "{\"path\":\"f\",\"content\":\"x\"}", "read-only");
        expect_error("fs.delete", "{\"path\":\"f\"}", "read-only");
        vol.read_only = false;
}
END_TEST

int main(void) {
        Suite *s = suite_create("tools-fs");
        TCase *tc = tcase_create("fs");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_locate_maps_paths_lexically_and_refuses_what_is_outside);
        tcase_add_test(tc, test_escapes_are_refused);
        tcase_add_test(tc, test_write_read_and_edits_rewrite_the_file_whole);
        tcase_add_test(tc, test_list_delete_grep_glob);
        tcase_add_test(tc, test_read_only_volume_is_not_written);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
