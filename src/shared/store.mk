# Build rules for src/shared (store); appended to the lists in the top Makefile.am.
