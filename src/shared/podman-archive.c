/* podman-archive.c — a minimal ustar writer for putting small files into a container before it
 * starts (PUT /containers/{id}/archive?path=/).
 *
 * Regular-file entries, and directory entries only for files whose mode says S_IFDIR (a
 * directory the container's user owns, e.g. /workspace): the engine creates missing parent
 * directories (0755, root) itself, and leaving directory entries out means existing
 * directories of the image (/tmp 1777, …) keep their modes. Paths are validated: absolute, no "." or ".."
 * components, at most 255 bytes (ustar's prefix + name). */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "podman.h"
#include "util.h"

#define TAR_BLOCK 512U

static int path_ok(const char *p) {
        const char *c;

        if (!p || p[0] != '/' || p[1] == '\0' || strlen(p) > 255 || endswith(p, "/"))
                return 0;
        for (c = p + 1; *c;) {
                size_t n = strcspn(c, "/");
                if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
                        return 0;
                c += n;
                if (*c == '/')
                        c++;
        }
        return 1;
}

static void octal(char *field, size_t width, uint64_t v) {
        /* width-1 digits, zero-padded, then NUL. */
        field[width - 1] = '\0';
        for (size_t i = width - 1; i > 0; i--) {
                field[i - 1] = (char) ('0' + (v & 7));
                v >>= 3;
        }
}

static int tar_header(uint8_t h[TAR_BLOCK], const PodmanFile *f, uint64_t mtime) {
        const char *rel = f->path + 1, *name = rel, *prefix = "";
        size_t len = strlen(rel), prefix_len = 0;
        unsigned sum = 0;

        memset(h, 0, TAR_BLOCK);
        if (len > 100) {
                /* Split at a '/' so that the name part fits in 100 and the prefix in 155. */
                const char *slash = NULL;
                for (const char *c = rel; *c; c++)
                        if (*c == '/' && (size_t) (c - rel) <= 155 && len - (size_t) (c - rel) - 1 <= 100)
                                slash = c;
                if (!slash)
                        return -ENAMETOOLONG;
                prefix = rel;
                prefix_len = (size_t) (slash - rel);
                name = slash + 1;
        }
        memcpy(h, name, strlen(name));
        octal((char *) h + 100, 8, f->mode ? (f->mode & 07777) : 0644);
        octal((char *) h + 108, 8, f->uid);
        octal((char *) h + 116, 8, f->gid);
        octal((char *) h + 124, 12, f->size);
        octal((char *) h + 136, 12, mtime);
        h[156] = S_ISDIR(f->mode) ? '5' : '0';
        memcpy(h + 257, "ustar", 6);
        memcpy(h + 263, "00", 2);
        memcpy(h + 345, prefix, prefix_len);
        memset(h + 148, ' ', 8);
        for (size_t i = 0; i < TAR_BLOCK; i++)
                sum += h[i];
        octal((char *) h + 148, 7, sum);
        h[155] = ' ';
        return 0;
}

int podman_tar_build(const PodmanFile *files, size_t n_files, char **ret, size_t *ret_size, Error *e) {
        uint64_t mtime = now_usec(CLOCK_REALTIME) / USEC_PER_SEC;
        size_t total = 2 * TAR_BLOCK, off = 0;
        char *buf;

        if (n_files > 64)
                return error_set_field(e, -E2BIG, "files", "files: at most 64 files, got %zu", n_files);
        for (size_t i = 0; i < n_files; i++) {
                const PodmanFile *f = &files[i];
                if (!path_ok(f->path))
                        return error_set_field(
                                e, -EINVAL, "files",
                                "files[%zu]: \"%s\" is not an absolute, normalised path of at "
                                "most 255 bytes",
                                i, strempty(f->path));
                if (f->size > PODMAN_FILE_MAX || (f->size > 0 && !f->data) ||
                    (S_ISDIR(f->mode) && f->size > 0))
                        return error_set_field(e, -EFBIG, "files",
                                               "files[%zu] %s: %zu bytes exceed the %u bytes limit", i,
                                               f->path, f->size, PODMAN_FILE_MAX);
                if (f->uid > 07777777 || f->gid > 07777777)
                        return error_set_field(e, -ERANGE, "files", "files[%zu] %s: uid/gid out of range", i,
                                               f->path);
                total += TAR_BLOCK + (f->size + TAR_BLOCK - 1) / TAR_BLOCK * TAR_BLOCK;
        }
        buf = calloc(1, total);
        if (!buf)
                return error_set(e, -ENOMEM, "out of memory building the files' archive");
        for (size_t i = 0; i < n_files; i++) {
                if (tar_header((uint8_t *) buf + off, &files[i], mtime) < 0) {
                        free(buf);
                        return error_set_field(e, -ENAMETOOLONG, "files",
                                               "files[%zu]: \"%s\" cannot be split into a ustar name", i,
                                               files[i].path);
                }
                off += TAR_BLOCK;
                if (files[i].size)
                        memcpy(buf + off, files[i].data, files[i].size);
                off += (files[i].size + TAR_BLOCK - 1) / TAR_BLOCK * TAR_BLOCK;
        }
        *ret = buf;
        *ret_size = total;
        return 0;
}
