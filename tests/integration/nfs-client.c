/* nfs-client.c — a small NFSv3 client on the libnfs C API, driven by the shell tests:
 *
 *   nfs-client URL COMMAND [ARGS]...     URL = nfs://HOST/TENANT/VOLUME?version=3&nfsport=N&mountport=N
 *
 * Commands (paths are relative to the volume root, starting with '/'):
 *   mkdir P | rmdir P | unlink P | rename A B | link A B | symlink TARGET P | readlink P
 *   write P TEXT | append-bytes P N | cat P | truncate P SIZE | stat P | statvfs
 *   create-many DIR N | readdir-count DIR   (READDIRPLUS paging with cookies)
 *   meta N                                    (metadata benchmark: N files create+write 16 B,
 *                                              stat, readdir, remove; prints seconds)
 *   fh P FILE                                 (save P's raw handle, hex, to FILE)
 *   root-fh FILE                              (save the volume root's handle to FILE)
 *   create-exclusive NAME VERF                (CREATE /NAME EXCLUSIVE, verifier VERF ≤ 8 chars)
 *   commit-verf P                             (COMMIT on P: prints the write verifier, hex)
 *   readdirplus-cookie good|bad               (READDIRPLUS of / resumed from a cookie with the
 *                                              verifier answered, or with it altered)
 *   chown P UID GID                           (SETATTR uid/gid)
 *   rename-into FILE NAME | link-into FILE NAME  (RENAME or LINK /NAME into the directory
 *                                              whose handle is in FILE, maybe another volume's)
 *   getattr-fh FILE [flip-byte N]             (GETATTR on a saved handle, optionally altered)
 *   read-fh FILE                              (READ of up to 4 KiB through a saved handle)
 *   mknod P
 *   append-raw P N [unstable|data_sync|file_sync]
 *                                             (one raw WRITE, FILE_SYNC unless named, of N
 *                                              bytes at P's end: prints the nfsstat3 name,
 *                                              which libnfs's own write calls do not report,
 *                                              and with a stable_how named, "committed=" the
 *                                              one the reply names)
 *   session                                   (one mount, one connection: commands read from
 *                                              stdin, one a line, each answer followed by a
 *                                              line "DONE"; for state the gateway keeps per
 *                                              connection, such as its cache of open files)
 * Prints "OK …" and exits 0, or prints "ERR <message>" (the libnfs error text, which names
 * the NFS3ERR_* code) and exits 1. The raw GETATTR prints the nfsstat3 name. */
#include <errno.h>
#include <fcntl.h>
#include <sys/time.h>
#include <sys/statvfs.h>
#include <inttypes.h>
#include <nfsc/libnfs.h>
#include <nfsc/libnfs-raw.h>
#include <nfsc/libnfs-raw-nfs.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* libnfs 4 keeps this private; nfs_get_fh() hands one out. */
struct nfs_fh {
        int len;
        char *val;
};

/* Exported by libnfs 4 but not declared in its public headers. */
const struct nfs_fh *nfs_get_rootfh(struct nfs_context *nfs);

static struct nfs_context *nfs;

static int fail(const char *what) {
        printf("ERR %s: %s\n", what, nfs_get_error(nfs));
        return 1;
}

static int write_all(struct nfsfh *fh, const char *data, size_t n) {
        while (n > 0) {
                int k = nfs_write(nfs, fh, n, data);
                if (k <= 0)
                        return -1;
                data += k;
                n -= (size_t) k;
        }
        return 0;
}

