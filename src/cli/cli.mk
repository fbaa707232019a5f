# Build rules for src/cli (cli); appended to the lists in the top Makefile.am.
bin_PROGRAMS += aegis
aegis_SOURCES = \
	src/cli/aegis.c \
	src/cli/cli.h \
	src/cli/cli-util.c \
	src/cli/client.h \
	src/cli/client.c \
	src/cli/cmd-agents.c \
	src/cli/cmd-executions.c \
	src/cli/cmd-volumes.c \
	src/cli/doctor.c \
	src/cli/loop-display.c
aegis_CFLAGS = $(AM_CFLAGS) $(AEGIS_DEP_CFLAGS)
aegis_LDADD = $(AEGIS_LIBS)
dist_bashcompletion_DATA += src/cli/completion/aegis
TESTS += tests/integration/doctor-reports-host-setup.sh
EXTRA_DIST += tests/integration/doctor-reports-host-setup.sh
