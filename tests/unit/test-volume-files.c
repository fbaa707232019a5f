/* test-volume-files.c — client paths inside a volume: splitting refuses "..", resolution
 * never follows a symlink (file, directory, to "/", in the middle or at the end) nor leaves
 * the volume, removal and replacement act on links themselves, listing is sorted and hides
 * upload temporaries. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macros.h"
#include "util.h"
#include "volume-files.h"
#include "test-main.h"

static char root[] = "/tmp/test-volume-files-XXXXXX";

static char *sub(const char *rel) {
        char *p = asprintf_safe("%s/%s", root, rel);
        ck_assert_ptr_nonnull(p);
        return p;
}

static int vol_fd(void) {
        char *p = sub("vol");
        int fd;
        (void) mkdir(p, 0755);
        fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        free(p);
        return fd;
}

static void touch(const char *rel) {
        char *p = sub(rel);
        int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, "abc", 3), 3);
        close(fd);
        free(p);
}

/* Opens path (a client path) beneath the volume: the fd or a negative errno. */
static int open_path(int vfd, const char *path, int flags) {
        char **c = NULL;
        int k = volume_path_split(path, &c);
        if (k < 0)
                return k;
        k = volume_open_beneath(vfd, c, strv_length(c), flags);
        strv_free(c);
        return k;
}

START_TEST(test_split_refuses_dotdot_and_keeps_the_rest) {
        char **c = NULL;

        ck_assert_int_eq(volume_path_split("/a//b/./c/", &c), 0);
        ck_assert_uint_eq(strv_length(c), 3);
        ck_assert_str_eq(c[0], "a");
        ck_assert_str_eq(c[2], "c");
        strv_free(c);
        ck_assert_int_eq(volume_path_split("", &c), 0);
        ck_assert_uint_eq(strv_length(c), 0);
        strv_free(c);
        ck_assert_int_eq(volume_path_split(NULL, &c), 0);
        strv_free(c);
        c = NULL;
        ck_assert_int_eq(volume_path_split("..", &c), -EINVAL);
        ck_assert_int_eq(volume_path_split("/a/../../etc", &c), -EINVAL);
        ck_assert_int_eq(volume_path_split("a/..", &c), -EINVAL);
        ck_assert_ptr_null(c);
        /* "..." and "..x" are names, not parents. */
        ck_assert_int_eq(volume_path_split("/.../..x", &c), 0);
        ck_assert_uint_eq(strv_length(c), 2);
        strv_free(c);
        {
                char longname[300];
                memset(longname, 'x', sizeof longname - 1);
                longname[sizeof longname - 1] = '\0';
                ck_assert_int_eq(volume_path_split(longname, &c), -EINVAL);
        }
}
END_TEST

START_TEST(test_resolution_never_follows_symlinks) {
        _cleanup_close_ int vfd = vol_fd();
        _cleanup_free_ char *outside = sub("outside");
        char *p;

        touch("outside");
        ck_assert_int_eq(mkdir(p = sub("vol/dir"), 0755), 0);
        free(p);
        touch("vol/dir/file");
        ck_assert_int_eq(symlink(outside, p = sub("vol/link-file")), 0);
        free(p);
        ck_assert_int_eq(symlink(root, p = sub("vol/link-dir")), 0);
        free(p);
        ck_assert_int_eq(symlink("/", p = sub("vol/dir/root")), 0);
        free(p);
        ck_assert_int_eq(symlink("../..", p = sub("vol/dir/up")), 0);
        free(p);

        int fd = open_path(vfd, "/dir/file", O_RDONLY);
        ck_assert_int_ge(fd, 0);
        close(fd);
        ck_assert_int_eq(open_path(vfd, "/link-file", O_RDONLY), -ELOOP);
        ck_assert_int_eq(open_path(vfd, "/link-dir/outside", O_RDONLY), -ELOOP);
        ck_assert_int_eq(open_path(vfd, "/dir/root/etc/passwd", O_RDONLY), -ELOOP);
        ck_assert_int_eq(open_path(vfd, "/dir/up/outside", O_RDONLY), -ELOOP);
        ck_assert_int_eq(open_path(vfd, "/dir/../../outside", O_RDONLY), -EINVAL);
        ck_assert_int_eq(open_path(vfd, "/etc/passwd", O_RDONLY), -ENOENT);
        /* A parent for creating through a linked directory is refused too. */
        {
                char **c = NULL;
                int dfd = -1, k;
                ck_assert_int_eq(volume_path_split("/link-dir/new", &c), 0);
                /* The link is the last component of the parent: opened O_PATH|O_NOFOLLOW it is
                 * the link itself, which is not a directory. */
                k = volume_open_parent(vfd, c, strv_length(c), true, getuid(), getgid(), &dfd);
                ck_assert(k == -ELOOP || k == -ENOTDIR);
                strv_free(c);
                ck_assert_int_eq(volume_path_split("/link-dir/made/new", &c), 0);
                ck_assert_int_lt(volume_mkdir_p(vfd, c, strv_length(c) - 1, getuid(), getgid()), 0);
                strv_free(c);
                p = sub("made");
                ck_assert_int_ne(access(p, F_OK), 0);
                free(p);
        }
}
END_TEST

