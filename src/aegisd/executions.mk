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

# The supervisor and the REST API of executions and agents, linked into aegisd.
aegisd_SOURCES += \
	src/aegisd/executions.h \
	src/aegisd/executions.c \
	src/aegisd/supervisor.h \
	src/aegisd/supervisor-internal.h \
	src/aegisd/supervisor.c \
	src/aegisd/run.c \
	src/aegisd/run-dispatch.h \
	src/aegisd/run-part.h \
	src/aegisd/run-dispatch.c \
	src/aegisd/run-judge.h \
	src/aegisd/run-judge.c \
	src/aegisd/gateway.h \
	src/aegisd/gateway.c \
	src/aegisd/api-executions.c \
	src/aegisd/api-agents.c

# End to end on real Podman (tests/lib/executions.sh starts aegisd on a private service).
EXECUTIONS_TESTS = \
	tests/integration/executions-first-iteration-success.sh \
	tests/integration/executions-feedback.sh \
	tests/integration/executions-timeout.sh \
	tests/integration/executions-cancel.sh \
	tests/integration/executions-oom.sh \
	tests/integration/executions-crash-recovery.sh \
	tests/integration/executions-api.sh \
	tests/integration/executions-auth.sh \
	tests/integration/executions-examples.sh \
	tests/integration/executions-concurrency.sh \
	tests/integration/executions-postgres-two-daemons.sh
TESTS += $(EXECUTIONS_TESTS)
EXTRA_DIST += $(EXECUTIONS_TESTS)

# The tool catalogue of the inner loop and its tools (issue 21).
AEGISD_TOOLS_SOURCES = \
	src/aegisd/tools.h \
	src/aegisd/tools.c \
	src/aegisd/tools-fs.h \
	src/aegisd/tools-fs-internal.h \
	src/aegisd/tools-fs.c \
	src/aegisd/tools-fs-walk.c \
	src/aegisd/tools-web.c \
	src/aegisd/tool-slots.h \
	src/aegisd/tool-slots.c \
	src/aegisd/html-text.h \
	src/aegisd/html-text.c
aegisd_SOURCES += $(AEGISD_TOOLS_SOURCES)
# fs.grep's regular expressions (PCRE2, with a match limit): aegisd alone links it.
aegisd_CFLAGS += $(PCRE2_CFLAGS)
aegisd_LDADD += $(PCRE2_LIBS)
# web.fetch's HTML to text (libxml2's HTML parser): aegisd alone links it.
aegisd_CFLAGS += $(LIBXML2_CFLAGS)
aegisd_LDADD += $(LIBXML2_LIBS)
# The HTML to text converter on its own.
check_PROGRAMS += tests/unit/test-html-text
TESTS += tests/unit/test-html-text
tests_unit_test_html_text_SOURCES = tests/unit/test-html-text.c src/aegisd/html-text.c src/aegisd/html-text.h
tests_unit_test_html_text_CFLAGS = $(TEST_CFLAGS) -I$(top_srcdir)/src/aegisd $(LIBXML2_CFLAGS)
tests_unit_test_html_text_LDADD = $(TEST_LIBS) $(LIBXML2_LIBS)
# The operator's ceilings and the tenants' quotas at submission (issue 19).
aegisd_SOURCES += src/aegisd/api-limits.h src/aegisd/api-limits.c

# Judged validators (semantic, multi_judge): the verdict and the consensus (issue 21).
libaegis_shared_la_SOURCES += src/shared/judge.h src/shared/judge.c
check_PROGRAMS += tests/unit/test-judge
TESTS += tests/unit/test-judge
tests_unit_test_judge_SOURCES = tests/unit/test-judge.c
tests_unit_test_judge_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_judge_LDADD = $(TEST_LIBS)
TESTS += tests/integration/validators-judged.sh
EXTRA_DIST += tests/integration/validators-judged.sh
# What an iteration used (issue 17): container stats sampled while it runs.
aegisd_SOURCES += \
	src/aegisd/run-stats.h \
	src/aegisd/run-stats.c
TESTS += tests/integration/executions-usage.sh
EXTRA_DIST += tests/integration/executions-usage.sh
