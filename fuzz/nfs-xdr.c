/* nfs-xdr.c — libFuzzer target over the gateway's request path: RPC call header, auth,
 * program/procedure dispatch, XDR argument decoding and the NFSv3/MOUNT handlers, on a
 * scratch volume (quota 1 MiB, so writes stay small).
 *
 * Handles are HMAC'd, so random bytes never name a file: every 40-byte run of 0xAA in the
 * input is replaced by the scratch volume's root handle, which lets the seed corpus (and
 * the mutations of it) reach LOOKUP, READ, WRITE, READDIRPLUS… on real files. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "nfs-gateway.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static NfsGateway *gateway;
static uint8_t root_fh[NFS_HANDLE_SIZE];

static void setup(void) {
        static const uint8_t key[NFS_HANDLE_KEY_SIZE] = { 1, 2, 3 }, verf[8] = { 4 };
        const char *tmp = getenv("TMPDIR");
        char dir[200], path[256];
        NfsExports *exports;
        NfsVol *v;
        NfsObj root = NFS_OBJ_NULL;
        char *export = NULL;
        NfsHandle h;
        FILE *f;

        log_set_max_level(LOG_CRIT);
        snprintf(dir, sizeof(dir), "%s/nfs-xdr-fuzz.XXXXXX", tmp && *tmp == '/' ? tmp : "/tmp");
        if (!mkdtemp(dir))
                abort();
        snprintf(path, sizeof(path), "%s/t/v/d", dir);
        if (mkdir_p(path, 0755) < 0)
                abort();
        snprintf(path, sizeof(path), "%s/t/v/a", dir);
        f = fopen(path, "we");
        if (!f)
                abort();
        fputs("hello fuzzer\n", f);
        fclose(f);
        snprintf(path, sizeof(path), "%s/t/v/l", dir);
        (void) symlink("a", path);
        snprintf(path, sizeof(path), "%s/exports", dir);
        f = fopen(path, "we");
        if (!f)
                abort();
        fputs("t v 0 0 1Mi read-write active\nt ro 0 0 0 read-only active\n", f);
        fclose(f);
        if (nfs_exports_new(path, &exports) < 0 || nfs_gateway_new(dir, exports, key, verf, &gateway) < 0 ||
            volume_nfs_export_path(gateway->mount_key, "t", "v", &export) < 0 ||
            nfs_gateway_mount(gateway, "127.0.0.1", export, &v) < 0 || nfs_vol_root(v, &root) < 0)
                abort();
        free(export);
        nfs_vol_handle(v, &root, &h);
        nfs_handle_encode(gateway->key, &h, root_fh);
        nfs_obj_done(&root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        NfsPeer peer = { .host = "127.0.0.1", .port = 700, .local_port = 2049 };
        uint8_t *buf, *reply = NULL;
        size_t reply_size = 0;

        if (!gateway)
                setup();
        if (size > NFS_MAX_RECORD)
                return 0;
        buf = malloc(size ? size : 1);
        if (!buf)
                return 0;
        memcpy(buf, data, size);
        for (size_t i = 0; i + NFS_HANDLE_SIZE <= size; i++) {
                size_t n = 0;
                while (n < NFS_HANDLE_SIZE && buf[i + n] == 0xAA)
                        n++;
                if (n == NFS_HANDLE_SIZE) {
                        memcpy(buf + i, root_fh, NFS_HANDLE_SIZE);
                        i += NFS_HANDLE_SIZE - 1;
                }
        }
        (void) nfs_rpc_process(gateway, &peer, buf, size, &reply, &reply_size);
        free(reply);
        free(buf);
        return 0;
}
