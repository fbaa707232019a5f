# Build rules for src/bootstrap (aegis-bootstrap); appended to the lists in the top Makefile.am.
#
# aegis-bootstrap runs inside the agents' containers, whatever their image: it is linked
# fully static (libc, json-c's and PCRE2's static archives only, never libaegis-shared) and
# built without the sanitizers, whose runtimes cannot be linked statically. The fs tools'
# core (src/shared/fs-tools-core.c) is compiled in from source, as aegisd compiles it.
aegisbootstrapdir = $(pkglibexecdir)
aegisbootstrap_PROGRAMS = aegis-bootstrap
aegis_bootstrap_SOURCES = \
	src/bootstrap/bootstrap.h \
	src/bootstrap/aegis-bootstrap.c \
	src/bootstrap/bootstrap-util.c \
	src/bootstrap/bootstrap-http.c \
	src/bootstrap/bootstrap-exec.c \
	src/bootstrap/bootstrap-fs.c \
	src/bootstrap/bootstrap-relay.c \
	src/bootstrap/bootstrap-report.c \
	src/shared/exit-report.h \
	src/shared/exit-report.c \
	src/shared/utf8.h \
	src/shared/fs-tools-core.h \
	src/shared/fs-tools-core.c
aegis_bootstrap_CFLAGS = -std=gnu11 $(WARN_CFLAGS) -fstack-protector-strong -Os $(JSONC_CFLAGS) $(PCRE2_CFLAGS)
aegis_bootstrap_LDFLAGS = -all-static -Wl,--gc-sections
aegis_bootstrap_LDADD = $(JSONC_LIBS) $(PCRE2_LIBS)
dist_man_MANS += man/aegis-bootstrap.8

# The protocol against a scripted fake gateway, on the host and in a busybox container
# with --network none, and the relay for a reference-style Python client.
TESTS += tests/integration/bootstrap-protocol.sh
EXTRA_DIST += tests/integration/bootstrap-protocol.sh
dist_noinst_DATA += tests/lib/fake-gateway.py tests/lib/ref-bootstrap.py
