# Build rules for fuzz (fuzz); appended to the lists in the top Makefile.am.
# libFuzzer targets, built with --enable-fuzzing CC=clang. Each compiles the sources it
# exercises itself, so they are instrumented whatever flags the shared library got.
# Run: fuzz/fuzz-manifest -max_total_time=60 $(srcdir)/fuzz/corpus/manifest
#
# `make fuzz-programs [FUZZERS=fuzz/fuzz-NAME]` builds them with clang also in a tree
# configured without --enable-fuzzing (clang skips the gcc warning switches it does not know).
# The fuzz tests build their fuzzer that way (tests/lib/fuzz.sh), so each source list below
# is the only one.
FUZZERS = fuzz/fuzz-manifest fuzz/fuzz-nfs-xdr fuzz/fuzz-config fuzz/fuzz-podman-frames \
	fuzz/fuzz-api-body fuzz/fuzz-http-framing fuzz/fuzz-egress-parse
if ENABLE_FUZZING
noinst_PROGRAMS += $(FUZZERS)
FUZZ_CC = $(CC)
else
FUZZ_CC = clang
endif
CLEANFILES += $(FUZZERS)
fuzz-programs:
	$(MAKE) $(AM_MAKEFLAGS) CC='$(FUZZ_CC)' WARN_CFLAGS='$(WARN_CFLAGS) -Wno-unknown-warning-option' $(FUZZERS)
.PHONY: fuzz-programs
dist_noinst_DATA += tests/lib/fuzz.sh
FUZZ_COMPILE_FLAGS = $(AM_CFLAGS) $(AEGIS_DEP_CFLAGS) -I$(top_srcdir)/src/aegisd -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer
FUZZ_LINK_FLAGS = -fsanitize=fuzzer,address,undefined
FUZZ_CORE_SOURCES = src/shared/util.c src/shared/error.c src/shared/yaml-tree.c
EXTRA_DIST += fuzz/corpus

fuzz_fuzz_manifest_SOURCES = fuzz/manifest.c $(FUZZ_CORE_SOURCES) src/aegisd/manifest.c src/aegisd/prompt.c src/shared/host-match.c src/shared/json-schema.c src/shared/json-schema-format.c src/shared/regex-match.c
fuzz_fuzz_manifest_CFLAGS = $(FUZZ_COMPILE_FLAGS)
fuzz_fuzz_manifest_LDFLAGS = $(FUZZ_LINK_FLAGS)
fuzz_fuzz_manifest_LDADD = $(AEGIS_DEP_LIBS)

# The NFS gateway's request path (RPC header, auth, dispatch, XDR, handlers).
# Run: fuzz/fuzz-nfs-xdr -max_total_time=60 $(srcdir)/fuzz/corpus/nfs-xdr (seeds: fuzz/nfs-xdr-corpus.py)
fuzz_fuzz_nfs_xdr_SOURCES = fuzz/nfs-xdr.c src/shared/util.c src/shared/error.c src/shared/log.c \
	src/shared/hmac.c src/shared/volume-mount.c src/nfsd/nfs-handle.c src/nfsd/nfs-clients.c src/nfsd/nfs-exports.c src/nfsd/nfs-fdcache.c src/nfsd/nfs-fsgen.c src/nfsd/nfs-volume.c \
	src/nfsd/nfs-metrics.c \
	src/nfsd/nfs-gateway.c src/nfsd/nfs-rpc.c src/nfsd/nfs3-proc.c src/nfsd/nfs3-readdir.c src/nfsd/mount3-proc.c \
	src/nfsd/nfs3_xdr.c src/nfsd/mount3_xdr.c src/shared/store.c src/shared/store-sqlite.c src/shared/store-pg.c \
	src/shared/pq-dlopen.c
fuzz_fuzz_nfs_xdr_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/src/nfsd
fuzz_fuzz_nfs_xdr_CFLAGS = $(FUZZ_COMPILE_FLAGS) -Wno-unused-variable
fuzz_fuzz_nfs_xdr_LDFLAGS = $(FUZZ_LINK_FLAGS)
fuzz_fuzz_nfs_xdr_LDADD = $(AEGIS_DEP_LIBS)
EXTRA_DIST += fuzz/nfs-xdr-corpus.py
TESTS += tests/integration/nfs-fuzz-xdr.sh
EXTRA_DIST += tests/integration/nfs-fuzz-xdr.sh

