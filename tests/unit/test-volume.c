/* test-volume.c — volume directories: create with owner and mode, bytes used, removal that
 * never follows symlinks or leaves the root, id validation, size limits. */
#include <check.h>
#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"
#include "volume-mount.h"
#include "volume-userns.h"
#include "volume.h"
#include "test-main.h"

static char root[] = "/tmp/test-volume-XXXXXX";

static void write_bytes(const char *path, size_t n) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        char buf[4096] = {};
        ck_assert_int_ge(fd, 0);
        while (n > 0) {
                size_t k = n < sizeof buf ? n : sizeof buf;
                ck_assert_int_eq(write(fd, buf, k), (ssize_t) k);
                n -= k;
        }
        close(fd);
}

static char *sub(const char *rel) {
        char *p = asprintf_safe("%s/%s", root, rel);
        ck_assert_ptr_nonnull(p);
        return p;
}

START_TEST(test_create_sets_owner_and_mode) {
        struct stat st;
        char *p = sub("t1/v1");
        ck_assert_int_eq(volume_dir_create(root, "t1", "v1", 1234, 5678, 0770), 0);
        ck_assert_int_eq(stat(p, &st), 0);
        ck_assert(S_ISDIR(st.st_mode));
        ck_assert_uint_eq(st.st_mode & 07777, 0770);
        if (geteuid() == 0) {
                ck_assert_uint_eq(st.st_uid, 1234);
                ck_assert_uint_eq(st.st_gid, 5678);
        }
        ck_assert_int_eq(volume_dir_create(root, "t1", "v1", 0, 0, 0770), -EEXIST);
        ck_assert_int_eq(volume_dir_create(root, "t1", "ro", geteuid(), getegid(), 0750), 0);
        free(p);
        p = sub("t1/ro");
        ck_assert_int_eq(stat(p, &st), 0);
        ck_assert_uint_eq(st.st_mode & 07777, 0750);
        free(p);
}
END_TEST

/* The shipped user unit's seccomp filter (~@privileged) refuses every chown: a directory made
 * for this process's own uid:gid (keep-id) must not need one, another owner still fails. */
START_TEST(test_create_for_own_ids_needs_no_chown) {
        pid_t pid = fork();
        int status;

        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
                if (!ctx || seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(fchown), 0) < 0 ||
                    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(fchownat), 0) < 0 ||
                    seccomp_load(ctx) < 0)
                        _exit(2);
                if (volume_dir_create(root, "t2", "own", geteuid(), getegid(), 0770) != 0)
                        _exit(3);
                if (volume_dir_create(root, "t2", "foreign", geteuid() + 1, getegid(), 0770) != -EPERM)
                        _exit(4);
                _exit(0);
        }
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert(WIFEXITED(status));
        ck_assert_int_eq(WEXITSTATUS(status), 0);
}
END_TEST

START_TEST(test_invalid_ids_are_refused) {
        char *p = NULL;
        ck_assert_int_eq(volume_dir_create(root, "..", "x", 0, 0, 0770), -EINVAL);
        ck_assert_int_eq(volume_dir_create(root, "t", "..", 0, 0, 0770), -EINVAL);
        ck_assert_int_eq(volume_dir_create(root, "t", "a/b", 0, 0, 0770), -EINVAL);
        ck_assert_int_eq(volume_dir_create(root, "t", "", 0, 0, 0770), -EINVAL);
        ck_assert_int_eq(volume_dir_remove(root, "t", "../.."), -EINVAL);
        ck_assert_int_eq(volume_path(root, "t", "x", &p), 0);
        ck_assert(endswith(p, "/t/x"));
        free(p);
        ck_assert_int_eq(volume_path(root, "t", ".", &p), -EINVAL);
}
END_TEST

START_TEST(test_bytes_used_counts_files_not_symlink_targets) {
        uint64_t n = 0;
        char *a, *d, *b, *l, *outside;
        ck_assert_int_eq(volume_dir_create(root, "t2", "v", geteuid(), getegid(), 0770), 0);
        ck_assert_int_eq(volume_dir_bytes_used(root, "t2", "v", &n), 0);
        ck_assert_uint_eq(n, 0);
        a = sub("t2/v/a");
        d = sub("t2/v/d");
        b = sub("t2/v/d/b");
        l = sub("t2/v/link");
        outside = sub("outside");
        write_bytes(a, 10000);
        ck_assert_int_eq(mkdir(d, 0755), 0);
        write_bytes(b, 5000);
        write_bytes(outside, 1 << 20);
        ck_assert_int_eq(symlink(outside, l), 0);
        ck_assert_int_eq(volume_dir_bytes_used(root, "t2", "v", &n), 0);
        ck_assert_uint_eq(n, 15000 + strlen(outside));
        ck_assert_int_eq(volume_dir_bytes_used(root, "t2", "missing", &n), -ENOENT);
        free(a), free(d), free(b), free(l), free(outside);
}
END_TEST

