# Build rules for bench (bench); appended to the lists in the top Makefile.am.
