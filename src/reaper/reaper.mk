# Build rules for src/reaper (aegis-reaper) and the shared reconciliation it runs (which
# aegisd also runs once at start-up); appended to the lists in the top Makefile.am.
libaegis_shared_la_SOURCES += \
	src/shared/reconcile.h \
	src/shared/reconcile.c \
	src/shared/reconcile-report.c \
	src/shared/reconcile-internal.h \
	src/shared/reconcile-run.c \
	src/shared/reconcile-engine.c \
	src/shared/reconcile-volumes.c \
	src/shared/reconcile-engine-volumes.c

bin_PROGRAMS += aegis-reaper
aegis_reaper_SOURCES = src/reaper/aegis-reaper.c
aegis_reaper_CFLAGS = $(AM_CFLAGS) $(AEGIS_DEP_CFLAGS)
aegis_reaper_LDADD = $(AEGIS_LIBS)

check_PROGRAMS += tests/unit/test-reconcile
TESTS += tests/unit/test-reconcile
tests_unit_test_reconcile_SOURCES = tests/unit/test-reconcile.c
tests_unit_test_reconcile_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_reconcile_LDADD = $(TEST_LIBS)

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
