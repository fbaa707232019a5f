# Build rules for packaging (packaging); appended to the lists in the top Makefile.am.