START_TEST(test_remove_never_follows_symlinks) {
        struct stat st;
        char *v = sub("t3/v"), *d = sub("t3/v/d"), *keep = sub("keep"), *keepf = sub("keep/f");
        char *l1 = sub("t3/v/d/to-dir"), *l2 = sub("t3/v/to-file"), *vlink = sub("t3/evil");
        ck_assert_int_eq(volume_dir_create(root, "t3", "v", geteuid(), getegid(), 0770), 0);
        ck_assert_int_eq(mkdir(keep, 0755), 0);
        write_bytes(keepf, 100);
        ck_assert_int_eq(mkdir(d, 0755), 0);
        ck_assert_int_eq(symlink(keep, l1), 0);
        ck_assert_int_eq(symlink(keepf, l2), 0);
        /* a volume id that is itself a symlink to something outside: not a volume */
        ck_assert_int_eq(symlink(keep, vlink), 0);
        ck_assert_int_eq(volume_dir_remove(root, "t3", "evil"), -ENOTDIR);
        ck_assert_int_eq(volume_dir_remove(root, "t3", "v"), 0);
        ck_assert_int_eq(stat(v, &st), -1);
        ck_assert_int_eq(stat(keepf, &st), 0);
        ck_assert_uint_eq(st.st_size, 100);
        ck_assert_int_eq(volume_dir_remove(root, "t3", "v"), 0); /* gone already: fine */
        free(v), free(d), free(keep), free(keepf), free(l1), free(l2), free(vlink);
}
END_TEST

START_TEST(test_size_limit_parsing) {
        uint64_t v = 0;
        ck_assert_int_eq(volume_parse_size_limit("1Gi", &v), 0);
        ck_assert_uint_eq(v, UINT64_C(1) << 30);
        ck_assert_int_eq(volume_parse_size_limit("0", &v), 0);
        ck_assert_uint_eq(v, 0);
        ck_assert_int_eq(volume_parse_size_limit("", &v), -EINVAL);
        ck_assert_int_eq(volume_parse_size_limit(NULL, &v), -EINVAL);
        ck_assert_int_eq(volume_parse_size_limit("lots", &v), -EINVAL);
}
END_TEST

START_TEST(test_engine_volume_names) {
        char *n = NULL;
        ck_assert_int_eq(volume_engine_name("0b6a-11", false, &n), 0);
        ck_assert_str_eq(n, "aegis-vol-0b6a-11");
        free(n);
        ck_assert_int_eq(volume_engine_name("0b6a-11", true, &n), 0);
        ck_assert_str_eq(n, "aegis-vol-0b6a-11-ro");
        free(n);
        ck_assert_int_eq(volume_engine_name("../x", false, &n), -EINVAL);
        ck_assert_int_eq(volume_engine_name("", false, &n), -EINVAL);
}
END_TEST

