/* nfs-gateway.c — see nfs-gateway.h: volume lifetime and export checks. */
#include <assert.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "nfs-gateway.h"
#include "util.h"

int nfs_gateway_new(const char *storage_root, NfsExports *exports, const uint8_t key[NFS_HANDLE_KEY_SIZE],
                    const uint8_t write_verf[8], NfsGateway **ret) {
        NfsGateway *g = calloc(1, sizeof(*g));

        if (!g)
                return -ENOMEM;
        g->storage_root = strdup(storage_root);
        if (!g->storage_root) {
                free(g);
                return -ENOMEM;
        }
        memcpy(g->key, key, NFS_HANDLE_KEY_SIZE);
        memcpy(g->write_verf, write_verf, 8);
        g->exports = exports;
        g->max_vols = NFS_MAX_VOLUMES_OPEN;
        g->euid = geteuid();
        g->egid = getegid();
        g->default_clients = (NfsClients){ .set = true, .any = true };
        g->require_reserved_port = true;
        g->max_entries = NFS_MAX_ENTRIES_DEFAULT;
        *ret = g;
        return 0;
}

NfsGateway *nfs_gateway_free(NfsGateway *g) {
        if (!g)
                return NULL;
        for (size_t i = 0; i < g->n_vols; i++)
                nfs_vol_free(g->vols[i]);
        free(g->vols);
        free(g->mounts);
        free(g->storage_root);
        free(g);
        return NULL;
}

int nfs_gateway_sync(NfsGateway *g) {
        int r = 0;

        if (g->unsynced_closed) {
                log_warning("A volume with unstable writes was closed while running; they may not be on "
                            "stable storage");
                r = -EIO;
        }
        for (size_t i = 0; i < g->n_vols; i++) {
                NfsVol *v = g->vols[i];
                if (syncfs(v->root_fd) < 0) {
                        r = log_warning_errno(-errno, "Failed to sync volume %s/%s: %m", v->info.tenant,
                                              v->info.volume);
                        continue;
                }
                v->unsynced = false;
        }
        return r;
}

void nfs_gateway_idle(NfsGateway *g) {
        for (size_t i = 0; i < g->n_vols; i++)
                nfs_vol_forget_all(g->vols[i]);
}

void nfs_gateway_pin(NfsVol *v) {
        v->pins++;
}

void nfs_gateway_unpin(NfsVol *v) {
        assert(v->pins > 0);
        if (--v->pins == 0 && v->dropped)
                nfs_vol_free(v);
}

/* Closes vols[i]: at once, or when the request using it unpins it. */
static void drop_volume(NfsGateway *g, size_t i) {
        NfsVol *v = g->vols[i];

        /* Not synced here (that could stall every client for as long as the file system
         * takes): the clean shutdown will not keep the write verifier instead. */
        if (v->unsynced)
                g->unsynced_closed = true;
        g->vols[i] = g->vols[--g->n_vols];
        if (v->pins > 0)
                v->dropped = true;
        else
                nfs_vol_free(v);
}

static int open_volume(NfsGateway *g, const NfsVolumeInfo *info, NfsVol **ret) {
        NfsVol *v;
        int r;

        if (g->n_vols >= MAX(g->max_vols, (size_t) 1)) {
                size_t i = 0;
                /* Rather one no request is using; a pinned one stays allocated anyway. */
                while (i < g->n_vols && g->vols[i]->pins > 0)
                        i++;
                drop_volume(g, i < g->n_vols ? i : 0);
        }
        if (g->n_vols % 16 == 0) {
                NfsVol **t = realloc(g->vols, (g->n_vols + 16) * sizeof(NfsVol *));
                if (!t)
                        return -ENOMEM;
                g->vols = t;
        }
        r = nfs_vol_open(g->storage_root, info, &v);
        if (r < 0)
                return r;
        v->max_entries = g->max_entries;
        g->vols[g->n_vols++] = v;
        *ret = v;
        return 0;
}

int nfs_gateway_volume(NfsGateway *g, uint64_t key, NfsVol **ret) {
        NfsVolumeInfo info;
        int r;

        r = nfs_exports_lookup_key(g->exports, key, &info);
        for (size_t i = 0; i < g->n_vols; i++) {
                if (g->vols[i]->key != key)
                        continue;
                if (r < 0) {
                        drop_volume(g, i);
                        return -ESTALE;
                }
                g->vols[i]->info = info; /* read-only flag and quota may change */
                *ret = g->vols[i];
                return 0;
        }
        if (r < 0)
                return -ESTALE;
        r = open_volume(g, &info, ret);
        return r == -ENOENT || r == -ENOTDIR || r == -ELOOP ? -ESTALE : r;
}

bool nfs_gateway_client_allowed(const NfsGateway *g, const NfsVol *v, const char *host) {
        return nfs_clients_match(v->info.clients.set ? &v->info.clients : &g->default_clients, host);
}

int nfs_gateway_mount(NfsGateway *g, const char *host, const char *path, NfsVol **ret) {
        char tenant[NFS_ID_MAX], volume[NFS_ID_MAX];
        _cleanup_free_ char *expected = NULL;
        const char *p = path, *slash;
        NfsVolumeInfo info;
        size_t n, len;
        uint8_t diff = 0;
        int r;

        while (*p == '/')
                p++;
        slash = strchr(p, '/');
        if (!slash || (size_t) (slash - p) >= sizeof(tenant))
                return -EINVAL;
        memcpy(tenant, p, (size_t) (slash - p));
        tenant[slash - p] = '\0';
        p = slash + 1;
        n = strcspn(p, "/");
        if (n >= sizeof(volume))
                return -EINVAL;
        memcpy(volume, p, n);
        volume[n] = '\0';
        if (!id_is_valid(tenant) || !id_is_valid(volume))
                return -EINVAL;
        p += n + strspn(p + n, "/");
        len = strcspn(p, "/");
        if (p[len + strspn(p + len, "/")] != '\0')
                return -EINVAL;
        /* The token before anything about the volume: no answer tells a volume that exists
         * from one that does not without it. */
        r = volume_nfs_export_path(g->mount_key, tenant, volume, &expected);
        if (r < 0)
                return r;
        {
                const char *want = expected + 1 + strlen(tenant) + 1 + strlen(volume) + 1;
                if (len != VOLUME_NFS_TOKEN_LEN)
                        return -EACCES;
                for (size_t i = 0; i < VOLUME_NFS_TOKEN_LEN; i++)
                        diff |= (uint8_t) (want[i] ^ p[i]);
                if (diff != 0)
                        return -EACCES;
        }
        r = nfs_exports_lookup(g->exports, tenant, volume, &info);
        if (r < 0)
                return r;
        r = nfs_gateway_volume(g, nfs_volume_key(tenant, volume), ret);
        if (r == 0 && !nfs_gateway_client_allowed(g, *ret, host))
                return -EACCES;
        return r == -ESTALE ? -ENOENT : r;
}
