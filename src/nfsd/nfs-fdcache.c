/* nfs-fdcache.c — see nfs-fdcache.h. A linear list: with at most 64 entries a walk costs
 * far less than the openat2/ioctl/close it saves. */
#include <errno.h>
#include <stdlib.h>

#include "list.h"
#include "nfs-fdcache.h"
#include "util.h"

static size_t total;

size_t nfs_fdcache_total(void) {
        return total;
}

static void unlink_entry(NfsFdCache *c, NfsFdEntry *e) {
        if (!e->next)
                c->tail = e->prev;
        LIST_REMOVE(c->head, e);
        c->n--;
}

static void push_front(NfsFdCache *c, NfsFdEntry *e) {
        if (!c->head)
                c->tail = e;
        LIST_PREPEND(c->head, e);
        c->n++;
}

static void destroy(NfsFdEntry *e) {
        safe_close(e->fd);
        total--;
        free(e);
}

static void drop(NfsFdCache *c, NfsFdEntry *e) {
        unlink_entry(c, e);
        e->dead = true;
        if (e->refs == 0)
                destroy(e);
}

static NfsFdEntry *find(const NfsFdCache *c, uint64_t ino) {
        for (NfsFdEntry *e = c->head; e; e = e->next)
                if (e->ino == ino)
                        return e;
        return NULL;
}

NfsFdEntry *nfs_fdcache_get(NfsFdCache *c, uint64_t ino, bool need_rw) {
        NfsFdEntry *e = find(c, ino);

        if (!e || (need_rw && !e->rw))
                return NULL;
        if (e != c->head) {
                unlink_entry(c, e);
                push_front(c, e);
        }
        e->refs++;
        return e;
}

/* The least recently used entry nobody holds. */
static NfsFdEntry *victim(const NfsFdCache *c) {
        for (NfsFdEntry *e = c->tail; e; e = e->prev)
                if (e->refs == 0)
                        return e;
        return NULL;
}

NfsFdEntry *nfs_fdcache_add(NfsFdCache *c, int fd, uint64_t ino, uint32_t gen, uint8_t type, bool rw,
                            const struct statx *sx) {
        NfsFdEntry *e = find(c, ino);

        if (e)
                drop(c, e);
        if (c->n >= NFS_FDCACHE_MAX || total >= NFS_FDCACHE_TOTAL_MAX) {
                NfsFdEntry *old = victim(c);
                if (!old)
                        return NULL;
                drop(c, old);
                if (total >= NFS_FDCACHE_TOTAL_MAX)
                        return NULL; /* the rest are other volumes': do not grow */
        }
        e = calloc(1, sizeof(*e));
        if (!e)
                return NULL;
        *e = (NfsFdEntry){ .fd = fd,
                           .ino = ino,
                           .gen = gen,
                           .type = type,
                           .rw = rw,
                           .refs = 1,
                           .mode = sx->stx_mode,
                           .uid = sx->stx_uid,
                           .gid = sx->stx_gid };
        total++;
        push_front(c, e);
        return e;
}

void nfs_fdcache_put(NfsFdEntry *e) {
        if (!e)
                return;
        e->refs--;
        if (e->dead && e->refs == 0)
                destroy(e);
}

bool nfs_fdcache_valid(const NfsFdEntry *e, const struct statx *sx) {
        return sx->stx_nlink > 0 && sx->stx_ino == e->ino && sx->stx_mode == e->mode &&
               sx->stx_uid == e->uid && sx->stx_gid == e->gid;
}

void nfs_fdcache_forget(NfsFdCache *c, uint64_t ino) {
        NfsFdEntry *e = find(c, ino);

        if (e)
                drop(c, e);
}

void nfs_fdcache_clear(NfsFdCache *c) {
        while (c->head)
                drop(c, c->head);
}
