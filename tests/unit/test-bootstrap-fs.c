/* test-bootstrap-fs.c — the fs tools in the container (src/bootstrap/bootstrap-fs.c) give the
 * model what the host-side ones (src/aegisd/tools-fs.c) give: the same calls, on a scratch
 * volume for the host and a scratch directory standing for the container's /workspace, go
 * through aegisd's dispatch builder (ToolDef.dispatch) to aegis-bootstrap's runner, and each
 * result must equal the host's, byte for byte but for the directory's name. */
#include <check.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bootstrap.h"
#include "test-main.h"
#include "tools-fs.h"
#include "tools.h"
#include "util.h"
#include "volume-userns.h"

static char tmpdir[] = "/tmp/test-bootstrap-fs-XXXXXX";
static char *voldir, *ctrdir;
static ToolVolume vol;
static ToolEnv env;

static void setup(void) {
        ck_assert_ptr_nonnull(mkdtemp(tmpdir));
        voldir = asprintf_safe("%s/vol", tmpdir);
        ctrdir = asprintf_safe("%s/workspace", tmpdir);
        ck_assert_int_eq(mkdir(voldir, 0755), 0);
        ck_assert_int_eq(mkdir(ctrdir, 0755), 0);
        vol = (ToolVolume){ .mount_path = "/workspace", .dir = voldir };
        env = (ToolEnv){ .volumes = &vol, .n_volumes = 1, .uid = getuid(), .gid = getgid() };
}

static void teardown(void) {
        _cleanup_free_ char *cmd = asprintf_safe("rm -rf %s", tmpdir);
        ck_assert_int_eq(system(cmd), 0);
        memcpy(tmpdir + strlen(tmpdir) - 6, "XXXXXX", 6);
        free(voldir);
        free(ctrdir);
}

