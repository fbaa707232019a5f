# Build rules for executions (issue 4): validators, supervisor, REST API of executions and
# agents, their tests. Appended to the lists in the top Makefile.am.

# Iteration validators (in the shared library so unit tests link them).
libaegis_shared_la_SOURCES += \
	src/shared/validate.h \
	src/shared/validate.c
check_PROGRAMS += tests/unit/test-validate
TESTS += tests/unit/test-validate
tests_unit_test_validate_SOURCES = tests/unit/test-validate.c
tests_unit_test_validate_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_validate_LDADD = $(TEST_LIBS)
dist_noinst_DATA += tests/lib/executions.sh
