# Build rules for src/shared (podman); appended to the lists in the top Makefile.am.
libaegis_shared_la_SOURCES += \
	src/shared/podman.h \
	src/shared/podman-internal.h \
	src/shared/podman-sync.h \
	src/shared/curl-event.h \
	src/shared/curl-event.c \
	src/shared/podman-transport.c \
	src/shared/podman-system.c \
	src/shared/podman-images.c \
	src/shared/podman-containers.c \
	src/shared/podman-archive.c \
	src/shared/podman-lifecycle.c \
	src/shared/podman-frames.c \
	src/shared/podman-logs.c \
	src/shared/podman-stats.c \
	src/shared/podman-events.c \
	src/shared/podman-volumes.c \
	src/shared/json-util.h \
	src/shared/json-util.c

# Integration tests of the driver against a private, real Podman service (tests/lib/podman.sh).
check_PROGRAMS += tests/integration/podman-probe
tests_integration_podman_probe_SOURCES = tests/integration/podman-probe.c
tests_integration_podman_probe_CFLAGS = $(TEST_CFLAGS)
tests_integration_podman_probe_LDADD = $(TEST_LIBS)
TESTS += tests/integration/podman-ping.sh
EXTRA_DIST += tests/integration/podman-ping.sh
TESTS += tests/integration/podman-containers.sh
EXTRA_DIST += tests/integration/podman-containers.sh
TESTS += tests/integration/podman-concurrent.sh
EXTRA_DIST += tests/integration/podman-concurrent.sh
EXTRA_DIST += tests/integration/podman-probe-async.h

check_PROGRAMS += tests/unit/test-podman
TESTS += tests/unit/test-podman
tests_unit_test_podman_SOURCES = tests/unit/test-podman.c
tests_unit_test_podman_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_podman_LDADD = $(TEST_LIBS)

TESTS += tests/integration/fuzz-podman-frames.sh
EXTRA_DIST += tests/integration/fuzz-podman-frames.sh fuzz/podman-frames.c