static char *to_text(json_object *o) {
        return strdup(
                json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* s with every "/workspace" turned into ctrdir. */
static char *rebase(const char *s) {
        char *out = strdup(""), *n;
        const char *p;

        while ((p = strstr(s, "/workspace"))) {
                n = asprintf_safe("%s%.*s%s", out, (int) (p - s), s, ctrdir);
                free(out);
                out = n;
                s = p + strlen("/workspace");
        }
        n = asprintf_safe("%s%s", out, s);
        free(out);
        return n;
}

/* The call on the host and in the "container"; both results must be the same text. Returns
 * the container's result (put it). */
static json_object *both(const char *tool, const char *args_json) {
        const ToolDef *t = tool_find(tool);
        json_object *a = json_tokener_parse(args_json), *host, *disp, *ctr, *p;
        _cleanup_free_ char *why = NULL, *notes = NULL, *h = NULL, *hb = NULL, *c = NULL;

        ck_assert_ptr_nonnull(t);
        ck_assert_ptr_nonnull(a);
        host = tool_fs_run(&env, tool, a);
        disp = t->dispatch(a, &why, &notes);
        ck_assert_msg(disp, "%s %s: no dispatch: %s", tool, args_json, strempty(why));
        ck_assert_str_eq(json_object_get_string(json_object_object_get(disp, "action")), "fs");
        if (json_object_object_get_ex(disp, "path", &p)) {
                _cleanup_free_ char *r = rebase(json_object_get_string(p));
                ck_assert_msg(startswith(json_object_get_string(p), "/workspace"), "%s",
                              json_object_get_string(p));
                json_object_object_add(disp, "path", json_object_new_string(r));
        }
        ctr = bs_fs_run(disp);
        h = to_text(host);
        hb = rebase(h);
        c = to_text(ctr);
        ck_assert_msg(streq(hb, c), "%s %s:\n host      %s\n container %s", tool, args_json, hb, c);
        json_object_put(a);
        json_object_put(host);
        json_object_put(disp);
        return ctr;
}

static void same(const char *tool, const char *args_json) {
        json_object_put(both(tool, args_json));
}

static char *ctr_file(const char *rel) {
        _cleanup_free_ char *p = asprintf_safe("%s/%s", ctrdir, rel);
        char *text = NULL;
        size_t n;
        if (read_full_file(p, 1 << 20, &text, &n) < 0)
                return NULL;
        return text;
}

START_TEST(test_results_are_the_host_tools_results) {
        _cleanup_free_ char *t1 = NULL, *t2 = NULL;

        same("fs.write", "{\"path\":\"deep/er/f.txt\",\"content\":\"hello wonderful world\\n\"}");
        same("fs.read", "{\"path\":\"/workspace/deep/./er/f.txt\"}");
        /* an edit to a shorter text leaves no old bytes */
        same("fs.edit", "{\"path\":\"deep/er/f.txt\",\"target_content\":\"wonderful world\\n\","
                        "\"replacement_content\":\"x\"}");
        t1 = ctr_file("deep/er/f.txt");
        ck_assert_str_eq(t1, "hello x");
        same("fs.edit",
             "{\"path\":\"deep/er/f.txt\",\"target_content\":\"absent\",\"replacement_content\":\"\"}");
        same("fs.multi_edit", "{\"path\":\"deep/er/f.txt\",\"edits\":[{\"target_content\":\"hello\","
                              "\"replacement_content\":\"bye\"},{\"target_content\":\"nope\","
                              "\"replacement_content\":\"z\"}]}");
        same("fs.multi_edit", "{\"path\":\"deep/er/f.txt\",\"edits\":[{\"target_content\":\"hello\","
                              "\"replacement_content\":\"bye\"},{\"target_content\":\"x\","
                              "\"replacement_content\":\"y\"}]}");
        t2 = ctr_file("deep/er/f.txt");
        ck_assert_str_eq(t2, "bye y");
        same("fs.multi_edit", "{\"path\":\"deep/er/f.txt\",\"edits\":[]}");
        same("fs.edit", "{\"path\":\"missing.txt\",\"target_content\":\"a\",\"replacement_content\":\"b\"}");
        same("fs.read", "{\"path\":\"missing\"}");
        same("fs.read", "{}");
        same("fs.read", "{\"path\":\"deep\"}");
        same("fs.write", "{\"path\":\"x\"}");
        same("fs.write", "{\"path\":\"bin\",\"content\":\"a\\u0000b\"}");
        same("fs.read", "{\"path\":\"bin\"}");
        same("fs.create_dir", "{\"path\":\"src/lib\"}");
        same("fs.create_dir", "{\"path\":\"src/lib\"}");
        same("fs.write", "{\"path\":\"src/a.c\",\"content\":\"int main;\\n\"}");
        same("fs.write", "{\"path\":\"src/a.c/b\",\"content\":\"\"}");
        same("fs.list", "{}");
        same("fs.list", "{\"path\":\"src\"}");
        same("fs.list", "{\"path\":\"src/a.c\"}");
        same("fs.list", "{\"path\":\"nowhere\"}");
        same("fs.delete", "{\"path\":\"src\"}");
        same("fs.delete", "{\"path\":\"src\",\"recursive\":true}");
        same("fs.delete", "{\"path\":\"src\"}");
        same("fs.delete", "{\"path\":\"bin\"}");
        same("fs.read", "{\"path\":\"src/a.c\"}");
}
END_TEST

/* path (under both the volume and the container's directory) holding text. */
static void both_files(const char *rel, const char *text) {
        const char *dirs[] = { voldir, ctrdir };

        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                _cleanup_free_ char *p = asprintf_safe("%s/%s", dirs[i], rel);
                FILE *f = fopen(p, "we");
                ck_assert_ptr_nonnull(f);
                ck_assert_int_eq(fputs(text, f) >= 0, 1);
                ck_assert_int_eq(fclose(f), 0);
        }
}

static size_t n_matches(json_object *r) {
        return json_object_array_length(json_object_object_get(r, "matches"));
}

START_TEST(test_grep_and_glob_give_the_host_tools_results) {
        _cleanup_free_ char *many = NULL, *long_line = NULL, *deep = NULL;
        json_object *r;
        size_t n = 0;

        same("fs.write", "{\"path\":\"src/a.c\",\"content\":\"int main;\\nint foobar;\\n// hello\\n\"}");
        same("fs.write", "{\"path\":\"src/lib/b.py\",\"content\":\"print('hello')\\nx = 42\\n\"}");
        same("fs.write", "{\"path\":\".hidden/c.c\",\"content\":\"hello hidden\\n\"}");
        same("fs.write", "{\"path\":\"bin\",\"content\":\"hello\\u0000binary\"}");
        both_files("src/latin1.txt", "caf\xe9 hello\n");
        for (const char *d = voldir;; d = ctrdir) {
                _cleanup_free_ char *l = asprintf_safe("%s/src/link.c", d);
                ck_assert_int_eq(symlink("a.c", l), 0); /* never followed by a walk */
                if (d == ctrdir)
                        break;
        }

        /* the same PCRE2 dialect: classes, lookahead, alternation; the whole workspace or a part */
        r = both("fs.grep", "{\"pattern\":\"hello\"}");
        ck_assert_int_eq(n_matches(r), 4); /* a.c, b.py, .hidden/c.c, latin1.txt; not bin, not the link */
        json_object_put(r);
        r = both("fs.grep", "{\"pattern\":\"foo(?=bar)|\\\\d{2}\",\"path\":\"src\"}");
        ck_assert_int_eq(n_matches(r), 2);
        json_object_put(r);
        same("fs.grep", "{\"pattern\":\"^int \\\\w+;$\",\"path\":\"/workspace/src/a.c\"}");
        same("fs.grep", "{\"pattern\":\"caf.\",\"path\":\"src/latin1.txt\"}");
        same("fs.grep", "{\"pattern\":\"nothing matches this\"}");
        /* bad patterns and paths are results, the same text */
        same("fs.grep", "{\"pattern\":\"(unclosed\"}");
        same("fs.grep", "{\"pattern\":\"a{2,1}\"}");
        same("fs.grep", "{\"pattern\":\"\"}");
        same("fs.grep", "{}");
        same("fs.grep", "{\"pattern\":\"x\",\"path\":\"nowhere\"}");
        /* a catastrophic pattern stops at the match limit and says so */
        both_files("slow.txt", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab\n");
        r = both("fs.grep", "{\"pattern\":\"(a+)+$\",\"path\":\"slow.txt\"}");
        ck_assert(json_object_object_get_ex(r, "warning", NULL));
        json_object_put(r);

        same("fs.glob", "{\"pattern\":\"**/*.c\"}");
        same("fs.glob", "{\"pattern\":\"*\",\"path\":\"src\"}");
        same("fs.glob", "{\"pattern\":\"src/**\"}");
        same("fs.glob", "{\"pattern\":\"lib/*.py\",\"path\":\"/workspace/src\"}");
        same("fs.glob", "{\"pattern\":\"/etc/*\"}");
        same("fs.glob", "{\"pattern\":\"*\",\"path\":\"src/a.c\"}");
        same("fs.glob", "{\"pattern\":\"*\",\"path\":\"nowhere\"}");
        same("fs.glob", "{}");
        deep = strdup("");
        for (int i = 0; i < 40; i++) {
                char *d2 = asprintf_safe("%sd/", deep);
                free(deep);
                deep = d2;
        }
        {
                _cleanup_free_ char *args = asprintf_safe("{\"pattern\":\"%s*\"}", deep);
                same("fs.glob", args);
        }

        /* bounds: 500 matches at most, lines cut at 400 bytes, both say so the same way */
        many = strdup("");
        for (int i = 0; i < 600; i++) {
                char *m2 = asprintf_safe("%smatch %d\n", many, i);
                free(many);
                many = m2;
        }
        both_files("many.txt", many);
        r = both("fs.grep", "{\"pattern\":\"match\",\"path\":\"many.txt\"}");
        ck_assert_int_eq(n_matches(r), 500);
        ck_assert(json_object_get_boolean(json_object_object_get(r, "truncated")));
        json_object_put(r);
        long_line = calloc(1, 1002);
        memset(long_line, 'x', 1000);
        long_line[1000] = '\n';
        both_files("long.txt", long_line);
        r = both("fs.grep", "{\"pattern\":\"x\",\"path\":\"long.txt\"}");
        ck_assert_int_eq(
                json_object_get_string_len(json_object_object_get(
                        json_object_array_get_idx(json_object_object_get(r, "matches"), 0), "text")),
                400);
        json_object_put(r);
        same("fs.create_dir", "{\"path\":\"many\"}");
        for (int i = 0; i < 510; i++) {
                _cleanup_free_ char *f = asprintf_safe("many/f%03d.txt", i);
                both_files(f, "");
                n++;
        }
        r = both("fs.glob", "{\"pattern\":\"*.txt\",\"path\":\"many\"}");
        ck_assert_int_eq(n_matches(r), 500);
        ck_assert(json_object_get_boolean(json_object_object_get(r, "truncated")));
        json_object_put(r);
        ck_assert_int_eq(n, 510);
}
END_TEST

/* aegis-bootstrap's result for the dispatch is an error that says what. */
static void ctr_error_says(const char *dispatch_json, const char *what) {
        json_object *d = json_tokener_parse(dispatch_json), *r = bs_fs_run(d);
        const char *e = json_object_get_string(json_object_object_get(r, "error"));

        ck_assert_msg(e && strstr(e, what), "%s: %s", dispatch_json, strempty(e));
        json_object_put(r);
        json_object_put(d);
}

START_TEST(test_dispatch_shape_and_what_stays_in_the_container) {
        const ToolDef *t = tool_find("fs.read");
        _cleanup_free_ char *why = NULL, *notes = NULL;
        json_object *a = json_tokener_parse("{\"path\":\"../../..\"}"), *d, *r;

        /* a path above / is refused by aegisd, before any dispatch */
        ck_assert_ptr_null(t->dispatch(a, &why, &notes));
        ck_assert_ptr_nonnull(strstr(why, "above /"));
        json_object_put(a);

        /* nothing of /proc is read nor searched: the capability lives in aegis-bootstrap's memory */
        ctr_error_says("{\"op\":\"read\",\"path\":\"/proc/self/environ\"}", "not a regular file");
        ctr_error_says("{\"op\":\"grep\",\"path\":\"/proc/self\",\"pattern\":\"AEGIS\"}", "not searched");
        ctr_error_says("{\"op\":\"glob\",\"path\":\"/proc\",\"pattern\":\"*\"}", "not searched");
        /* an unknown op is a result, not a failure */
        ctr_error_says("{\"op\":\"chmod\",\"path\":\"/x\"}", "chmod");

        /* the answer carries the result, the dispatch's ids and no exit code */
        d = json_tokener_parse("{\"type\":\"dispatch\",\"action\":\"fs\",\"op\":\"list\",\"path\":\"/\","
                               "\"dispatch_id\":\"d-1-1-0\",\"tool_call_id\":\"c1\"}");
        r = bs_run_fs_dispatch(d, "exec-1");
        ck_assert_str_eq(json_object_get_string(json_object_object_get(r, "type")), "dispatch_result");
        ck_assert_str_eq(json_object_get_string(json_object_object_get(r, "dispatch_id")), "d-1-1-0");
        ck_assert_str_eq(json_object_get_string(json_object_object_get(r, "execution_id")), "exec-1");
        ck_assert(json_object_is_type(json_object_object_get(json_object_object_get(r, "result"), "entries"),
                                      json_type_array));
        ck_assert(!json_object_object_get_ex(r, "exit_code", NULL));
        json_object_put(r);
        json_object_put(d);

        /* without a volume every fs tool is offered in the container */
        env.n_volumes = 0;
        env.event = NULL;
        for (const char *const *name = (const char *const[]){ "fs.edit", "fs.grep", "fs.glob", NULL }; *name;
             name++) {
                ck_assert_int_eq(tool_place(tool_find(*name), &env), TOOL_IN_CONTAINER);
                ck_assert(tool_available(tool_find(*name), &env));
        }
        env.n_volumes = 1;
        ck_assert_int_eq(tool_place(tool_find("fs.edit"), &env), TOOL_ON_HOST);
        /* volumes of a rootless engine's user namespace: aegisd may not write the agent's
         * files, the container may */
        ck_assert_int_eq(volume_userns_set("/run/user/1000/libpod/tmp/pause.pid"), 0);
        ck_assert_int_eq(tool_place(tool_find("fs.edit"), &env), TOOL_IN_CONTAINER);
        ck_assert_int_eq(tool_place(tool_find("fs.write"), &env), TOOL_IN_CONTAINER);
        ck_assert_int_eq(volume_userns_set(NULL), 0);
        ck_assert_int_eq(tool_place(tool_find("fs.edit"), &env), TOOL_ON_HOST);
}
END_TEST

int main(void) {
        Suite *s = suite_create("bootstrap-fs");
        TCase *tc = tcase_create("fs");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_results_are_the_host_tools_results);
        tcase_add_test(tc, test_grep_and_glob_give_the_host_tools_results);
        tcase_add_test(tc, test_dispatch_shape_and_what_stays_in_the_container);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