static double now(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct raw {
        int done;
        int status;
};

static void getattr_cb(struct rpc_context *rpc, int status, void *data, void *priv) {
        struct raw *r = priv;
        r->done = 1;
        r->status = status == RPC_STATUS_SUCCESS ? (int) ((GETATTR3res *) data)->status : -1;
}

static const char *nfsstat_name(int s) {
        switch (s) {
        case 0:
                return "NFS3_OK";
        case 70:
                return "NFS3ERR_STALE";
        case 10001:
                return "NFS3ERR_BADHANDLE";
        case 2:
                return "NFS3ERR_NOENT";
        case 13:
                return "NFS3ERR_ACCES";
        case 1:
                return "NFS3ERR_PERM";
        case 17:
                return "NFS3ERR_EXIST";
        case 10003:
                return "NFS3ERR_BAD_COOKIE";
        case 27:
                return "NFS3ERR_FBIG";
        case 28:
                return "NFS3ERR_NOSPC";
        case 30:
                return "NFS3ERR_ROFS";
        case 69:
                return "NFS3ERR_DQUOT";
        default:
                return "OTHER";
        }
}

/* Every NFSv3 result starts with its nfsstat3: enough for the generic callback. */
struct rawres {
        int done, status;
        char fh[64];
        unsigned fhlen;
};

static void status_cb(struct rpc_context *rpc, int status, void *data, void *priv) {
        struct rawres *r = priv;
        r->done = 1;
        r->status = status == RPC_STATUS_SUCCESS ? *(int *) data : -1;
}

static void lookup_cb(struct rpc_context *rpc, int status, void *data, void *priv) {
        struct rawres *r = priv;
        LOOKUP3res *res = data;
        status_cb(rpc, status, data, priv);
        if (r->status == 0 && res->LOOKUP3res_u.resok.object.data.data_len <= sizeof(r->fh)) {
                r->fhlen = res->LOOKUP3res_u.resok.object.data.data_len;
                memcpy(r->fh, res->LOOKUP3res_u.resok.object.data.data_val, r->fhlen);
        }
}

static int raw_wait(struct rpc_context *rpc, struct rawres *r) {
        while (!r->done) {
                struct pollfd p = { .fd = rpc_get_fd(rpc), .events = rpc_which_events(rpc) };
                if (poll(&p, 1, 5000) <= 0 || rpc_service(rpc, p.revents) < 0) {
                        printf("ERR rpc: %s\n", rpc_get_error(rpc));
                        return -1;
                }
        }
        return 0;
}

static size_t read_hex(const char *file, char *fh, size_t max) {
        char hex[300] = "";
        size_t n = 0;
        FILE *f = fopen(file, "re");
        if (!f || !fgets(hex, sizeof(hex), f))
                return 0;
        fclose(f);
        for (; hex[2 * n] && hex[2 * n] != '\n' && n < max; n++) {
                unsigned b;
                sscanf(hex + 2 * n, "%2x", &b);
                fh[n] = (char) b;
        }
        return n;
}

/* LOOKUP(root, "..") must give the root's own handle. */
static int raw_lookup_dotdot(void) {
        struct rpc_context *rpc = nfs_get_rpc_context(nfs);
        const struct nfs_fh *root = nfs_get_rootfh(nfs);
        LOOKUP3args args;
        struct rawres r = { 0 };

        memset(&args, 0, sizeof(args));
        args.what.dir.data.data_len = root->len;
        args.what.dir.data.data_val = root->val;
        args.what.name = "..";
        if (rpc_nfs3_lookup_async(rpc, lookup_cb, &args, &r) != 0 || raw_wait(rpc, &r) < 0)
                return fail("lookup");
        if (r.status != 0) {
                printf("ERR %s\n", nfsstat_name(r.status));
                return 1;
        }
        printf("%s\n", (int) r.fhlen == root->len && !memcmp(r.fh, root->val, r.fhlen) ? "OK same"
                                                                                       : "ERR different");
        return 0;
}

/* RENAME /NAME of this volume into the directory whose handle is in FILE (another volume). */
static int raw_rename_into(const char *file, char *name) {
        struct rpc_context *rpc = nfs_get_rpc_context(nfs);
        const struct nfs_fh *root = nfs_get_rootfh(nfs);
        char fh[128];
        size_t n = read_hex(file, fh, sizeof(fh));
        RENAME3args args;
        struct rawres r = { 0 };

        memset(&args, 0, sizeof(args));
        args.from.dir.data.data_len = root->len;
        args.from.dir.data.data_val = root->val;
        args.from.name = name;
        args.to.dir.data.data_len = n;
        args.to.dir.data.data_val = fh;
        args.to.name = name;
        if (rpc_nfs3_rename_async(rpc, status_cb, &args, &r) != 0 || raw_wait(rpc, &r) < 0)
                return fail("rename");
        printf("%s %s\n", r.status == 0 ? "OK" : "ERR",
               r.status == 18 ? "NFS3ERR_XDEV" : nfsstat_name(r.status));
        return r.status == 0 ? 0 : 1;
}

/* LINK /NAME of this volume into the directory whose handle is in FILE, as NAME. */
static int raw_link_into(const char *file, char *name) {
        struct rpc_context *rpc = nfs_get_rpc_context(nfs);
        struct nfsfh *src;
        const struct nfs_fh *h;
        char fh[128], path[300];
        size_t n = read_hex(file, fh, sizeof(fh));
        LINK3args args;
        struct rawres r = { 0 };

        snprintf(path, sizeof(path), "/%s", name);
        if (nfs_open(nfs, path, O_RDONLY, &src) < 0)
                return fail("open");
        h = nfs_get_fh(src);
        memset(&args, 0, sizeof(args));
        args.file.data.data_len = h->len;
        args.file.data.data_val = h->val;
        args.link.dir.data.data_len = n;
        args.link.dir.data.data_val = fh;
        args.link.name = name;
        if (rpc_nfs3_link_async(rpc, status_cb, &args, &r) != 0 || raw_wait(rpc, &r) < 0) {
                nfs_close(nfs, src);
                return fail("link");
        }
        nfs_close(nfs, src);
        printf("%s %s\n", r.status == 0 ? "OK" : "ERR",
               r.status == 18 ? "NFS3ERR_XDEV" : nfsstat_name(r.status));
        return r.status == 0 ? 0 : 1;
}

/* CREATE NAME in the root, EXCLUSIVE with the 8-byte verifier VERF (a string, zero-padded). */
static int raw_create_exclusive(char *name, const char *verf) {
        struct rpc_context *rpc = nfs_get_rpc_context(nfs);
        const struct nfs_fh *root = nfs_get_rootfh(nfs);
        CREATE3args args;
        struct rawres r = { 0 };

        memset(&args, 0, sizeof(args));
        args.where.dir.data.data_len = root->len;
        args.where.dir.data.data_val = root->val;
        args.where.name = name;
        args.how.mode = EXCLUSIVE;
        strncpy(args.how.createhow3_u.verf, verf, sizeof(args.how.createhow3_u.verf));
        if (rpc_nfs3_create_async(rpc, status_cb, &args, &r) != 0 || raw_wait(rpc, &r) < 0)
                return fail("create");
        printf("%s %s\n", r.status == 0 ? "OK" : "ERR", nfsstat_name(r.status));
        return r.status == 0 ? 0 : 1;
}

struct verfres {
        int done, status;
        unsigned char verf[8];
        uint64_t cookie;
};

static void commit_cb(struct rpc_context *rpc, int status, void *data, void *priv) {
        struct verfres *r = priv;
        COMMIT3res *res = data;
        r->done = 1;
        r->status = status == RPC_STATUS_SUCCESS ? (int) res->status : -1;
        if (r->status == 0)
                memcpy(r->verf, res->COMMIT3res_u.resok.verf, 8);
}

static int verf_wait(struct rpc_context *rpc, struct verfres *r) {
        while (!r->done) {
                struct pollfd p = { .fd = rpc_get_fd(rpc), .events = rpc_which_events(rpc) };
                if (poll(&p, 1, 5000) <= 0 || rpc_service(rpc, p.revents) < 0) {
                        printf("ERR rpc: %s\n", rpc_get_error(rpc));
                        return -1;
                }
        }
        return 0;
}

/* COMMIT on P: prints the write verifier the gateway answers (hex). */
static int raw_commit_verf(const char *path) {
        struct rpc_context *rpc = nfs_get_rpc_context(nfs);
        struct nfsfh *f;
        struct nfs_fh *h;
        COMMIT3args args;
        struct verfres r = { 0 };

        if (nfs_open(nfs, path, O_RDONLY, &f) < 0)
                return fail("open");
        h = nfs_get_fh(f);
        memset(&args, 0, sizeof(args));
        args.file.data.data_len = h->len;
        args.file.data.data_val = h->val;
        if (rpc_nfs3_commit_async(rpc, commit_cb, &args, &r) != 0 || verf_wait(rpc, &r) < 0) {
                nfs_close(nfs, f);
                return fail("commit");
        }
        nfs_close(nfs, f);
        if (r.status != 0) {
                printf("ERR %s\n", nfsstat_name(r.status));
                return 1;
        }
        printf("OK ");
        for (int i = 0; i < 8; i++)
                printf("%02x", r.verf[i]);
        printf("\n");
        return 0;
}

static void readdirplus_cb(struct rpc_context *rpc, int status, void *data, void *priv) {
        struct verfres *r = priv;
        READDIRPLUS3res *res = data;
        r->done = 1;
        r->status = status == RPC_STATUS_SUCCESS ? (int) res->status : -1;
        if (r->status == 0) {
                memcpy(r->verf, res->READDIRPLUS3res_u.resok.cookieverf, 8);
                /* libnfs's decoder places entries at 4-byte alignment: copy the 8-byte
                 * cookie out by offset (a member access there is undefined behaviour). */
                const char *e = (const char *) res->READDIRPLUS3res_u.resok.reply.entries;
                if (e)
                        memcpy(&r->cookie, e + offsetof(struct entryplus3, cookie), sizeof(r->cookie));
        }
}

/* READDIRPLUS of the root from cookie 0 (one entry's worth), then again from the first
 * entry's cookie with the verifier it answered ("good") or that verifier altered ("bad"). */
static int raw_readdirplus_cookie(const char *mode) {
        struct rpc_context *rpc = nfs_get_rpc_context(nfs);
        const struct nfs_fh *root = nfs_get_rootfh(nfs);
        READDIRPLUS3args args;
        struct verfres first = { 0 }, second = { 0 };

        memset(&args, 0, sizeof(args));
        args.dir.data.data_len = root->len;
        args.dir.data.data_val = root->val;
        args.dircount = 512;
        args.maxcount = 4096;
        if (rpc_nfs3_readdirplus_async(rpc, readdirplus_cb, &args, &first) != 0 ||
            verf_wait(rpc, &first) < 0)
                return fail("readdirplus");
        if (first.status != 0 || first.cookie == 0) {
                printf("ERR first call: %s\n", nfsstat_name(first.status));
                return 1;
        }
        args.cookie = first.cookie;
        memcpy(args.cookieverf, first.verf, 8);
        if (!strcmp(mode, "bad"))
                args.cookieverf[0] ^= 0x01;
        if (rpc_nfs3_readdirplus_async(rpc, readdirplus_cb, &args, &second) != 0 ||
            verf_wait(rpc, &second) < 0)
                return fail("readdirplus");
        printf("%s %s\n", second.status == 0 ? "OK" : "ERR", nfsstat_name(second.status));
        return second.status == 0 ? 0 : 1;
}

static int raw_getattr(const char *hexfile, int flip) {
        struct rpc_context *rpc = nfs_get_rpc_context(nfs);
        char hex[300] = "", fh[128];
        size_t n = 0;
        FILE *f = fopen(hexfile, "re");
        GETATTR3args args;
        struct raw r = { 0 };

        if (!f || !fgets(hex, sizeof(hex), f)) {
                printf("ERR cannot read %s\n", hexfile);
                return 1;
        }
        fclose(f);
        for (; hex[2 * n] && hex[2 * n] != '\n' && n < sizeof(fh); n++) {
                unsigned b;
                sscanf(hex + 2 * n, "%2x", &b);
                fh[n] = (char) b;
        }
        if (flip >= 0 && (size_t) flip < n)
                fh[flip] ^= 0x01;
        memset(&args, 0, sizeof(args));
        args.object.data.data_len = n;
        args.object.data.data_val = fh;
        if (rpc_nfs3_getattr_async(rpc, getattr_cb, &args, &r) != 0)
                return fail("getattr");
        while (!r.done) {
                struct pollfd p = { .fd = rpc_get_fd(rpc), .events = rpc_which_events(rpc) };
                if (poll(&p, 1, 5000) <= 0 || rpc_service(rpc, p.revents) < 0) {
                        printf("ERR rpc: %s\n", rpc_get_error(rpc));
                        return 1;
                }
        }
        printf("%s %s\n", r.status == 0 ? "OK" : "ERR", nfsstat_name(r.status));
        return r.status == 0 ? 0 : 1;
}

static void read_cb(struct rpc_context *rpc, int status, void *data, void *priv) {
        struct rawres *r = priv;
        READ3res *res = data;
        status_cb(rpc, status, data, priv);
        if (r->status == 0) {
                r->fhlen = res->READ3res_u.resok.data.data_len < sizeof(r->fh)
                                   ? res->READ3res_u.resok.data.data_len
                                   : sizeof(r->fh) - 1;
                memcpy(r->fh, res->READ3res_u.resok.data.data_val, r->fhlen);
        }
}

/* READ through the handle saved in FILE (obtained by whoever saved it). */
static int raw_read(const char *file) {
        struct rpc_context *rpc = nfs_get_rpc_context(nfs);
        char fh[128];
        size_t n = read_hex(file, fh, sizeof(fh));
        READ3args args;
        struct rawres r = { 0 };

        memset(&args, 0, sizeof(args));
        args.file.data.data_len = n;
        args.file.data.data_val = fh;
        args.count = 4096;
        if (rpc_nfs3_read_async(rpc, read_cb, &args, &r) != 0 || raw_wait(rpc, &r) < 0)
                return fail("read");
        if (r.status != 0) {
                printf("ERR %s\n", nfsstat_name(r.status));
                return 1;
        }
        printf("OK %.*s\n", (int) r.fhlen, r.fh);
        return 0;
}

/* Opens path for writing (created if missing) and fills *buf with n bytes 'q' to append at
 * *end, its current size: 0, or the exit status of a failure (nothing left open). */
static int open_for_append(const char *path, size_t n, struct nfsfh **fh, uint64_t *end, char **buf) {
        struct nfs_stat_64 st;
        int k;

        if (nfs_open(nfs, path, O_WRONLY, fh) < 0 && nfs_creat(nfs, path, 0644, fh) < 0)
                return fail("open");
        if (nfs_fstat64(nfs, *fh, &st) < 0) {
                k = fail("fstat");
                nfs_close(nfs, *fh);
                return k;
        }
        *buf = malloc(n ? n : 1);
        if (!*buf) {
                nfs_close(nfs, *fh);
                return fail("malloc");
        }
        memset(*buf, 'q', n);
        *end = st.nfs_size;
        return 0;
}

struct writeres {
        struct rawres raw;
        int committed;
};

static void write_cb(struct rpc_context *rpc, int status, void *data, void *priv) {
        struct writeres *w = priv;
        status_cb(rpc, status, data, &w->raw);
        if (w->raw.status == 0)
                w->committed = (int) ((WRITE3res *) data)->WRITE3res_u.resok.committed;
}

static const char *const stable_names[] = { "unstable", "data_sync", "file_sync" };

/* One WRITE3 of n bytes ('q') at the end of path, created if missing; how: a stable_how3,
 * or -1 for FILE_SYNC with the short answer. */
static int raw_append(const char *path, size_t n, int how) {
        struct rpc_context *rpc = nfs_get_rpc_context(nfs);
        struct nfsfh *fh;
        struct nfs_fh *h;
        WRITE3args args;
        struct writeres w = { 0 };
        struct rawres *r = &w.raw;
        uint64_t end;
        char *buf;
        int k;

        if ((k = open_for_append(path, n, &fh, &end, &buf)))
                return k;
        h = nfs_get_fh(fh);
        memset(&args, 0, sizeof(args));
        args.file.data.data_len = (u_int) h->len;
        args.file.data.data_val = h->val;
        args.offset = end;
        args.count = (count3) n;
        args.stable = how < 0 ? FILE_SYNC : (stable_how) how;
        args.data.data_len = (u_int) n;
        args.data.data_val = buf;
        k = rpc_nfs3_write_async(rpc, write_cb, &args, &w) != 0 || raw_wait(rpc, r) < 0;
        free(buf);
        nfs_close(nfs, fh);
        if (k)
                return fail("write");
        if (how >= 0 && r->status == 0 && w.committed >= 0 && w.committed <= FILE_SYNC)
                printf("OK NFS3_OK committed=%s\n", stable_names[w.committed]);
        else
                printf("%s %s\n", r->status == 0 ? "OK" : "ERR", nfsstat_name(r->status));
        return r->status == 0 ? 0 : 1;
}

static int cmd(int argc, char **argv) {
        const char *c = argv[0];
        struct nfsfh *fh;
        struct nfs_stat_64 st;

        if (!strcmp(c, "mkdir") && argc == 2)
                return nfs_mkdir(nfs, argv[1]) < 0 ? fail("mkdir") : (puts("OK"), 0);
        if (!strcmp(c, "rmdir") && argc == 2)
                return nfs_rmdir(nfs, argv[1]) < 0 ? fail("rmdir") : (puts("OK"), 0);
        if (!strcmp(c, "unlink") && argc == 2)
                return nfs_unlink(nfs, argv[1]) < 0 ? fail("unlink") : (puts("OK"), 0);
        if (!strcmp(c, "rename") && argc == 3)
                return nfs_rename(nfs, argv[1], argv[2]) < 0 ? fail("rename") : (puts("OK"), 0);
        if (!strcmp(c, "link") && argc == 3)
                return nfs_link(nfs, argv[1], argv[2]) < 0 ? fail("link") : (puts("OK"), 0);
        if (!strcmp(c, "symlink") && argc == 3)
                return nfs_symlink(nfs, argv[1], argv[2]) < 0 ? fail("symlink") : (puts("OK"), 0);
        if (!strcmp(c, "mknod") && argc == 2)
                return nfs_mknod(nfs, argv[1], S_IFIFO | 0644, 0) < 0 ? fail("mknod") : (puts("OK"), 0);
        if (!strcmp(c, "readlink") && argc == 2) {
                char buf[1100];
                if (nfs_readlink(nfs, argv[1], buf, sizeof(buf)) < 0)
                        return fail("readlink");
                printf("OK %s\n", buf);
                return 0;
        }
        if (!strcmp(c, "write") && argc == 3) {
                if (nfs_creat(nfs, argv[1], 0644, &fh) < 0)
                        return fail("creat");
                if (write_all(fh, argv[2], strlen(argv[2])) < 0) {
                        int r = fail("write");
                        nfs_close(nfs, fh);
                        return r;
                }
                if (nfs_close(nfs, fh) < 0)
                        return fail("close");
                puts("OK");
                return 0;
        }
        if (!strcmp(c, "append-bytes") && argc == 3) {
                /* One WRITE of N bytes at the current end (quota tests). */
                size_t n = strtoull(argv[2], NULL, 10);
                uint64_t end;
                char *buf;
                int r;
                if ((r = open_for_append(argv[1], n, &fh, &end, &buf)))
                        return r;
                r = nfs_pwrite(nfs, fh, end, n, buf);
                free(buf);
                if (r < 0 || (size_t) r != n) {
                        printf("ERR pwrite rc=%d (%s): ", r, strerror(r < 0 ? -r : EIO));
                        r = fail("pwrite");
                        nfs_close(nfs, fh);
                        return r;
                }
                nfs_close(nfs, fh);
                puts("OK");
                return 0;
        }
        if (!strcmp(c, "cat") && argc == 2) {
                char buf[65536];
                int n;
                if (nfs_open(nfs, argv[1], O_RDONLY, &fh) < 0)
                        return fail("open");
                printf("OK ");
                while ((n = nfs_read(nfs, fh, sizeof(buf), buf)) > 0)
                        fwrite(buf, 1, n, stdout);
                putchar('\n');
                nfs_close(nfs, fh);
                return n < 0 ? fail("read") : 0;
        }
        if (!strcmp(c, "truncate") && argc == 3)
                return nfs_truncate(nfs, argv[1], strtoull(argv[2], NULL, 10)) < 0 ? fail("truncate")
                                                                                   : (puts("OK"), 0);
        if (!strcmp(c, "stat") && argc == 2) {
                if (nfs_lstat64(nfs, argv[1], &st) < 0)
                        return fail("stat");
                printf("OK size=%" PRIu64 " uid=%" PRIu64 " gid=%" PRIu64 " mode=%o nlink=%" PRIu64 "\n",
                       st.nfs_size, st.nfs_uid, st.nfs_gid, (unsigned) st.nfs_mode, st.nfs_nlink);
                return 0;
        }
        if (!strcmp(c, "statvfs") && argc == 1) {
                struct statvfs sv;
                if (nfs_statvfs(nfs, "/", &sv) < 0)
                        return fail("statvfs");
                printf("OK total=%" PRIu64 " free=%" PRIu64 " avail=%" PRIu64 " files=%" PRIu64
                       " ffree=%" PRIu64 "\n",
                       (uint64_t) sv.f_blocks * sv.f_frsize, (uint64_t) sv.f_bfree * sv.f_frsize,
                       (uint64_t) sv.f_bavail * sv.f_frsize, (uint64_t) sv.f_files, (uint64_t) sv.f_ffree);
                return 0;
        }
        if (!strcmp(c, "create-many") && argc == 3) {
                int n = (int) strtol(argv[2], NULL, 10);
                char p[4096];
                for (int i = 0; i < n; i++) {
                        snprintf(p, sizeof(p), "%s/f%05d", argv[1], i);
                        if (nfs_creat(nfs, p, 0644, &fh) < 0)
                                return fail("creat");
                        nfs_close(nfs, fh);
                }
                puts("OK");
                return 0;
        }
        if (!strcmp(c, "readdir-count") && argc == 2) {
                struct nfsdir *d;
                struct nfsdirent *e;
                long n = 0, bad = 0;
                if (nfs_opendir(nfs, argv[1], &d) < 0)
                        return fail("opendir");
                while ((e = nfs_readdir(nfs, d)))
                        if (strcmp(e->name, ".") && strcmp(e->name, "..")) {
                                n++;
                                /* READDIRPLUS attributes: every entry squashed to the volume owner. */
                                if (e->uid !=
                                    (uint32_t) (int) strtol(
                                            getenv("EXPECT_UID") ? getenv("EXPECT_UID") : "0", NULL, 10))
                                        bad++;
                        }
                nfs_closedir(nfs, d);
                printf("OK %ld %ld\n", n, bad);
                return 0;
        }
        if (!strcmp(c, "fh") && argc == 3) {
                struct nfs_fh *h;
                FILE *f;
                int len;
                if (nfs_open(nfs, argv[1], O_RDONLY, &fh) < 0)
                        return fail("open");
                h = nfs_get_fh(fh);
                f = fopen(argv[2], "we");
                for (int i = 0; i < h->len; i++)
                        fprintf(f, "%02x", (unsigned char) h->val[i]);
                fputc('\n', f);
                fclose(f);
                len = h->len;
                nfs_close(nfs, fh);
                printf("OK %d\n", len);
                return 0;
        }
        if (!strcmp(c, "lookup-dotdot") && argc == 1)
                return raw_lookup_dotdot();
        if (!strcmp(c, "rename-into") && argc == 3)
                return raw_rename_into(argv[1], argv[2]);
        if (!strcmp(c, "create-exclusive") && argc == 3)
                return raw_create_exclusive(argv[1], argv[2]);
        if (!strcmp(c, "commit-verf") && argc == 2)
                return raw_commit_verf(argv[1]);
        if (!strcmp(c, "readdirplus-cookie") && argc == 2 &&
            (!strcmp(argv[1], "good") || !strcmp(argv[1], "bad")))
                return raw_readdirplus_cookie(argv[1]);
        if (!strcmp(c, "chown") && argc == 4)
                return nfs_chown(nfs, argv[1], (int) strtol(argv[2], NULL, 10),
                                 (int) strtol(argv[3], NULL, 10)) < 0
                               ? fail("chown")
                               : (puts("OK"), 0);
        if (!strcmp(c, "link-into") && argc == 3)
                return raw_link_into(argv[1], argv[2]);
        if (!strcmp(c, "root-fh") && argc == 2) {
                const struct nfs_fh *h = nfs_get_rootfh(nfs);
                FILE *f = fopen(argv[1], "we");
                for (int i = 0; i < h->len; i++)
                        fprintf(f, "%02x", (unsigned char) h->val[i]);
                fputc('\n', f);
                fclose(f);
                puts("OK");
                return 0;
        }
        if (!strcmp(c, "getattr-fh") && (argc == 2 || (argc == 4 && !strcmp(argv[2], "flip-byte"))))
                return raw_getattr(argv[1], argc == 4 ? (int) strtol(argv[3], NULL, 10) : -1);
        if (!strcmp(c, "read-fh") && argc == 2)
                return raw_read(argv[1]);
        if (!strcmp(c, "append-raw") && argc == 3)
                return raw_append(argv[1], strtoull(argv[2], NULL, 10), -1);
        if (!strcmp(c, "append-raw") && argc == 4)
                for (int how = UNSTABLE; how <= FILE_SYNC; how++)
                        if (!strcmp(argv[3], stable_names[how]))
                                return raw_append(argv[1], strtoull(argv[2], NULL, 10), how);
        if (!strcmp(c, "meta") && argc == 2) {
                int n = (int) strtol(argv[1], NULL, 10);
                char p[256];
                double t0 = now(), t1, t2, t3, t4;
                struct nfsdir *d;
                long seen = 0;
                if (nfs_mkdir(nfs, "/meta") < 0)
                        return fail("mkdir");
                for (int i = 0; i < n; i++) {
                        snprintf(p, sizeof(p), "/meta/f%05d", i);
                        if (nfs_creat(nfs, p, 0644, &fh) < 0 || write_all(fh, "0123456789abcdef", 16) < 0)
                                return fail("create+write");
                        nfs_close(nfs, fh);
                }
                t1 = now();
                for (int i = 0; i < n; i++) {
                        snprintf(p, sizeof(p), "/meta/f%05d", i);
                        if (nfs_stat64(nfs, p, &st) < 0 || st.nfs_size != 16)
                                return fail("stat");
                }
                t2 = now();
                if (nfs_opendir(nfs, "/meta", &d) < 0)
                        return fail("opendir");
                while (nfs_readdir(nfs, d))
                        seen++;
                nfs_closedir(nfs, d);
                t3 = now();
                for (int i = 0; i < n; i++) {
                        snprintf(p, sizeof(p), "/meta/f%05d", i);
                        if (nfs_unlink(nfs, p) < 0)
                                return fail("unlink");
                }
                if (nfs_rmdir(nfs, "/meta") < 0)
                        return fail("rmdir");
                t4 = now();
                printf("OK create+write=%.3f stat=%.3f readdir=%.3f remove=%.3f total=%.3f entries=%ld\n",
                       t1 - t0, t2 - t1, t3 - t2, t4 - t3, t4 - t0, seen);
                return 0;
        }
        printf("ERR unknown command or arguments: %s\n", c);
        return 2;
}

int main(int argc, char **argv) {
        struct nfs_url *url;
        int r;

        if (argc < 3) {
                fprintf(stderr, "usage: %s URL COMMAND [ARGS]...\n", argv[0]);
                return 2;
        }
        nfs = nfs_init_context();
        if (!nfs)
                return 2;
        nfs_set_timeout(nfs, 10000);
        url = nfs_parse_url_dir(nfs, argv[1]);
        if (!url) {
                printf("ERR url: %s\n", nfs_get_error(nfs));
                return 2;
        }
        if (nfs_mount(nfs, url->server, url->path) < 0) {
                r = fail("mount");
                nfs_destroy_url(url);
                nfs_destroy_context(nfs);
                return r;
        }
        if (argc == 3 && !strcmp(argv[2], "session")) {
                char line[4096];
                r = 0;
                while (fgets(line, sizeof(line), stdin)) {
                        char *tok[8];
                        int n = 0;
                        char *save = NULL;
                        for (char *t = strtok_r(line, " \t\n", &save); t && n < 8;
                             t = strtok_r(NULL, " \t\n", &save))
                                tok[n++] = t;
                        if (n > 0)
                                (void) cmd(n, tok);
                        printf("DONE\n");
                        fflush(stdout);
                }
        } else
                r = cmd(argc - 2, argv + 2);
        nfs_destroy_url(url);
        nfs_destroy_context(nfs);
        return r;
}
