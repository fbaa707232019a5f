# Build rules for src/nfsd (nfsd); appended to the lists in the top Makefile.am.
