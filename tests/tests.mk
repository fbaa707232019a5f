# Build rules for tests/: the format/banned-function check and the shared test library.
TESTS += tests/check-format.sh
EXTRA_DIST += tests/check-format.sh
dist_noinst_DATA += tests/lib/common.sh tests/lib/podman.sh tests/lib/containers.conf

check_PROGRAMS += tests/unit/test-util
TESTS += tests/unit/test-util
tests_unit_test_util_SOURCES = tests/unit/test-util.c
tests_unit_test_util_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_util_LDADD = $(TEST_LIBS)
