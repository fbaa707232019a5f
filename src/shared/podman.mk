# Build rules for src/shared (podman); appended to the lists in the top Makefile.am.
