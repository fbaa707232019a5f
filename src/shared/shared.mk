# Build rules for src/shared; appended to the lists in the top Makefile.am.
#
# Five convenience libraries, each with its own link set, so that a program links the
# external libraries of the layers it uses and no others (HACKING.md, "Layers"):
#   libaegis-basic.la      libc helpers: errors, logging, strings, hosts   libsystemd
#   libaegis-store.la      the execution store (SQLite, PostgreSQL)        sqlite3, libdl
#   libaegis-shared.la     config, YAML, JSON (Schema), volumes, handles   libyaml, json-c, libgcrypt, pcre2
#   libaegis-podman.la     the engine client (Podman's REST API)           libcurl, json-c
#   libaegis-reconcile.la  the reconciliation (aegis-reaper, aegisd)       (the layers below)
# A layer uses only the layers listed after it in AEGIS_RECONCILE_LIBS.
AEGIS_BASIC_LIBS = libaegis-basic.la $(SYSTEMD_LIBS) -lm -lpthread
AEGIS_STORE_LIBS = libaegis-store.la $(SQLITE_LIBS) $(DL_LIBS) $(AEGIS_BASIC_LIBS)
AEGIS_SHARED_LIBS = libaegis-shared.la $(YAML_LIBS) $(JSONC_LIBS) $(GCRYPT_LIBS) $(PCRE2_LIBS) $(AEGIS_BASIC_LIBS)
AEGIS_PODMAN_LIBS = libaegis-podman.la $(CURL_LIBS) $(AEGIS_SHARED_LIBS)
AEGIS_RECONCILE_LIBS = libaegis-reconcile.la $(AEGIS_PODMAN_LIBS) $(AEGIS_STORE_LIBS)

noinst_LTLIBRARIES += libaegis-basic.la
libaegis_basic_la_SOURCES = \
	src/shared/macros.h src/shared/list.h src/shared/string-table.h src/shared/spec-enums.h \
	src/shared/error.h src/shared/error.c \
	src/shared/log.h src/shared/log.c \
	src/shared/util.h src/shared/util.c src/shared/utf8.h \
	src/shared/exit-report.h src/shared/exit-report.c \
	src/shared/loopback.h src/shared/loopback.c \
	src/shared/redact.h src/shared/redact.c \
	src/shared/host-match.h src/shared/host-match.c \
	src/shared/api-error.h src/shared/api-error.c \
	src/shared/state-dir.h src/shared/state-dir.c \
	src/shared/process-token.h src/shared/process-token.c
libaegis_basic_la_CFLAGS = $(AM_CFLAGS) $(SYSTEMD_CFLAGS)

noinst_LTLIBRARIES += libaegis-store.la
libaegis_store_la_SOURCES = \
	src/shared/store.h \
	src/shared/store-internal.h \
	src/shared/store-schema.h \
	src/shared/store.c \
	src/shared/store-sqlite.c \
	src/shared/store-pg.c \
	src/shared/pq-dlopen.h \
	src/shared/pq-dlopen.c
libaegis_store_la_CFLAGS = $(AM_CFLAGS) $(SYSTEMD_CFLAGS) $(SQLITE_CFLAGS) $(PQ_CFLAGS)

libaegis_shared_la_SOURCES = \
	src/shared/json-body.h \
	src/shared/json-body.c \
	src/shared/json-util.h \
	src/shared/json-util.c \
	src/shared/yaml-tree.h \
	src/shared/yaml-tree.c \
	src/shared/config.h \
	src/shared/config.c \
	src/shared/config-security.h \
	src/shared/config-security.c \
	src/shared/volume.h \
	src/shared/volume.c \
	src/shared/volume-userns.h \
	src/shared/volume-userns.c \
	src/shared/volume-mount.h \
	src/shared/volume-mount.c \
	src/shared/hmac.h \
	src/shared/hmac.c \
	src/shared/volume-files.h \
	src/shared/volume-files.c \
	src/shared/json-schema.h \
	src/shared/json-schema-internal.h \
	src/shared/json-schema.c \
	src/shared/json-schema-format.c \
	src/shared/json-schema-validate.c \
	src/shared/regex-match.h \
	src/shared/regex-match.c
