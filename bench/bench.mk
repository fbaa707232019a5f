# Build rules for bench (bench); appended to the lists in the top Makefile.am.

# bench/api: HTTP load figures beside nginx (bench/api/run.sh).
noinst_PROGRAMS += bench/api/bench-api-seed
bench_api_bench_api_seed_SOURCES = bench/api/seed.c
bench_api_bench_api_seed_CFLAGS = $(AM_CFLAGS) $(AEGIS_DEP_CFLAGS)
bench_api_bench_api_seed_LDADD = $(AEGIS_LIBS)
EXTRA_DIST += bench/api/run.sh

# bench/store.sh: execution store figures on SQLite and PostgreSQL.
noinst_PROGRAMS += bench/store-bench
bench_store_bench_SOURCES = bench/store-bench.c
bench_store_bench_CFLAGS = $(AM_CFLAGS) $(AEGIS_DEP_CFLAGS)
bench_store_bench_LDADD = $(AEGIS_LIBS)
dist_noinst_SCRIPTS += bench/store.sh
# bench/nfs: aegis-nfsd beside nfs-ganesha (nfs-cp throughput, libnfs metadata workload, RSS).
dist_noinst_SCRIPTS += bench/nfs

# bench/launch: submit → completed through aegisd beside the raw engine cycle (p50/p99 sequential
# and at once), /health p99 during a burst beside nginx, CPU and RSS.
dist_noinst_SCRIPTS += bench/launch

# bench/dispatch: the added latency of one inner-loop tool round over the fake provider's own.
dist_noinst_SCRIPTS += bench/dispatch/run.sh

# bench/volume-files: the volume file API's upload and download beside podman cp (issue 15).
dist_noinst_SCRIPTS += bench/volume-files
