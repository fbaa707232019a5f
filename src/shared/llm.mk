# Build rules for src/shared (LLM providers, issue 14); appended to the lists in the top Makefile.am.
libaegis_shared_la_SOURCES += \
	src/shared/llm.h \
	src/shared/llm-internal.h \
	src/shared/llm.c \
	src/shared/llm-wire.c \
	src/shared/llm-openai.c \
	src/shared/llm-anthropic.c \
	src/shared/llm-ollama.c \
	src/shared/llm-gemini.c

# One llm_generate() call as JSON, for tests/integration/llm-providers.sh.
check_PROGRAMS += tests/helpers/llm-probe
tests_helpers_llm_probe_SOURCES = tests/helpers/llm-probe.c
tests_helpers_llm_probe_CFLAGS = $(AM_CFLAGS) $(AEGIS_DEP_CFLAGS)
tests_helpers_llm_probe_LDADD = $(AEGIS_LIBS)
dist_noinst_DATA += tests/lib/llm.sh tests/lib/fake-llm.py
TESTS += tests/integration/llm-providers.sh
EXTRA_DIST += tests/integration/llm-providers.sh

check_PROGRAMS += tests/unit/test-llm
TESTS += tests/unit/test-llm
tests_unit_test_llm_SOURCES = tests/unit/test-llm.c
tests_unit_test_llm_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_llm_LDADD = $(TEST_LIBS)
