# Build rules for src/shared (config); appended to the lists in the top Makefile.am.
libaegis_shared_la_SOURCES += \
	src/shared/config.h \
	src/shared/config.c \
	src/shared/state-dir.h \
	src/shared/state-dir.c \
	src/shared/metrics.h \
	src/shared/metrics.c

check_PROGRAMS += tests/unit/test-config
TESTS += tests/unit/test-config
tests_unit_test_config_SOURCES = tests/unit/test-config.c
tests_unit_test_config_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_config_LDADD = $(TEST_LIBS)

check_PROGRAMS += tests/unit/test-state-dir
TESTS += tests/unit/test-state-dir
tests_unit_test_state_dir_SOURCES = tests/unit/test-state-dir.c
tests_unit_test_state_dir_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_state_dir_LDADD = $(TEST_LIBS)

check_PROGRAMS += tests/unit/test-metrics
TESTS += tests/unit/test-metrics
tests_unit_test_metrics_SOURCES = tests/unit/test-metrics.c
tests_unit_test_metrics_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_metrics_LDADD = $(TEST_LIBS)

# Security contexts (issue 21): their section of the file and their decisions.
libaegis_shared_la_SOURCES += \
	src/shared/config-security.h \
	src/shared/config-security.c \
	src/shared/policy.h \
	src/shared/policy.c
check_PROGRAMS += tests/unit/test-policy
TESTS += tests/unit/test-policy
tests_unit_test_policy_SOURCES = tests/unit/test-policy.c
tests_unit_test_policy_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_policy_LDADD = $(TEST_LIBS)
