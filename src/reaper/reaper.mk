# Build rules for src/reaper (reaper); appended to the lists in the top Makefile.am.
