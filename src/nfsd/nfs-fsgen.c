/* nfs-fsgen.c — see nfs-fsgen.h.
 *
 * The layouts (include/linux/exportfs.h, fs/xfs/xfs_export.h, fs/btrfs/export.h), native
 * byte order, inode number first:
 *   FILEID_INO32_GEN (1), 8 bytes: u32 ino, u32 gen (ext2/3/4, XFS with 32-bit inodes,
 *     and every file system on the generic encoder);
 *   XFS 64-bit inodes (0x81), 12 bytes: u64 ino, u32 gen;
 *   btrfs without parent (0x4d), 20 bytes: u64 objectid, u64 root objectid, u32 gen.
 * tmpfs also answers type 1, but with 12 bytes (gen first): the size tells it apart, and the
 * check on the volume root would catch it anyway (tmpfs has no FS_IOC_GETVERSION either). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "nfs-fsgen.h"

static const NfsFsGen layouts[] = {
        { .handle_type = 1, .handle_bytes = 8, .ino_size = 4, .gen_offset = 4 },
        { .handle_type = 0x81, .handle_bytes = 12, .ino_size = 8, .gen_offset = 8 },
        { .handle_type = 0x4d, .handle_bytes = 20, .ino_size = 8, .gen_offset = 16 },
};

typedef union Handle {
        struct file_handle fh;
        char buf[sizeof(struct file_handle) + MAX_HANDLE_SZ];
} Handle;

static int get_handle(int dir_fd, const char *name, int flags, Handle *h) {
        int mount_id;

        h->fh.handle_bytes = MAX_HANDLE_SZ;
        if (name_to_handle_at(dir_fd, name, &h->fh, &mount_id, flags) < 0)
                return -errno;
        return 0;
}

/* The inode number and generation in h when it has layout l. */
static bool decode(const NfsFsGen *l, const Handle *h, uint64_t *ret_ino, uint32_t *ret_gen) {
        const unsigned char *p = h->fh.f_handle;

        if (h->fh.handle_type != l->handle_type || h->fh.handle_bytes != l->handle_bytes)
                return false;
        if (l->ino_size == 4) {
                uint32_t ino;
                memcpy(&ino, p, sizeof(ino));
                *ret_ino = ino;
        } else
                memcpy(ret_ino, p, sizeof(*ret_ino));
        memcpy(ret_gen, p + l->gen_offset, sizeof(*ret_gen));
        return true;
}

void nfs_fsgen_learn(NfsFsGen *g, int fd, uint64_t ino, uint32_t gen) {
        Handle h;

        *g = (NfsFsGen){ .usable = false };
        if (get_handle(fd, "", AT_EMPTY_PATH, &h) < 0)
                return;
        for (size_t i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++) {
                uint64_t hino;
                uint32_t hgen;
                if (decode(&layouts[i], &h, &hino, &hgen) && hino == ino && hgen == gen) {
                        *g = layouts[i];
                        g->usable = true;
                        return;
                }
        }
}

int nfs_fsgen_at(const NfsFsGen *g, int dir_fd, const char *name, uint64_t ino, uint32_t *ret_gen) {
        uint64_t hino;
        uint32_t hgen;
        Handle h;
        int r;

        if (!g->usable)
                return -EOPNOTSUPP;
        r = get_handle(dir_fd, name, 0, &h);
        if (r < 0)
                return r;
        if (!decode(g, &h, &hino, &hgen))
                return -EOPNOTSUPP;
        if (g->ino_size == 4 && ino > UINT32_MAX)
                return -EOPNOTSUPP; /* the handle could not tell it from its low half */
        if (hino != ino)
                return -ESTALE;
        *ret_gen = hgen;
        return 0;
}