START_TEST(test_nfs_options_are_exactly_the_documented_ones) {
        _cleanup_free_ char *state = path_join(root, "state"), *nfs = path_join(root, "state/nfs"),
                            *path = NULL, *podman = NULL, *docker = NULL;
        uint8_t key[VOLUME_NFS_KEY_SIZE];
        char **o = NULL;

        ck_assert_int_eq(volume_nfs_options("10.0.0.5", 2049, state, false, "acme", "v1", false, &o), 0);
        /* The key the options were made with is the gateway's: state/nfs/mount-key, 0600. */
        ck_assert_int_eq(volume_nfs_key_load(nfs, key), 0);
        ck_assert_int_eq(volume_nfs_export_path(key, "acme", "v1", &path), 0);
        ck_assert_uint_eq(strlen(path), strlen("/acme/v1/") + VOLUME_NFS_TOKEN_LEN);
        ck_assert(startswith(path, "/acme/v1/"));
        docker = asprintf_safe("device=:%s", path);
        podman = asprintf_safe("device=10.0.0.5:%s", path);
        ck_assert_uint_eq(strv_length(o), 3);
        ck_assert_str_eq(o[0], "type=nfs");
        ck_assert_str_eq(
                o[1], "o=addr=10.0.0.5,nfsvers=3,proto=tcp,port=2049,mountport=2049,soft,timeo=10,nolock");
        ck_assert_str_eq(o[2], docker);
        strv_free(o);
        ck_assert_int_eq(volume_nfs_options("10.0.0.5", 2049, state, true, "acme", "v1", false, &o), 0);
        ck_assert_str_eq(o[2], podman); /* the same key: loaded, not made again */
        strv_free(o);
        ck_assert_int_eq(volume_nfs_options("fd00::5", 2049, state, true, "acme", "v1", false, &o), 0);
        ck_assert(startswith(o[2], "device=[fd00::5]:/acme/v1/"));
        strv_free(o);
        ck_assert_int_eq(volume_nfs_options("nfs.example", 12049, state, true, "t", "v", true, &o), 0);
        ck_assert_str_eq(
                o[1],
                "o=addr=nfs.example,nfsvers=3,proto=tcp,port=12049,mountport=12049,soft,timeo=10,nolock,ro");
        strv_free(o);
        o = NULL;
        /* Another tenant's volume of the same id has another token. */
        _cleanup_free_ char *other = NULL;
        ck_assert_int_eq(volume_nfs_export_path(key, "other", "v1", &other), 0);
        ck_assert_str_ne(other + strlen("/other/v1/"), path + strlen("/acme/v1/"));
        /* Nothing can smuggle in another option or another export. */
        ck_assert_int_eq(volume_nfs_options("h,rw", 2049, state, true, "t", "v", false, &o), -EINVAL);
        ck_assert_int_eq(volume_nfs_options("h x", 2049, state, true, "t", "v", false, &o), -EINVAL);
        ck_assert_int_eq(volume_nfs_options("h=1", 2049, state, true, "t", "v", false, &o), -EINVAL);
        ck_assert_int_eq(volume_nfs_options("", 2049, state, true, "t", "v", false, &o), -EINVAL);
        ck_assert_int_eq(volume_nfs_options(NULL, 2049, state, true, "t", "v", false, &o), -EINVAL);
        ck_assert_int_eq(volume_nfs_options("h", 0, state, true, "t", "v", false, &o), -EINVAL);
        ck_assert_int_eq(volume_nfs_options("h", 2049, state, true, "..", "v", false, &o), -EINVAL);
        ck_assert_int_eq(volume_nfs_options("h", 2049, state, true, "t", "a/b", false, &o), -EINVAL);
        ck_assert_int_eq(volume_nfs_options("h", 2049, NULL, true, "t", "v", false, &o), -EINVAL);
        ck_assert_ptr_null(o);
}
END_TEST

/* No pause process: every volume operation says why, where and what to do. */
START_TEST(test_userns_unjoinable_says_why) {
        char *pid_file = sub("no-engine/pause.pid");
        uint64_t used;

        ck_assert_int_eq(volume_userns_set(pid_file), 0);
        ck_assert_int_eq(volume_dir_create(root, "tn", "v1", 1001, 1001, 0770), -ENOLINK);
        ck_assert_ptr_nonnull(strstr(volume_userns_strerror(-ENOLINK), pid_file));
        ck_assert_ptr_nonnull(strstr(volume_userns_strerror(-ENOLINK), "start the engine first"));
        ck_assert_int_eq(volume_dir_usage(root, "tn", "v1", 0, &used), -ENOLINK);
        ck_assert_int_eq(volume_dir_remove(root, "tn", "v1"), -ENOLINK);
        ck_assert_int_eq(volume_userns_set(NULL), 0);
        free(pid_file);
}
END_TEST

/* Whose a volume is: the agent's ids shifted by the containers' mapping, or (keep-id) this
 * process's own; which way a program takes from what its engine is. */
