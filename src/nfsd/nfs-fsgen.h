/* nfs-fsgen.h — an inode's generation number, as FS_IOC_GETVERSION reports it, read from the
 * kernel's own file handle (name_to_handle_at(2)) instead of by opening the file: for a
 * LOOKUP or READDIRPLUS entry that is one system call where open + ioctl + close were three.
 *
 * The handle's layout is the file system's business, so only layouts known to carry the
 * inode number and i_generation (ext2/3/4, XFS, btrfs) are used, and only after the volume
 * root's own handle agreed with its FS_IOC_GETVERSION and inode number (nfs_fsgen_learn()).
 * Nothing is cached: every answer is the kernel's, for the inode the name denotes at that
 * moment, so an inode number reused by a new file can never lend it an old generation.
 * Every failure (unknown layout, EPERM from a seccomp filter, EOPNOTSUPP) means "open the
 * file as before", never a guess. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef struct NfsFsGen {
        bool usable; /* a layout was learnt and verified on this file system */
        int handle_type;
        unsigned handle_bytes, ino_size; /* ino at offset 0, 4 or 8 bytes */
        unsigned gen_offset;
} NfsFsGen;

/* Learns the layout from fd (an open file or directory whose inode number is ino and whose
 * FS_IOC_GETVERSION answer is gen). Leaves g unusable when the layout is not a known one or
 * the handle does not carry exactly ino and gen. */
void nfs_fsgen_learn(NfsFsGen *g, int fd, uint64_t ino, uint32_t gen);
/* The generation of dir_fd/name (not followed), provided the handle names inode ino.
 * -EOPNOTSUPP when g is unusable or the handle is of another layout, -ESTALE when it names
 * another inode (the name changed), or the error of name_to_handle_at(). */
int nfs_fsgen_at(const NfsFsGen *g, int dir_fd, const char *name, uint64_t ino, uint32_t *ret_gen);