START_TEST(test_remove_acts_on_links_and_trees) {
        _cleanup_close_ int vfd = vol_fd();
        char *p;
        struct stat st;

        ck_assert_int_eq(mkdir(p = sub("keep"), 0755), 0);
        free(p);
        touch("keep/precious");
        {
                _cleanup_free_ char *target = sub("keep"), *at = sub("vol/to-keep");
                ck_assert_int_eq(symlink(target, at), 0);
        }
        ck_assert_int_eq(mkdir(p = sub("vol/tree"), 0755), 0);
        free(p);
        ck_assert_int_eq(mkdir(p = sub("vol/tree/sub"), 0755), 0);
        free(p);
        touch("vol/tree/sub/f");
        {
                _cleanup_free_ char *target = sub("keep"), *at = sub("vol/tree/sub/link");
                ck_assert_int_eq(symlink(target, at), 0);
        }

        ck_assert_int_eq(volume_remove_at(vfd, "to-keep"), 0);
        ck_assert_int_eq(volume_remove_at(vfd, "tree"), 0);
        ck_assert_int_eq(fstatat(vfd, "tree", &st, AT_SYMLINK_NOFOLLOW), -1);
        p = sub("keep/precious");
        ck_assert_int_eq(access(p, F_OK), 0);
        free(p);
        ck_assert_int_eq(volume_remove_at(vfd, "none"), -ENOENT);
}
END_TEST

START_TEST(test_list_is_sorted_and_hides_upload_temporaries) {
        _cleanup_close_ int vfd = vol_fd();
        _cleanup_close_ int dfd = -1;
        char name[VOLUME_TMP_NAME_MAX], *p;
        VolumeEntry *e = NULL;
        size_t n = 0;
        int tfd = -1;

        ck_assert_int_eq(mkdir(p = sub("vol/ls"), 0755), 0);
        free(p);
        touch("vol/ls/b");
        touch("vol/ls/a");
        ck_assert_int_eq(mkdir(p = sub("vol/ls/c"), 0755), 0);
        free(p);
        dfd = open_path(vfd, "/ls", O_RDONLY | O_DIRECTORY);
        ck_assert_int_ge(dfd, 0);
        ck_assert_int_eq(volume_tmpfile_at(dfd, getuid(), getgid(), name, &tfd), 0);
        ck_assert(startswith(name, VOLUME_UPLOAD_TMP_PREFIX) != NULL);
        close(tfd);
        ck_assert_int_eq(volume_list_dir(dfd, &e, &n), 0);
        ck_assert_uint_eq(n, 3);
        ck_assert_str_eq(e[0].name, "a");
        ck_assert_int_eq(e[0].type, VOLUME_FILE_REGULAR);
        ck_assert_uint_eq(e[0].size, 3);
        ck_assert_str_eq(e[2].name, "c");
        ck_assert_str_eq(volume_file_type_to_string(e[2].type), "dir");
        volume_entry_array_free(e, n);
}
END_TEST

int main(void) {
        Suite *s = suite_create("volume-files");
        TCase *tc = tcase_create("core");
        int r;

        if (!mkdtemp(root))
                return 99;
        tcase_add_test(tc, test_split_refuses_dotdot_and_keeps_the_rest);
        tcase_add_test(tc, test_resolution_never_follows_symlinks);
        tcase_add_test(tc, test_remove_acts_on_links_and_trees);
        tcase_add_test(tc, test_list_is_sorted_and_hides_upload_temporaries);
        tcase_set_timeout(tc, 30);
        suite_add_tcase(s, tc);
        r = run_suite(s);
        {
                char *cmd = asprintf_safe("rm -rf '%s'", root);
                if (cmd && system(cmd) != 0)
                        r = r ? r : 1;
                free(cmd);
        }
        return r;
}
