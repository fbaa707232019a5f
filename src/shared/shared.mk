# Build rules for src/shared core: macros, errors, logging, utilities.
libaegis_shared_la_SOURCES += \
	src/shared/macros.h src/shared/list.h \
	src/shared/error.h src/shared/error.c \
	src/shared/log.h src/shared/log.c \
	src/shared/util.h src/shared/util.c \
	src/shared/json-body.h src/shared/json-body.c
libaegis_shared_la_SOURCES += src/shared/loopback.h src/shared/loopback.c
libaegis_shared_la_SOURCES += src/shared/redact.h src/shared/redact.c
libaegis_shared_la_SOURCES += src/shared/host-match.h src/shared/host-match.c
libaegis_shared_la_SOURCES += src/shared/egress-parse.h src/shared/egress-parse.c
libaegis_shared_la_SOURCES += src/shared/api-error.h src/shared/api-error.c
