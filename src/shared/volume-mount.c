/* volume-mount.c — see volume-mount.h. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hmac.h"
#include "macros.h"
#include "util.h"
#include "volume-mount.h"

int volume_engine_name(const char *volume_id, bool read_only, char **ret) {
        char *n;

        if (!id_is_valid(volume_id))
                return -EINVAL;
        n = asprintf_safe(VOLUME_ENGINE_PREFIX "%s%s", volume_id, read_only ? "-ro" : "");
        if (!n)
                return -ENOMEM;
        *ret = n;
        return 0;
}

/* A host for addr=: anything that could end the option or start another is refused. */
static bool nfs_host_valid(const char *h) {
        if (isempty(h) || strlen(h) > 253)
                return false;
        for (const char *p = h; *p; p++)
                if ((unsigned char) *p <= ' ' || *p == ',' || *p == '=' || *p == '/' || *p == '"' ||
                    *p == '\\' || (unsigned char) *p == 0x7f)
                        return false;
        return true;
}

/* Root making the key for a gateway that runs as the state directory's owner: give it the
 * file (and a directory it just made). */
static void chown_like_parent(const char *dir, bool dir_too, int fd) {
        _cleanup_free_ char *parent = path_join(dir, "..");
        struct stat st;

        if (geteuid() != 0 || !parent || stat(parent, &st) < 0 || st.st_uid == 0)
                return;
        if (dir_too)
                (void) chown(dir, st.st_uid, st.st_gid);
        (void) fchown(fd, st.st_uid, st.st_gid);
}

static int key_read(const char *path, uint8_t ret[VOLUME_NFS_KEY_SIZE]) {
        _cleanup_free_ char *data = NULL;
        size_t n;
        int r = read_full_file(path, 4096, &data, &n);

        if (r < 0)
                return r;
        if (n != VOLUME_NFS_KEY_SIZE)
                return -EBADMSG;
        memcpy(ret, data, VOLUME_NFS_KEY_SIZE);
        return 0;
}

int volume_nfs_key_load(const char *nfs_state_dir, uint8_t ret[VOLUME_NFS_KEY_SIZE]) {
        _cleanup_free_ char *path = path_join(nfs_state_dir, VOLUME_NFS_KEY_FILE), *tmp = NULL;
        _cleanup_close_ int fd = -1;
        uint8_t key[VOLUME_NFS_KEY_SIZE];
        bool made_dir;
        int r;

        assert(nfs_state_dir);
        if (!path)
                return -ENOMEM;
        r = key_read(path, ret);
        if (r != -ENOENT)
                return r;
        made_dir = access(nfs_state_dir, F_OK) < 0;
        r = mkdir_p(nfs_state_dir, 0700);
        if (r < 0)
                return r;
        if (getrandom(key, sizeof(key), 0) != (ssize_t) sizeof(key))
                return -EIO;
        tmp = asprintf_safe("%s.XXXXXX", path);
        if (!tmp)
                return -ENOMEM;
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fchmod(fd, 0600) < 0 || write(fd, key, sizeof(key)) != (ssize_t) sizeof(key) || fsync(fd) < 0)
                r = errno > 0 ? -errno : -EIO;
        else {
                chown_like_parent(nfs_state_dir, made_dir, fd);
                /* link(), not rename(): the first key made wins, and the other daemon reads it. */
                r = link(tmp, path) < 0 ? -errno : 0;
        }
        (void) unlink(tmp);
        if (r == -EEXIST)
                return key_read(path, ret);
        if (r < 0)
                return r;
        memcpy(ret, key, sizeof(key));
        return 0;
}

int volume_nfs_export_path(const uint8_t key[VOLUME_NFS_KEY_SIZE], const char *tenant, const char *volume_id,
                           char **ret) {
        _cleanup_free_ char *msg = NULL;
        uint8_t mac[SHA256_DIGEST_SIZE];
        char token[VOLUME_NFS_TOKEN_LEN + 1];
        char *p;

        if (!id_is_valid(tenant) || !id_is_valid(volume_id))
                return -EINVAL;
        msg = asprintf_safe("%s/%s", tenant, volume_id);
        if (!msg)
                return -ENOMEM;
        hmac_sha256(key, VOLUME_NFS_KEY_SIZE, msg, strlen(msg), mac);
        for (unsigned i = 0; i < VOLUME_NFS_TOKEN_LEN / 2; i++)
                snprintf(token + 2 * i, 3, "%02x", mac[i]);
        p = asprintf_safe("/%s/%s/%s", tenant, volume_id, token);
        if (!p)
                return -ENOMEM;
        *ret = p;
        return 0;
}

int volume_nfs_options(const char *host, uint16_t port, const char *state_dir, bool host_in_device,
                       const char *tenant, const char *volume_id, bool read_only, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_free_ char *o = NULL, *device = NULL, *key_dir = NULL, *path = NULL;
        uint8_t key[VOLUME_NFS_KEY_SIZE];
        bool v6;
        int r;

        if (!nfs_host_valid(host) || port == 0 || isempty(state_dir) || !id_is_valid(tenant) ||
            !id_is_valid(volume_id))
                return -EINVAL;
        key_dir = path_join(state_dir, VOLUME_NFS_STATE_SUBDIR);
        if (!key_dir)
                return -ENOMEM;
        r = volume_nfs_key_load(key_dir, key);
        if (r < 0)
                return r;
        r = volume_nfs_export_path(key, tenant, volume_id, &path);
        if (r < 0)
                return r;
        v6 = strchr(host, ':') != NULL;
        o = asprintf_safe("o=addr=%s,nfsvers=3,proto=tcp,port=%u,mountport=%u,soft,timeo=10,nolock%s", host,
                          (unsigned) port, (unsigned) port, read_only ? ",ro" : "");
        device = !host_in_device ? asprintf_safe("device=:%s", path)
                 : v6            ? asprintf_safe("device=[%s]:%s", host, path)
                                 : asprintf_safe("device=%s:%s", host, path);
        if (!o || !device || strv_extend(&l, "type=nfs") < 0 || strv_extend(&l, o) < 0 ||
            strv_extend(&l, device) < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(l);
        return 0;
}

const char *volume_nfs_client_path(void) {
        static const char *const paths[] = { "/sbin/mount.nfs", "/usr/sbin/mount.nfs",
                                             "/usr/local/sbin/mount.nfs" };

        for (size_t i = 0; i < ELEMENTSOF(paths); i++)
                if (access(paths[i], X_OK) == 0)
                        return paths[i];
        return NULL;
}

StorageMountMode storage_mount_mode_resolve(StorageMountMode configured, bool engine_rootless,
                                            const char **ret_why) {
        assert(ret_why);
        if (configured == STORAGE_MOUNT_NFS) {
                *ret_why = "storage.mount_mode is nfs";
                return STORAGE_MOUNT_NFS;
        }
        if (configured == STORAGE_MOUNT_BIND) {
                *ret_why = "storage.mount_mode is bind";
                return STORAGE_MOUNT_BIND;
        }
        if (engine_rootless) {
                *ret_why = "storage.mount_mode is auto and the engine is rootless: the kernel refuses NFS "
                           "mounts inside a user namespace";
                return STORAGE_MOUNT_BIND;
        }
        if (!volume_nfs_client_path()) {
                *ret_why = "storage.mount_mode is auto and this host has no NFS client (mount.nfs: install "
                           "nfs-common or nfs-utils for nfs mode)";
                return STORAGE_MOUNT_BIND;
        }
        *ret_why = "storage.mount_mode is auto, the engine is rootful and mount.nfs is installed";
        return STORAGE_MOUNT_NFS;
}
