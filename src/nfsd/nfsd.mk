# Build rules for src/nfsd (aegis-nfsd); appended to the lists in the top Makefile.am.
#
# The gateway is a convenience library (also linked by its unit tests and the fuzz target)
# plus a short main. The XDR code is rpcgen's output from our own nfs3.x/mount3.x, checked
# in (regenerate with `make regen-xdr`) and built with the warnings rpcgen cannot avoid off.
NFSD_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/src/nfsd
NFSD_CFLAGS = $(AM_CFLAGS) $(SYSTEMD_CFLAGS) $(TIRPC_CFLAGS) $(SECCOMP_CFLAGS)
NFSD_LIBS = libaegis-nfs.la libaegis-nfs-xdr.la $(AEGIS_SHARED_LIBS) $(AEGIS_STORE_LIBS) $(TIRPC_LIBS) $(SECCOMP_LIBS)

noinst_LTLIBRARIES += libaegis-nfs-xdr.la
libaegis_nfs_xdr_la_SOURCES = \
	src/nfsd/nfs3.h \
	src/nfsd/nfs3_xdr.c \
	src/nfsd/mount3.h \
	src/nfsd/mount3_xdr.c
libaegis_nfs_xdr_la_CPPFLAGS = $(NFSD_CPPFLAGS)
libaegis_nfs_xdr_la_CFLAGS = $(AM_CFLAGS) $(TIRPC_CFLAGS) -Wno-unused-variable -Wno-unused-parameter

noinst_LTLIBRARIES += libaegis-nfs.la
libaegis_nfs_la_SOURCES = \
	src/nfsd/nfs-handle.h \
	src/nfsd/nfs-handle.c \
	src/nfsd/nfs-clients.h \
	src/nfsd/nfs-clients.c \
	src/nfsd/nfs-exports.h \
	src/nfsd/nfs-exports.c \
	src/nfsd/nfs-fdcache.h \
	src/nfsd/nfs-fdcache.c \
	src/nfsd/nfs-fsgen.h \
	src/nfsd/nfs-fsgen.c \
	src/nfsd/nfs-volume.h \
	src/nfsd/nfs-volume.c \
	src/nfsd/nfs-metrics.h \
	src/nfsd/nfs-metrics.c \
	src/nfsd/nfs-gateway.h \
	src/nfsd/nfs-gateway.c \
	src/nfsd/nfs-rpc.h \
	src/nfsd/nfs-rpc.c \
	src/nfsd/nfs3-proc.h \
	src/nfsd/nfs3-proc.c \
	src/nfsd/nfs3-readdir.c \
	src/nfsd/mount3-proc.c \
	src/nfsd/nfs-server.h \
	src/nfsd/nfs-server.c \
	src/nfsd/nfs-seccomp.h \
	src/nfsd/nfs-seccomp.c
libaegis_nfs_la_CPPFLAGS = $(NFSD_CPPFLAGS)
libaegis_nfs_la_CFLAGS = $(NFSD_CFLAGS)

sbin_PROGRAMS += aegis-nfsd
aegis_nfsd_SOURCES = src/nfsd/nfsd.c
aegis_nfsd_CPPFLAGS = $(NFSD_CPPFLAGS)
aegis_nfsd_CFLAGS = $(NFSD_CFLAGS)
aegis_nfsd_LDADD = $(NFSD_LIBS)

EXTRA_DIST += src/nfsd/nfs3.x src/nfsd/mount3.x

# Regenerate the checked-in XDR code after editing nfs3.x / mount3.x.
regen-xdr:
	for p in nfs3 mount3; do \
		(cd $(top_srcdir)/src/nfsd && rm -f $$p.h $${p}_xdr.c && \
		 $(RPCGEN) -h -o $$p.h $$p.x && $(RPCGEN) -c -o $${p}_xdr.c $$p.x) || exit 1; \
	done
.PHONY: regen-xdr

# Tests: the libnfs client program (only with libnfs; CI has it) and the shell tests.
dist_noinst_DATA += tests/lib/nfs.sh tests/lib/nfs-rpc.py
if HAVE_LIBNFS
check_PROGRAMS += tests/integration/nfs-client
tests_integration_nfs_client_SOURCES = tests/integration/nfs-client.c
tests_integration_nfs_client_CFLAGS = $(AM_CFLAGS) $(LIBNFS_CFLAGS) -Wno-missing-prototypes
tests_integration_nfs_client_LDADD = $(LIBNFS_LIBS)
endif
NFS_TESTS = \
	tests/integration/nfs-mount-list-and-copy-100mb.sh \
	tests/integration/nfs-namespace-operations.sh \
	tests/integration/nfs-readdirplus-10000-entries.sh \
	tests/integration/nfs-quota-and-read-only.sh \
	tests/integration/nfs-handles-forged-stale-and-restart.sh \
	tests/integration/nfs-open-file-cache.sh \
	tests/integration/nfs-handle-inode-reuse.sh \
	tests/integration/nfs-write-stability-syncs.sh \
	tests/integration/nfs-hostile-input.sh \
	tests/integration/nfs-registry-from-store-and-config.sh \
	tests/integration/nfs-socket-activation-notify-seccomp.sh \
	tests/integration/nfs-tenant-isolation.sh \
	tests/integration/faults-nfs-disk-full.sh \
	tests/integration/nfs-volume-eviction-rename-link.sh \
	tests/integration/nfs-protocol-details.sh \
	tests/integration/nfs-only-the-engine-mounts.sh \
	tests/integration/nfs-idle-and-per-client-connection-limits.sh \
	tests/integration/nfs-quota-counts-every-inode.sh
TESTS += $(NFS_TESTS)
EXTRA_DIST += $(NFS_TESTS)
# The access checks, the connection limits and the inode quota under valgrind (about 3 min).
VALGRIND_TESTS += \
	tests/integration/nfs-only-the-engine-mounts.sh \
	tests/integration/nfs-idle-and-per-client-connection-limits.sh \
	tests/integration/nfs-quota-counts-every-inode.sh

# Unit test of the client host lists (linked against the gateway library).
check_PROGRAMS += tests/unit/test-nfs-clients
TESTS += tests/unit/test-nfs-clients
tests_unit_test_nfs_clients_SOURCES = tests/unit/test-nfs-clients.c
tests_unit_test_nfs_clients_CPPFLAGS = $(NFSD_CPPFLAGS)
tests_unit_test_nfs_clients_CFLAGS = $(TEST_CFLAGS) $(NFSD_CFLAGS)
tests_unit_test_nfs_clients_LDADD = $(NFSD_LIBS) $(CHECK_LIBS)
check_PROGRAMS += tests/unit/test-nfs-volume-names
TESTS += tests/unit/test-nfs-volume-names
tests_unit_test_nfs_volume_names_SOURCES = tests/unit/test-nfs-volume-names.c
tests_unit_test_nfs_volume_names_CPPFLAGS = $(NFSD_CPPFLAGS)
tests_unit_test_nfs_volume_names_CFLAGS = $(TEST_CFLAGS) $(NFSD_CFLAGS)
tests_unit_test_nfs_volume_names_LDADD = $(NFSD_LIBS) $(CHECK_LIBS)
