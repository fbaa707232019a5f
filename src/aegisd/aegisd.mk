# Build rules for src/aegisd (aegisd); appended to the lists in the top Makefile.am.
