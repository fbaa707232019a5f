# Build rules for src/reaper (aegis-reaper): a short main around the reconciliation in
# libaegis-reconcile.la (src/shared/shared.mk); appended to the lists in the top Makefile.am.

bin_PROGRAMS += aegis-reaper
aegis_reaper_SOURCES = src/reaper/aegis-reaper.c
aegis_reaper_CFLAGS = $(AM_CFLAGS) $(AEGIS_DEP_CFLAGS)
aegis_reaper_LDADD = $(AEGIS_RECONCILE_LIBS)

# Writes the store rows the integration tests need, through the store API.
check_PROGRAMS += tests/helpers/reaper-fixture
tests_helpers_reaper_fixture_SOURCES = tests/helpers/reaper-fixture.c
tests_helpers_reaper_fixture_CFLAGS = $(AM_CFLAGS) $(AEGIS_DEP_CFLAGS)
tests_helpers_reaper_fixture_LDADD = $(AEGIS_LIBS)

TESTS += \
	tests/integration/reaper-removes-exactly-the-orphans-sqlite.sh \
	tests/integration/reaper-removes-exactly-the-orphans-postgresql.sh \
	tests/integration/reaper-backs-off-unremovable-containers.sh \
	tests/integration/reaper-fails-clearly-without-podman-or-store.sh \
	tests/integration/reaper-refuses-a-new-store.sh \
	tests/integration/reaper-keeps-another-stores-containers.sh \
	tests/integration/reaper-units-verify.sh
EXTRA_DIST += \
	tests/integration/reaper-scenario.sh \
	tests/integration/reaper-removes-exactly-the-orphans-sqlite.sh \
	tests/integration/reaper-removes-exactly-the-orphans-postgresql.sh \
	tests/integration/reaper-backs-off-unremovable-containers.sh \
	tests/integration/reaper-fails-clearly-without-podman-or-store.sh \
	tests/integration/reaper-refuses-a-new-store.sh \
	tests/integration/reaper-keeps-another-stores-containers.sh \
	tests/integration/reaper-units-verify.sh \
	bench/reaper.sh
