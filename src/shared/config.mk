# Build rules for src/shared (config); appended to the lists in the top Makefile.am.
