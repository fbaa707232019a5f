# Build rules for src/shared (manifest); appended to the lists in the top Makefile.am.
libaegis_shared_la_SOURCES += \
	src/shared/yaml-tree.h \
	src/shared/yaml-tree.c \
	src/shared/manifest.h \
	src/shared/manifest.c \
	src/shared/prompt.h \
	src/shared/prompt.c

check_PROGRAMS += tests/unit/test-yaml-tree
TESTS += tests/unit/test-yaml-tree
tests_unit_test_yaml_tree_SOURCES = tests/unit/test-yaml-tree.c
tests_unit_test_yaml_tree_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_yaml_tree_LDADD = $(TEST_LIBS)

check_PROGRAMS += tests/unit/test-manifest
TESTS += tests/unit/test-manifest
tests_unit_test_manifest_SOURCES = tests/unit/test-manifest.c
tests_unit_test_manifest_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_manifest_LDADD = $(TEST_LIBS)

TESTS += tests/integration/fuzz-parsers.sh
EXTRA_DIST += tests/integration/fuzz-parsers.sh fuzz/manifest.c fuzz/config.c

check_PROGRAMS += tests/unit/test-prompt
TESTS += tests/unit/test-prompt
tests_unit_test_prompt_SOURCES = tests/unit/test-prompt.c
tests_unit_test_prompt_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_prompt_LDADD = $(TEST_LIBS)

# JSON Schema and PCRE2 for the validators (checked at submission, run after each iteration).
libaegis_shared_la_SOURCES += \
	src/shared/json-schema.h \
	src/shared/json-schema-internal.h \
	src/shared/json-schema.c \
	src/shared/json-schema-format.c \
	src/shared/json-schema-validate.c \
	src/shared/regex-match.h \
	src/shared/regex-match.c
check_PROGRAMS += tests/unit/test-json-schema
TESTS += tests/unit/test-json-schema
tests_unit_test_json_schema_SOURCES = tests/unit/test-json-schema.c
tests_unit_test_json_schema_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_json_schema_LDADD = $(TEST_LIBS)
# The validators' checks at submission (400) and at run time, on a real Podman.
TESTS += tests/integration/validators-checked-at-submission.sh
EXTRA_DIST += tests/integration/validators-checked-at-submission.sh
