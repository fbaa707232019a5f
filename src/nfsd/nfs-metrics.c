/* nfs-metrics.c — see nfs-metrics.h. */
#include <errno.h>
#include <inttypes.h>

#include "macros.h"
#include "nfs-metrics.h"

static const char *const result_names[_NFS_RESULT_MAX] = {
        [NFS_RESULT_OK] = "ok",           [NFS_RESULT_NOENT] = "noent", [NFS_RESULT_EXIST] = "exist",
        [NFS_RESULT_ACCESS] = "access",   [NFS_RESULT_ROFS] = "rofs",   [NFS_RESULT_DQUOT] = "dquot",
        [NFS_RESULT_NOSPC] = "nospc",     [NFS_RESULT_STALE] = "stale", [NFS_RESULT_BADHANDLE] = "badhandle",
        [NFS_RESULT_NOTSUPP] = "notsupp", [NFS_RESULT_INVAL] = "inval", [NFS_RESULT_OTHER] = "other",
};

static const char *const nfs3_names[NFS_METRICS_NFS_PROCS] = {
        "null",    "getattr",     "setattr", "lookup", "access",   "readlink", "read",   "write",
        "create",  "mkdir",       "symlink", "mknod",  "remove",   "rmdir",    "rename", "link",
        "readdir", "readdirplus", "fsstat",  "fsinfo", "pathconf", "commit",
};

static const char *const mount3_names[NFS_METRICS_MOUNT_PROCS] = {
        "null", "mnt", "dump", "umnt", "umntall", "export",
};

static const struct {
        uint32_t status;
        NfsResult result;
} status_map[] = {
        { 0, NFS_RESULT_OK },
        { 1, NFS_RESULT_ACCESS },
        { 2, NFS_RESULT_NOENT },
        { 13, NFS_RESULT_ACCESS },
        { 17, NFS_RESULT_EXIST },
        { 22, NFS_RESULT_INVAL },
        { 27, NFS_RESULT_DQUOT },
        { 28, NFS_RESULT_NOSPC },
        { 30, NFS_RESULT_ROFS },
        { 63, NFS_RESULT_INVAL },
        { 69, NFS_RESULT_DQUOT },
        { 70, NFS_RESULT_STALE },
        { 10001, NFS_RESULT_BADHANDLE },
        { 10003, NFS_RESULT_INVAL },
        { 10004, NFS_RESULT_NOTSUPP },
        { 10005, NFS_RESULT_INVAL },
        { 10007, NFS_RESULT_INVAL },
};

NfsResult nfs_result_from_status(uint32_t status) {
        for (size_t i = 0; i < ELEMENTSOF(status_map); i++)
                if (status_map[i].status == status)
                        return status_map[i].result;
        return NFS_RESULT_OTHER;
}

const char *nfs_result_to_string(NfsResult r) {
        return r < _NFS_RESULT_MAX ? result_names[r] : "other";
}

const char *nfs3_proc_to_string(unsigned proc) {
        return proc < NFS_METRICS_NFS_PROCS ? nfs3_names[proc] : "unknown";
}

const char *mount3_proc_to_string(unsigned proc) {
        return proc < NFS_METRICS_MOUNT_PROCS ? mount3_names[proc] : "unknown";
}

void nfs_metrics_count(NfsMetrics *m, uint32_t prog, uint32_t proc, uint32_t status) {
        NfsResult r = nfs_result_from_status(status);

        if (prog == 100003 && proc < NFS_METRICS_NFS_PROCS)
                m->nfs_ops[proc][r]++;
        else if (prog == 100005 && proc < NFS_METRICS_MOUNT_PROCS)
                m->mount_ops[proc][r]++;
        if (r == NFS_RESULT_DQUOT)
                m->quota_denials++;
        else if (r == NFS_RESULT_NOSPC)
                m->nospc++;
        else if (r == NFS_RESULT_ACCESS || r == NFS_RESULT_ROFS)
                m->access_denials++;
}

int nfs_metrics_format(const NfsMetrics *m, FILE *f) {
        fputs("# HELP aegis_nfs_operations_total NFS and MOUNT operations by procedure and result.\n"
              "# TYPE aegis_nfs_operations_total counter\n",
              f);
        for (unsigned p = 0; p < NFS_METRICS_NFS_PROCS; p++)
                for (unsigned r = 0; r < _NFS_RESULT_MAX; r++)
                        if (m->nfs_ops[p][r])
                                fprintf(f,
                                        "aegis_nfs_operations_total{procedure=\"%s\",result=\"%s\"} %" PRIu64
                                        "\n",
                                        nfs3_names[p], result_names[r], m->nfs_ops[p][r]);
        for (unsigned p = 0; p < NFS_METRICS_MOUNT_PROCS; p++)
                for (unsigned r = 0; r < _NFS_RESULT_MAX; r++)
                        if (m->mount_ops[p][r])
                                fprintf(f,
                                        "aegis_nfs_operations_total{procedure=\"mount_%s\",result=\"%s\"} "
                                        "%" PRIu64 "\n",
                                        mount3_names[p], result_names[r], m->mount_ops[p][r]);
#define COUNTER(name, help, v)                                                                           \
        fprintf(f,                                                                                       \
                "# HELP aegis_nfs_" name " " help "\n# TYPE aegis_nfs_" name " counter\naegis_nfs_" name \
                " %" PRIu64 "\n",                                                                        \
                (uint64_t) (v))
        COUNTER("bytes_read_total", "Bytes returned by READ.", m->bytes_read);
        COUNTER("bytes_written_total", "Bytes accepted by WRITE.", m->bytes_written);
        COUNTER("quota_denials_total", "Operations refused for the volume quota (DQUOT/FBIG).",
                m->quota_denials);
        COUNTER("nospc_total",
                "Operations refused because the file system under the volume is full (NOSPC).", m->nospc);
        COUNTER("access_denials_total", "Operations refused for access (ACCES/PERM/ROFS, escapes).",
                m->access_denials);
        COUNTER("rpc_garbage_total", "Undecodable RPC requests and oversized records.", m->rpc_garbage);
        COUNTER("rpc_rejected_total", "RPC calls rejected (program, procedure or auth).", m->rpc_rejected);
        COUNTER("connections_total", "Accepted connections.", m->connections_total);
        COUNTER("connections_refused_total",
                "Connections refused at the connection limits (all, per client).", m->connections_refused);
        COUNTER("connections_idle_closed_total", "Connections closed after the idle timeout.",
                m->connections_idle_closed);
#undef COUNTER
        fprintf(f,
                "# HELP aegis_nfs_connections Open client connections.\n# TYPE aegis_nfs_connections gauge\n"
                "aegis_nfs_connections %" PRIu64 "\n",
                m->connections_active);
        return ferror(f) ? -EIO : 0;
}
