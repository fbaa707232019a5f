# Build rules for src/shared (store); appended to the lists in the top Makefile.am.
libaegis_shared_la_SOURCES += \
	src/shared/store.h \
	src/shared/store-internal.h \
	src/shared/store-schema.h \
	src/shared/store.c \
	src/shared/store-sqlite.c \
	src/shared/store-pg.c \
	src/shared/pq-dlopen.h \
	src/shared/pq-dlopen.c