START_TEST(test_userns_owner_and_mode) {
        VolumeOwner shifted = { .mode = VOLUME_USERNS_HOST, .shift = 1879048192 },
                    self = { .mode = VOLUME_USERNS_KEEP_ID, .shift = 7 };

        ck_assert_uint_eq(volume_owner_uid(&shifted, 1000), 1879049192u);
        ck_assert_uint_eq(volume_owner_gid(&shifted, 1001), 1879049193u);
        ck_assert_uint_eq(volume_owner_uid(&self, 1000), getuid());
        ck_assert_uint_eq(volume_owner_gid(&self, 1001), getgid());
        /* Rootful or Docker: here, whatever the version. */
        ck_assert_int_eq(volume_userns_setup(false, false, true, NULL), VOLUME_USERNS_HOST);
        ck_assert_int_eq(volume_userns_setup(true, true, false, NULL), VOLUME_USERNS_HOST);
        ck_assert_ptr_null(volume_userns_pid_file());
        /* Rootless: keep-id when the engine takes it, else its namespace (root stays here). */
        ck_assert_int_eq(volume_userns_setup(true, false, true, NULL),
                         geteuid() == 0 ? VOLUME_USERNS_HOST : VOLUME_USERNS_KEEP_ID);
        ck_assert_ptr_null(volume_userns_pid_file());
        ck_assert_int_eq(volume_userns_setup(true, false, false, "/run/x/pause.pid"),
                         geteuid() == 0 ? VOLUME_USERNS_HOST : VOLUME_USERNS_ENGINE);
        if (geteuid() != 0)
                ck_assert_str_eq(volume_userns_pid_file(), "/run/x/pause.pid");
        ck_assert_int_eq(volume_userns_set(NULL), 0);
}
END_TEST

static void write_file(const char *path, const char *text) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t) strlen(text));
        close(fd);
}

/* A user namespace mapping its 1… to the host's 200000… (as a rootless engine's maps them to
 * the subordinate ids): the volume is created, owned and removed there, and what is owned
 * by 1001 inside is the host's 201000. Root only: it writes the namespace's maps. */
START_TEST(test_userns_works_in_the_namespace) {
        char *pid_file = sub("pause.pid"), *maps, *p, text[32];
        int ready[2];
        struct stat st;
        uint64_t used;
        pid_t pid;

        if (geteuid() != 0)
                return;
        ck_assert_int_eq(pipe2(ready, O_CLOEXEC), 0);
        pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                char c = unshare(CLONE_NEWUSER) == 0 ? 'y' : 'n';
                (void) write(ready[1], &c, 1);
                pause();
                _exit(0);
        }
        ck_assert_int_eq(read(ready[0], text, 1), 1);
        ck_assert_int_eq(text[0], 'y');
        maps = asprintf_safe("/proc/%d/uid_map", (int) pid);
        write_file(maps, "0 0 1\n1 200000 65536\n");
        free(maps);
        maps = asprintf_safe("/proc/%d/gid_map", (int) pid);
        write_file(maps, "0 0 1\n1 200000 65536\n");
        free(maps);
        (void) snprintf(text, sizeof text, "%d\n", (int) pid);
        write_file(pid_file, text);

        ck_assert_int_eq(volume_userns_set(pid_file), 0);
        ck_assert_int_eq(volume_dir_create(root, "tu", "v1", 1001, 1001, 0700), 0);
        p = sub("tu/v1");
        ck_assert_int_eq(stat(p, &st), 0);
        ck_assert_uint_eq(st.st_uid, 201000);
        ck_assert_uint_eq(st.st_gid, 201000);
        ck_assert_int_eq(volume_dir_usage(root, "tu", "v1", 0, &used), 0);
        ck_assert_uint_eq(used, 0);
        ck_assert_int_eq(volume_dir_remove(root, "tu", "v1"), 0);
        ck_assert_int_eq(stat(p, &st), -1);
        ck_assert_int_eq(volume_userns_set(NULL), 0);
        kill(pid, SIGKILL);
        (void) waitpid(pid, NULL, 0);
        close(ready[0]);
        close(ready[1]);
        free(p);
        free(pid_file);
}
END_TEST

int main(void) {
        Suite *s = suite_create("volume");
        TCase *tc = tcase_create("core");
        int r;

        if (!mkdtemp(root))
                return 99;
        tcase_add_test(tc, test_create_sets_owner_and_mode);
        tcase_add_test(tc, test_create_for_own_ids_needs_no_chown);
        tcase_add_test(tc, test_invalid_ids_are_refused);
        tcase_add_test(tc, test_bytes_used_counts_files_not_symlink_targets);
        tcase_add_test(tc, test_remove_never_follows_symlinks);
        tcase_add_test(tc, test_size_limit_parsing);
        tcase_add_test(tc, test_engine_volume_names);
        tcase_add_test(tc, test_nfs_options_are_exactly_the_documented_ones);
        tcase_add_test(tc, test_userns_unjoinable_says_why);
        tcase_add_test(tc, test_userns_owner_and_mode);
        tcase_add_test(tc, test_userns_works_in_the_namespace);
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
