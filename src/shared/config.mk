# Build rules for src/shared (config); appended to the lists in the top Makefile.am.
libaegis_shared_la_SOURCES += \
	src/shared/config.h