libaegis_shared_la_CFLAGS = $(AM_CFLAGS) $(SYSTEMD_CFLAGS) $(YAML_CFLAGS) $(JSONC_CFLAGS) $(GCRYPT_CFLAGS) $(PCRE2_CFLAGS)

noinst_LTLIBRARIES += libaegis-podman.la
libaegis_podman_la_SOURCES = \
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
	src/shared/podman-volumes.c
libaegis_podman_la_CFLAGS = $(AM_CFLAGS) $(SYSTEMD_CFLAGS) $(CURL_CFLAGS) $(JSONC_CFLAGS)

noinst_LTLIBRARIES += libaegis-reconcile.la
libaegis_reconcile_la_SOURCES = \
	src/shared/reconcile.h \
	src/shared/reconcile.c \
	src/shared/reconcile-report.c \
	src/shared/reconcile-internal.h \
	src/shared/reconcile-run.c \
	src/shared/reconcile-engine.c \
	src/shared/reconcile-volumes.c \
	src/shared/reconcile-engine-volumes.c
libaegis_reconcile_la_CFLAGS = $(AM_CFLAGS) $(SYSTEMD_CFLAGS) $(CURL_CFLAGS) $(JSONC_CFLAGS)

# Configuration: its file, the state directory, the security contexts' section.
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

check_PROGRAMS += tests/unit/test-yaml-tree
TESTS += tests/unit/test-yaml-tree
tests_unit_test_yaml_tree_SOURCES = tests/unit/test-yaml-tree.c
tests_unit_test_yaml_tree_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_yaml_tree_LDADD = $(TEST_LIBS)

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

# The reconciliation (aegis-reaper's pass, run by aegisd once at start-up).
check_PROGRAMS += tests/unit/test-reconcile
TESTS += tests/unit/test-reconcile
tests_unit_test_reconcile_SOURCES = tests/unit/test-reconcile.c
tests_unit_test_reconcile_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_reconcile_LDADD = $(TEST_LIBS)

# Volumes (issue 7): directory lifecycle, mount handles.
check_PROGRAMS += tests/unit/test-volume
TESTS += tests/unit/test-volume
tests_unit_test_volume_SOURCES = tests/unit/test-volume.c
tests_unit_test_volume_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_volume_LDADD = $(TEST_LIBS)
# SHA-256/HMAC through libgcrypt (handles, export tokens).
check_PROGRAMS += tests/unit/test-hmac
TESTS += tests/unit/test-hmac
tests_unit_test_hmac_SOURCES = tests/unit/test-hmac.c
tests_unit_test_hmac_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_hmac_LDADD = $(TEST_LIBS)
# The volume file API (issue 15): paths resolved beneath a volume.
check_PROGRAMS += tests/unit/test-volume-files
TESTS += tests/unit/test-volume-files
tests_unit_test_volume_files_SOURCES = tests/unit/test-volume-files.c
tests_unit_test_volume_files_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_volume_files_LDADD = $(TEST_LIBS)

# The programs' link sets: aegis and aegis-reaper link neither libmicrohttpd, libtirpc nor
# libseccomp (ldd shows it).
TESTS += tests/integration/programs-link-only-their-layers.sh
EXTRA_DIST += tests/integration/programs-link-only-their-layers.sh

# JSON Schema (draft 2020-12) and PCRE2 for the validators: checked at submission (400 with the
# path), run after each iteration.
check_PROGRAMS += tests/unit/test-json-schema
TESTS += tests/unit/test-json-schema
tests_unit_test_json_schema_SOURCES = tests/unit/test-json-schema.c
tests_unit_test_json_schema_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_json_schema_LDADD = $(TEST_LIBS)
TESTS += tests/integration/validators-checked-at-submission.sh
EXTRA_DIST += tests/integration/validators-checked-at-submission.sh
# json-util.h's adders.
check_PROGRAMS += tests/unit/test-json-util
TESTS += tests/unit/test-json-util
tests_unit_test_json_util_SOURCES = tests/unit/test-json-util.c
tests_unit_test_json_util_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_json_util_LDADD = $(TEST_LIBS)
