# Build rules for src/reaper (aegis-reaper) and the shared reconciliation it runs (which
# aegisd also runs once at start-up); appended to the lists in the top Makefile.am.
libaegis_shared_la_SOURCES += \
	src/shared/reconcile.h \
	src/shared/reconcile.c \
	src/shared/reconcile-report.c

check_PROGRAMS += tests/unit/test-reconcile
TESTS += tests/unit/test-reconcile
tests_unit_test_reconcile_SOURCES = tests/unit/test-reconcile.c
tests_unit_test_reconcile_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_reconcile_LDADD = $(TEST_LIBS)
