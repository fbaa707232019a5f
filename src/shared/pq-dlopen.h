/* pq-dlopen.h — libpq, loaded when a postgresql:// URL is first opened instead of linked.
 *
 * Linking libpq costs a program up to ~5 MiB of resident memory at start (its own pages plus
 * the OpenSSL, Kerberos and LDAP libraries behind it, where nothing else maps them: aegis-nfsd
 * idles at 6 MiB instead of 10.6), although only a PostgreSQL store needs it. So no program
 * links it: store-pg.c and `aegis doctor` call pq_dlopen() and then use the sym_PQ…
 * pointers below. The build still needs libpq-fe.h for the types and prototypes. */
#pragma once

#include <libpq-fe.h>

#include "error.h"

#define PQ_DLOPEN_SONAME "libpq.so.5"

/* Every libpq function the code calls; X(name) once each. */
#define PQ_SYMBOLS(X)           \
        X(PQclear)              \
        X(PQcmdTuples)          \
        X(PQconnectdbParams)    \
        X(PQerrorMessage)       \
        X(PQexec)               \
        X(PQexecParams)         \
        X(PQfinish)             \
        X(PQgetisnull)          \
        X(PQgetvalue)           \
        X(PQnfields)            \
        X(PQntuples)            \
        X(PQping)               \
        X(PQreset)              \
        X(PQresultErrorField)   \
        X(PQresultErrorMessage) \
        X(PQresultStatus)       \
        X(PQsetNoticeProcessor) \
        X(PQstatus)

#define PQ_DECLARE_SYM(name) extern typeof(name) *sym_##name;
PQ_SYMBOLS(PQ_DECLARE_SYM)
#undef PQ_DECLARE_SYM

/* Loads libpq.so.5 and resolves every symbol, once per process (thread-safe). On failure
 * (library missing or too old) fills e with what to install and returns -EOPNOTSUPP; the
 * next call tries again, so installing libpq5 helps a running daemon. */
int pq_dlopen(Error *e);
