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

# Issue 17: error codes, the route lists, and the OpenAPI document (data/openapi.json)
# compiled in for GET /v1/openapi.json and installed as $(pkgdatadir)/openapi.json.
aegisd_SOURCES += src/aegisd/api-routes.h src/aegisd/api-routes.c src/aegisd/api-openapi.c
nodist_aegisd_SOURCES = src/aegisd/openapi-data.c
CLEANFILES += src/aegisd/openapi-data.c
dist_pkgdata_DATA += data/openapi.json
src/aegisd/openapi-data.c: $(top_srcdir)/data/openapi.json
	$(AM_V_GEN)$(MKDIR_P) src/aegisd && { \
		printf '/* Generated from data/openapi.json by the build: do not edit. */\n'; \
		printf 'extern const char aegis_openapi_json[];\nconst char aegis_openapi_json[] =\n'; \
		sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $(top_srcdir)/data/openapi.json; \
		printf ';\n'; } >$@.tmp && mv $@.tmp $@
