# Build rules for src/cli (cli); appended to the lists in the top Makefile.am.
