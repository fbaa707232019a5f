# Build rules for units (units); appended to the lists in the top Makefile.am.
