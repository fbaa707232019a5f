# Build rules for src/shared (manifest); appended to the lists in the top Makefile.am.
