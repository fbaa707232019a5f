# Build rules for fuzz (fuzz); appended to the lists in the top Makefile.am.
