# Build rules for src/aegisd (aegisd); appended to the lists in the top Makefile.am.

# D-Bus object org.aegis1 (issue 8): bus.c is linked into aegisd; the harness drives it alone.
EXTRA_DIST += src/aegisd/bus.h
check_PROGRAMS += tests/helpers/bus-harness
tests_helpers_bus_harness_SOURCES = tests/helpers/bus-harness.c src/aegisd/bus.c src/aegisd/bus.h
tests_helpers_bus_harness_CFLAGS = $(AM_CFLAGS) $(AEGIS_DEP_CFLAGS) -I$(top_srcdir)/src/aegisd
tests_helpers_bus_harness_LDADD = $(AEGIS_LIBS)
TESTS += tests/integration/bus-publishes-org-aegis1.sh
EXTRA_DIST += tests/integration/bus-publishes-org-aegis1.sh
