# Build rules for man (man); appended to the lists in the top Makefile.am.
