/* volume.h — a volume's directory on the host: storage.root/<tenant>/<volume_id>.
 *
 * Create it owned by the volume's uid:gid, measure the bytes it holds (a bounded walk that
 * never follows symlinks), delete it recursively without following symlinks or leaving the
 * root. tenant and volume id must satisfy id_is_valid() (no "/", no ".."), else -EINVAL.
 * Create, measure and remove act through volume_userns_call(): in the rootless engine's user
 * namespace when one is set (volume-userns.h), where uid:gid are that namespace's ids. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Entries a walk visits at most (bytes_used, remove); beyond: -E2BIG / -E2BIG. */
#define VOLUME_WALK_MAX_ENTRIES UINT64_C(1000000)
#define VOLUME_WALK_MAX_DEPTH 256

/* root/<tenant>/<id> (malloc'd) into *ret; -EINVAL for an invalid tenant or id. */
int volume_path(const char *root, const char *tenant, const char *id, char **ret);

/* Creates root (0755) and root/<tenant> (0755) if missing, then root/<tenant>/<id> with
 * mode (0770 read-write, 0750 read-only suggested) owned by uid:gid. -EEXIST when the
 * volume directory already exists. */
int volume_dir_create(const char *root, const char *tenant, const char *id, uid_t uid, gid_t gid,
                      mode_t mode);

/* Sum of st_size of the regular files (and symlinks, their own size) under the volume
 * directory. -ENOENT when it does not exist. */
int volume_dir_bytes_used(const char *root, const char *tenant, const char *id, uint64_t *ret);

/* The same, visiting at most max_entries entries (0: VOLUME_WALK_MAX_ENTRIES): -E2BIG past
 * them, so that a caller can refuse a volume it cannot measure. */
int volume_dir_usage(const char *root, const char *tenant, const char *id, uint64_t max_entries,
                     uint64_t *ret_bytes);

/* Removes the volume directory and everything under it; symlinks are removed, never
 * followed; the walk stays on the directory's file system. Missing is not an error (0). */
int volume_dir_remove(const char *root, const char *tenant, const char *id);

/* Removes everything under the open directory dfd (consumed; dfd itself stays), symlinks
 * removed and never followed, never leaving dfd's file system (-EXDEV at a mount). */
int volume_dir_empty_fd(int dfd);

/* "1Gi", "512Mi", "0" (unlimited) … via parse_size(); -EINVAL / -ERANGE. */
int volume_parse_size_limit(const char *s, uint64_t *ret);
