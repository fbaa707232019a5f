/* volume-files.h — paths inside one volume's directory, for the file API (issue 15): a
 * client's path resolved beneath the volume and nowhere else.
 *
 * A client path ("/data/in.csv", "data/in.csv", "/", "") names a place relative to the volume's
 * directory: a leading "/" is the volume's root, never the host's. What must stay true:
 *   - ".." is refused when split (no component may climb), so a path names a place under the
 *     root even before the kernel resolves it;
 *   - resolution never follows a symbolic link, a magic link or a mount point: openat2()
 *     with RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS|RESOLVE_NO_XDEV, or where
 *     the kernel lacks it a walk that opens each component O_NOFOLLOW and checks st_dev, so
 *     a link planted from inside a container (bind mode, NFS) cannot lead out (-ELOOP, -EXDEV);
 *   - the final component of a name to create, replace or remove is acted on with *at() calls
 *     on its parent's descriptor, so a symlink there is removed or replaced, never followed;
 *   - every walk is bounded (VOLUME_LIST_MAX entries listed, VOLUME_WALK_MAX_* for removal);
 *   - every function that touches the file system does so through volume_userns_call(), so
 *     with a rootless engine it acts in the engine's user namespace on the agent's files
 *     (volume-userns.h); descriptors it returns are usable here, but an *at() call on them
 *     must go through a function of this file too. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define VOLUME_CLIENT_PATH_MAX 4096
#define VOLUME_LIST_MAX 10000
/* Prefix of the temporary file an upload is written to before it is renamed into place. */
#define VOLUME_UPLOAD_TMP_PREFIX ".aegis-upload-"

typedef enum VolumeFileType {
        VOLUME_FILE_REGULAR,
        VOLUME_FILE_DIRECTORY,
        VOLUME_FILE_SYMLINK,
        VOLUME_FILE_OTHER,
        _VOLUME_FILE_TYPE_MAX,
} VolumeFileType;
/* "file", "dir", "symlink", "other" (the reference's "file" | "dir", and what else a
 * container may have made). */
const char *volume_file_type_to_string(VolumeFileType t);

typedef struct VolumeEntry {
        char *name;
        VolumeFileType type;
        uint64_t size; /* st_size (a symlink's own) */
        uint64_t mtime_usec;
} VolumeEntry;
void volume_entry_array_free(VolumeEntry *a, size_t n);

/* Splits a client path into its components (a NULL-terminated strv; empty for the root).
 * Empty and "." components are skipped. -EINVAL for a ".." component, a path longer than
 * VOLUME_CLIENT_PATH_MAX or a component longer than NAME_MAX. */
int volume_path_split(const char *path, char ***ret);

/* Opens comps[0..n) beneath the volume directory vfd with open flags (O_PATH, O_RDONLY,
 * O_DIRECTORY, …; O_NOFOLLOW and O_CLOEXEC are added). n = 0 opens vfd itself again.
 * -ELOOP when a symlink is on the way (or is the last component), -EXDEV for a mount. */
int volume_open_beneath(int vfd, char *const *comps, size_t n, int flags);

/* Opens path (a volume's directory, from volume_path()) with flags (O_CLOEXEC added). */
int volume_open_path(const char *path, int flags);

/* Opens the directory that holds comps[n-1] (n ≥ 1). create: makes the missing directories
 * on the way, mode 0770 owned by uid:gid (ownership best effort: only root may give it). */
int volume_open_parent(int vfd, char *const *comps, size_t n, bool create, uid_t uid, gid_t gid,
                       int *ret_fd);

/* Makes every directory of comps[0..n) that is missing (mkdir -p beneath vfd). */
int volume_mkdir_p(int vfd, char *const *comps, size_t n, uid_t uid, gid_t gid);

/* The entries of directory dfd (borrowed), sorted by name; -E2BIG past VOLUME_LIST_MAX.
 * Upload temporaries (VOLUME_UPLOAD_TMP_PREFIX) are left out. */
int volume_list_dir(int dfd, VolumeEntry **ret, size_t *ret_n);

/* Removes name in directory dfd: a file or symlink (never followed), or a directory with
 * everything under it, never leaving dfd's file system. */
int volume_remove_at(int dfd, const char *name);

/* unlinkat(dfd, name, 0) and renameat(from_dfd, from, to_dfd, to), where the volume's files
 * are worked on. */
int volume_unlink_at(int dfd, const char *name);
int volume_rename_at(int from_dfd, const char *from, int to_dfd, const char *to);

/* Creates an upload temporary in dfd (mode 0660, owned by uid:gid when we may); its name
 * goes to ret_name (at least sizeof VOLUME_UPLOAD_TMP_PREFIX + 16 bytes). */
#define VOLUME_TMP_NAME_MAX 64
int volume_tmpfile_at(int dfd, uid_t uid, gid_t gid, char ret_name[VOLUME_TMP_NAME_MAX], int *ret_fd);
