# Build rules for src/aegisd (aegisd); appended to the lists in the top Makefile.am.
sbin_PROGRAMS += aegisd
aegisd_SOURCES = \
	src/aegisd/main.c \
	src/aegisd/daemon.h \
	src/aegisd/daemon.c \
	src/aegisd/http.h \
	src/aegisd/http.c \
	src/aegisd/api-health.c \
	src/aegisd/api-metrics.c
aegisd_CFLAGS = $(AM_CFLAGS) $(AEGIS_DEP_CFLAGS) -I$(top_srcdir)/src/aegisd
aegisd_LDADD = $(AEGIS_LIBS)

# The HTTP layer through a test server with one route per feature.
check_PROGRAMS += tests/integration/http-test-server
tests_integration_http_test_server_SOURCES = tests/integration/http-test-server.c src/aegisd/http.c src/aegisd/http.h
tests_integration_http_test_server_CFLAGS = $(TEST_CFLAGS) -I$(top_srcdir)/src/aegisd
tests_integration_http_test_server_LDADD = $(TEST_LIBS)
TESTS += tests/integration/http-layer.sh
EXTRA_DIST += tests/integration/http-layer.sh
TESTS += tests/integration/aegisd-socket-activation.sh
EXTRA_DIST += tests/integration/aegisd-socket-activation.sh
TESTS += tests/integration/aegisd-config-and-lifecycle.sh
EXTRA_DIST += tests/integration/aegisd-config-and-lifecycle.sh
TESTS += tests/integration/aegisd-health-ready.sh
EXTRA_DIST += tests/integration/aegisd-health-ready.sh

# D-Bus object org.aegis1 (issue 8): bus.c is linked into aegisd; the harness drives it alone.
aegisd_SOURCES += src/aegisd/bus.c src/aegisd/bus.h
check_PROGRAMS += tests/helpers/bus-harness
tests_helpers_bus_harness_SOURCES = tests/helpers/bus-harness.c src/aegisd/bus.c src/aegisd/bus.h
tests_helpers_bus_harness_CFLAGS = $(AM_CFLAGS) $(AEGIS_DEP_CFLAGS) -I$(top_srcdir)/src/aegisd
tests_helpers_bus_harness_LDADD = $(AEGIS_LIBS)
TESTS += tests/integration/bus-publishes-org-aegis1.sh
EXTRA_DIST += tests/integration/bus-publishes-org-aegis1.sh
aegisd_SOURCES += src/aegisd/egress.c src/aegisd/egress.h
