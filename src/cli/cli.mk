# Build rules for src/cli (cli); appended to the lists in the top Makefile.am.
bin_PROGRAMS += aegis
aegis_SOURCES = \
	src/cli/aegis.c \
	src/cli/cli.h \
	src/cli/cli-util.c \
	src/cli/cli-output.c \
	src/cli/cli-resolve.c \
	src/cli/client.h \
	src/cli/client.c \
	src/cli/cmd-agents.c \
	src/cli/cmd-executions.c \
	src/cli/cmd-volumes.c \
	src/cli/doctor.c \
	src/cli/loop-display.c
aegis_CFLAGS = $(AM_CFLAGS) $(AEGIS_DEP_CFLAGS)
aegis_LDADD = $(AEGIS_PODMAN_LIBS) $(AEGIS_STORE_LIBS)
dist_bashcompletion_DATA += src/cli/completion/aegis
TESTS += tests/integration/doctor-reports-host-setup.sh
EXTRA_DIST += tests/integration/doctor-reports-host-setup.sh
# The zsh and fish scripts beside the bash one: all three are what `aegis completion SHELL`
# prints (tests/integration/cli-conventions.sh checks they are the same).
zshcompletiondir = $(datadir)/zsh/vendor-completions
dist_zshcompletion_DATA = src/cli/completion/_aegis
fishcompletiondir = $(datadir)/fish/vendor_completions.d
dist_fishcompletion_DATA = src/cli/completion/aegis.fish
# The manifests aegis(1) and the README use, installed as the package's examples.
aegisexamplesdir = $(docdir)/examples
dist_aegisexamples_DATA = \
	examples/agent-hello.yaml \
	examples/hello.yaml \
	examples/retry-feedback.yaml \
	examples/validated-json.yaml
TESTS += tests/integration/cli-conventions.sh
EXTRA_DIST += tests/integration/cli-conventions.sh
