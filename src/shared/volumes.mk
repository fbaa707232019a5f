# Build rules for volumes (issue 7): directory lifecycle, REST API, tests.
# Appended to the lists in the top Makefile.am (included after aegisd.mk).
libaegis_shared_la_SOURCES += \
	src/shared/volume.h \
	src/shared/volume.c \
	src/shared/volume-mount.h \
	src/shared/volume-mount.c \
	src/shared/hmac.h \
	src/shared/hmac.c
aegisd_SOURCES += \
	src/aegisd/api-volumes.c \
	src/aegisd/run-volumes.h \
	src/aegisd/run-volumes.c
check_PROGRAMS += tests/unit/test-volume
TESTS += tests/unit/test-volume
tests_unit_test_volume_SOURCES = tests/unit/test-volume.c
tests_unit_test_volume_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_volume_LDADD = $(TEST_LIBS)
TESTS += tests/integration/volumes-api.sh tests/integration/volumes-bind-mode.sh \
	tests/integration/volumes-nfs-mode.sh tests/integration/volumes-expiry-reaper.sh \
	tests/integration/volumes-tenants-and-cli.sh
EXTRA_DIST += tests/integration/volumes-api.sh tests/integration/volumes-bind-mode.sh \
	tests/integration/volumes-nfs-mode.sh tests/integration/volumes-expiry-reaper.sh \
	tests/integration/volumes-tenants-and-cli.sh
# SHA-256/HMAC through libgcrypt (handles, export tokens).
check_PROGRAMS += tests/unit/test-hmac
TESTS += tests/unit/test-hmac
tests_unit_test_hmac_SOURCES = tests/unit/test-hmac.c
tests_unit_test_hmac_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_hmac_LDADD = $(TEST_LIBS)
# The volume file API (issue 15): paths resolved beneath a volume.
libaegis_shared_la_SOURCES += \
	src/shared/volume-files.h \
	src/shared/volume-files.c
aegisd_SOURCES += \
	src/aegisd/api-volumes.h \
	src/aegisd/api-volume-files.c
TESTS += tests/integration/volumes-files-api.sh
EXTRA_DIST += tests/integration/volumes-files-api.sh
TESTS += tests/integration/volumes-files-live-execution.sh
EXTRA_DIST += tests/integration/volumes-files-live-execution.sh
check_PROGRAMS += tests/unit/test-volume-files
TESTS += tests/unit/test-volume-files
tests_unit_test_volume_files_SOURCES = tests/unit/test-volume-files.c
tests_unit_test_volume_files_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_volume_files_LDADD = $(TEST_LIBS)
