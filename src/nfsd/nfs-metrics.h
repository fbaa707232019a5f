/* nfs-metrics.h — the gateway's counters: operations by procedure and result, bytes read
 * and written, quota and access denials, RPC-level errors and connections. Plain integers
 * (the gateway is single-threaded); nfs_metrics_format() renders them in the Prometheus
 * text format for a metrics endpoint. */
#pragma once

#include <stdint.h>
#include <stdio.h>

typedef enum NfsResult {
        NFS_RESULT_OK,
        NFS_RESULT_NOENT,
        NFS_RESULT_EXIST,
        NFS_RESULT_ACCESS, /* ACCES, PERM */
        NFS_RESULT_ROFS,
        NFS_RESULT_DQUOT, /* DQUOT, FBIG: the volume's quota */
        NFS_RESULT_NOSPC, /* NOSPC: the file system under the volume is full */
        NFS_RESULT_STALE,
        NFS_RESULT_BADHANDLE,
        NFS_RESULT_NOTSUPP,
        NFS_RESULT_INVAL, /* INVAL, NAMETOOLONG, BAD_COOKIE, TOOSMALL, BADTYPE */
        NFS_RESULT_OTHER,
        _NFS_RESULT_MAX,
} NfsResult;

#define NFS_METRICS_NFS_PROCS 22
#define NFS_METRICS_MOUNT_PROCS 6

typedef struct NfsMetrics {
        uint64_t nfs_ops[NFS_METRICS_NFS_PROCS][_NFS_RESULT_MAX];
        uint64_t mount_ops[NFS_METRICS_MOUNT_PROCS][_NFS_RESULT_MAX];
        uint64_t bytes_read;
        uint64_t bytes_written;
        uint64_t quota_denials; /* DQUOT/FBIG answers */
        uint64_t nospc; /* NOSPC answers: the backing file system is full */
        uint64_t access_denials; /* ACCES/PERM/ROFS answers, traversal and symlink refusals */
        uint64_t rpc_garbage; /* GARBAGE_ARGS, bad headers, oversized records */
        uint64_t rpc_rejected; /* PROG/PROC unavailable, auth errors */
        uint64_t connections_total;
        uint64_t connections_refused; /* over the connection limit, in all or per client */
        uint64_t connections_idle_closed; /* closed after the idle timeout */
        uint64_t connections_active;
} NfsMetrics;

/* nfsstat3 / mountstat3 → result class. */
NfsResult nfs_result_from_status(uint32_t status);
const char *nfs_result_to_string(NfsResult r);
const char *nfs3_proc_to_string(unsigned proc);
const char *mount3_proc_to_string(unsigned proc);
void nfs_metrics_count(NfsMetrics *m, uint32_t prog, uint32_t proc, uint32_t status);
/* Prometheus text exposition (aegis_nfs_*). */
int nfs_metrics_format(const NfsMetrics *m, FILE *f);