fuzz_fuzz_config_SOURCES = fuzz/config.c $(FUZZ_CORE_SOURCES) src/shared/log.c src/shared/config.c \
	src/shared/state-dir.c src/shared/config-security.c src/shared/host-match.c
fuzz_fuzz_config_CFLAGS = $(FUZZ_COMPILE_FLAGS)
fuzz_fuzz_config_LDFLAGS = $(FUZZ_LINK_FLAGS)
fuzz_fuzz_config_LDADD = $(AEGIS_DEP_LIBS)

# Podman driver: log frame demux and the engine's JSON answers.
# Run: fuzz/fuzz-podman-frames -max_total_time=60 $(srcdir)/fuzz/corpus/podman-frames
fuzz_fuzz_podman_frames_SOURCES = fuzz/podman-frames.c src/shared/util.c src/shared/error.c \
	src/shared/json-body.c src/shared/curl-event.c src/shared/podman-transport.c src/shared/podman-system.c src/shared/podman-images.c \
	src/shared/podman-containers.c src/shared/podman-archive.c src/shared/podman-lifecycle.c \
	src/shared/podman-frames.c src/shared/podman-logs.c src/shared/podman-stats.c \
	src/shared/podman-events.c src/shared/podman-volumes.c src/shared/json-util.c
fuzz_fuzz_podman_frames_CFLAGS = $(FUZZ_COMPILE_FLAGS)
fuzz_fuzz_podman_frames_LDFLAGS = $(FUZZ_LINK_FLAGS)
fuzz_fuzz_podman_frames_LDADD = $(AEGIS_DEP_LIBS)

# API request bodies (JSON → manifest) and HTTP request framing (aegisd's HTTP layer).
# Run: fuzz/fuzz-api-body -max_total_time=60 $(srcdir)/fuzz/corpus/api-body (same for http-framing)
fuzz_fuzz_api_body_SOURCES = fuzz/api-body.c $(FUZZ_CORE_SOURCES) src/shared/json-body.c src/aegisd/manifest.c src/aegisd/prompt.c src/shared/host-match.c src/shared/json-schema.c src/shared/json-schema-format.c src/shared/regex-match.c
fuzz_fuzz_api_body_CFLAGS = $(FUZZ_COMPILE_FLAGS)
fuzz_fuzz_api_body_LDFLAGS = $(FUZZ_LINK_FLAGS)
fuzz_fuzz_api_body_LDADD = $(AEGIS_DEP_LIBS)
fuzz_fuzz_http_framing_SOURCES = fuzz/http-framing.c src/shared/util.c src/shared/error.c src/shared/log.c \
	src/shared/json-body.c src/aegisd/metrics.c src/aegisd/http.c
fuzz_fuzz_http_framing_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/src/aegisd
fuzz_fuzz_http_framing_CFLAGS = $(FUZZ_COMPILE_FLAGS)
fuzz_fuzz_http_framing_LDFLAGS = $(FUZZ_LINK_FLAGS)
fuzz_fuzz_http_framing_LDADD = $(AEGIS_DEP_LIBS)
# Issue 19: http.c checks Host headers (loopback.c).
fuzz_fuzz_http_framing_SOURCES += src/shared/loopback.c
# config.c and store.c show URLs through redact.c.
fuzz_fuzz_config_SOURCES += src/shared/redact.c
fuzz_fuzz_nfs_xdr_SOURCES += src/shared/redact.c

# Issue 21: the egress proxy's request, CONNECT and ClientHello parsing.
# Run: fuzz/fuzz-egress-parse -max_total_time=60 $(srcdir)/fuzz/corpus/egress-parse
fuzz_fuzz_egress_parse_SOURCES = fuzz/egress-parse.c $(FUZZ_CORE_SOURCES) src/aegisd/egress-parse.c
fuzz_fuzz_egress_parse_CFLAGS = $(FUZZ_COMPILE_FLAGS)
fuzz_fuzz_egress_parse_LDFLAGS = $(FUZZ_LINK_FLAGS)
fuzz_fuzz_egress_parse_LDADD = $(AEGIS_DEP_LIBS)
# Issue 17: http.c puts the code of api-error.c in every error body.
fuzz_fuzz_http_framing_SOURCES += src/shared/api-error.c
