# Build rules for src/shared (podman); appended to the lists in the top Makefile.am.
libaegis_shared_la_SOURCES += \
	src/shared/podman.h \
	src/shared/podman-internal.h \
	src/shared/podman-sync.h \
	src/shared/podman-transport.c \
	src/shared/podman-system.c

# Integration tests of the driver against a private, real Podman service (tests/lib/podman.sh).
check_PROGRAMS += tests/integration/podman-probe
tests_integration_podman_probe_SOURCES = tests/integration/podman-probe.c
tests_integration_podman_probe_CFLAGS = $(TEST_CFLAGS)
tests_integration_podman_probe_LDADD = $(TEST_LIBS)
TESTS += tests/integration/podman-ping.sh
EXTRA_DIST += tests/integration/podman-ping.sh
