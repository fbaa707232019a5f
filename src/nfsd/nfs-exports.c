/* nfs-exports.c — see nfs-exports.h. Two backends behind one cache of entries refreshed at
 * most every NFS_EXPORTS_TTL_USEC:
 *   - the store (database.url): the volumes table, every row (active or not) in one query;
 *   - a registry file: re-read when its mtime/size/inode change.
 * When the store cannot be reached the last good list stays in use (and is logged). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "log.h"
#include "nfs-exports.h"
#include "nfs-handle.h"
#include "store.h"
#include "util.h"

typedef struct Entry {
        NfsVolumeInfo info;
        uint64_t key;
} Entry;

struct NfsExports {
        char *path; /* registry file, or NULL with the store */
        char *url; /* database URL */
        Store *store;
        Entry *entries;
        size_t n;
        NfsVolumeInfo *active; /* for nfs_exports_list() */
        size_t n_active;
        uint64_t checked_usec;
        struct timespec mtime;
        off_t size;
        ino_t ino;
        bool loaded;
};

static int parse_line(char *line, unsigned lineno, const char *path, Entry *ret) {
        char *f[9], *save = NULL;
        unsigned n = 0;
        Entry e = { 0 };
        unsigned u, g;

        for (char *t = strtok_r(line, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
                if (n == ELEMENTSOF(f))
                        break;
                f[n++] = t;
        }
        if (n != 7 && n != 8) {
                log_warning("%s:%u: expected 7 or 8 fields (tenant volume uid gid size_limit access_mode "
                            "status [clients]), got %u; line ignored",
                            path, lineno, n);
                return -EINVAL;
        }
        if (n == 8 && nfs_clients_parse(f[7], &e.info.clients) < 0) {
                log_warning(
                        "%s:%u: clients must be * or up to %d comma-separated ADDR[/PREFIX], got \"%s\"; "
                        "line ignored",
                        path, lineno, NFS_CLIENTS_MAX, f[7]);
                return -EINVAL;
        }
        if (!id_is_valid(f[0]) || !id_is_valid(f[1])) {
                log_warning("%s:%u: tenant/volume ids must be 1..64 of [A-Za-z0-9_.-]; line ignored", path,
                            lineno);
                return -EINVAL;
        }
        if (safe_atou(f[2], &u) < 0 || safe_atou(f[3], &g) < 0 || parse_size(f[4], &e.info.size_limit) < 0) {
                log_warning("%s:%u: uid, gid and size_limit must be numbers (size like 1Gi); line ignored",
                            path, lineno);
                return -EINVAL;
        }
        if (streq(f[5], "read-only") || streq(f[5], "ro"))
                e.info.read_only = true;
        else if (!streq(f[5], "read-write") && !streq(f[5], "rw")) {
                log_warning("%s:%u: access_mode must be read-write or read-only, got \"%s\"; line ignored",
                            path, lineno, f[5]);
                return -EINVAL;
        }
        e.info.active = streq(f[6], "active");
        e.info.uid = u;
        e.info.gid = g;
        snprintf(e.info.tenant, sizeof(e.info.tenant), "%s", f[0]);
        snprintf(e.info.volume, sizeof(e.info.volume), "%s", f[1]);
        e.key = nfs_volume_key(e.info.tenant, e.info.volume);
        *ret = e;
        return 0;
}

static int exports_replace(NfsExports *e, Entry *entries, size_t n) {
        NfsVolumeInfo *active = calloc(n ? n : 1, sizeof(NfsVolumeInfo));
        size_t na = 0;

        if (!active) {
                free(entries);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++)
                if (entries[i].info.active)
                        active[na++] = entries[i].info;
        free(e->entries);
        free(e->active);
        e->entries = entries;
        e->n = n;
        e->active = active;
        e->n_active = na;
        e->loaded = true;
        return 0;
}

static int exports_reload_store(NfsExports *e) {
        StoreVolumeFilter f = STORE_VOLUME_FILTER_INIT;
        StoreVolume *vols = NULL;
        Entry *entries;
        size_t n = 0, k = 0;
        int r;

        if (!e->store) {
                Error err = ERROR_INIT;
                r = store_open(e->url, &err, &e->store);
                if (r < 0) {
                        log_warning_errno(r, "Volume registry unavailable: %s", err.message);
                        return e->loaded ? 0 : r;
                }
        }
        r = store_volume_list(e->store, &f, &vols, &n);
        if (r < 0) {
                log_warning_errno(r, "Failed to list volumes (keeping the last list): %s",
                                  store_last_error(e->store));
                e->store = store_close(e->store); /* reconnect next time */
                return e->loaded ? 0 : r;
        }
        entries = calloc(n ? n : 1, sizeof(Entry));
        if (!entries) {
                store_volume_array_free(vols, n);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n && k < NFS_EXPORTS_MAX; i++) {
                const StoreVolume *v = &vols[i];
                Entry *x = &entries[k];
                if (!id_is_valid(v->tenant_id) || !id_is_valid(v->id))
                        continue;
                snprintf(x->info.tenant, sizeof(x->info.tenant), "%s", v->tenant_id);
                snprintf(x->info.volume, sizeof(x->info.volume), "%s", v->id);
                x->info.uid = v->uid;
                x->info.gid = v->gid;
                x->info.size_limit = v->size_limit;
                x->info.read_only = v->access_mode == VOLUME_READ_ONLY;
                x->info.active = v->status == VOLUME_ACTIVE;
                x->key = nfs_volume_key(x->info.tenant, x->info.volume);
                k++;
        }
        store_volume_array_free(vols, n);
        return exports_replace(e, entries, k);
}

static int exports_reload(NfsExports *e) {
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_free_ char *line = NULL;
        size_t cap = 0, n = 0, alloc = 0;
        Entry *entries = NULL;
        unsigned lineno = 0;
        struct stat st;
        int r;

        if (now_usec(CLOCK_MONOTONIC) - e->checked_usec < NFS_EXPORTS_TTL_USEC && e->loaded)
                return 0;
        e->checked_usec = now_usec(CLOCK_MONOTONIC);
        if (e->url)
                return exports_reload_store(e);
        f = fopen(e->path, "re");
        if (!f) {
                if (errno != ENOENT)
                        return -errno;
                /* No registry yet: nothing is exported. */
                free(e->entries);
                free(e->active);
                e->entries = NULL;
                e->active = NULL;
                e->n = e->n_active = 0;
                e->loaded = true;
                e->ino = 0;
                return 0;
        }
        if (fstat(fileno(f), &st) < 0)
                return -errno;
        if (e->loaded && st.st_ino == e->ino && st.st_size == e->size &&
            st.st_mtim.tv_sec == e->mtime.tv_sec && st.st_mtim.tv_nsec == e->mtime.tv_nsec)
                return 0;
        while (getline(&line, &cap, f) > 0) {
                Entry x;
                char *p;

                lineno++;
                line[strcspn(line, "\r\n")] = '\0';
                p = line + strspn(line, " \t");
                if (*p == '#' || *p == '\0')
                        continue;
                if (parse_line(p, lineno, e->path, &x) < 0)
                        continue;
                if (n >= NFS_EXPORTS_MAX) {
                        log_warning("%s: more than %d volumes, the rest ignored", e->path, NFS_EXPORTS_MAX);
                        break;
                }
                if (n == alloc) {
                        size_t na2 = alloc ? alloc * 2 : 16;
                        Entry *t = realloc(entries, na2 * sizeof(Entry));
                        if (!t) {
                                free(entries);
                                return -ENOMEM;
                        }
                        entries = t;
                        alloc = na2;
                }
                entries[n++] = x;
        }
        r = exports_replace(e, entries, n);
        if (r < 0)
                return r;
        e->ino = st.st_ino;
        e->size = st.st_size;
        e->mtime = st.st_mtim;
        return 0;
}

int nfs_exports_new(const char *source, NfsExports **ret) {
        NfsExports *e;
        const char *p = startswith(source, "file:");

        if (isempty(source))
                return -EINVAL;
        e = calloc(1, sizeof(*e));
        if (!e)
                return -ENOMEM;
        if (startswith(source, "sqlite:") || startswith(source, "postgres:") ||
            startswith(source, "postgresql:"))
                e->url = strdup(source);
        else
                e->path = strdup(p ? p : source);
        if (!e->path && !e->url) {
                free(e);
                return -ENOMEM;
        }
        *ret = e;
        return 0;
}

NfsExports *nfs_exports_free(NfsExports *e) {
        if (!e)
                return NULL;
        free(e->path);
        free(e->url);
        store_close(e->store);
        free(e->entries);
        free(e->active);
        free(e);
        return NULL;
}

int nfs_exports_lookup(NfsExports *e, const char *tenant, const char *volume, NfsVolumeInfo *ret) {
        int r = exports_reload(e);

        if (r < 0)
                return r;
        for (size_t i = 0; i < e->n; i++)
                if (streq(e->entries[i].info.tenant, tenant) && streq(e->entries[i].info.volume, volume)) {
                        if (!e->entries[i].info.active)
                                return -EACCES;
                        *ret = e->entries[i].info;
                        return 0;
                }
        return -ENOENT;
}

int nfs_exports_lookup_key(NfsExports *e, uint64_t key, NfsVolumeInfo *ret) {
        int r = exports_reload(e);

        if (r < 0)
                return r;
        for (size_t i = 0; i < e->n; i++)
                if (e->entries[i].key == key && e->entries[i].info.active) {
                        *ret = e->entries[i].info;
                        return 0;
                }
        return -ENOENT;
}

int nfs_exports_list(NfsExports *e, const NfsVolumeInfo **ret, size_t *ret_n) {
        int r = exports_reload(e);

        if (r < 0)
                return r;
        *ret = e->active;
        *ret_n = e->n_active;
        return 0;
}
