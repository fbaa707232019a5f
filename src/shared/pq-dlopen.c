/* pq-dlopen.c — see pq-dlopen.h. */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>

#include "pq-dlopen.h"

#define PQ_DEFINE_SYM(name) typeof(name) *sym_##name = NULL;
PQ_SYMBOLS(PQ_DEFINE_SYM)
#undef PQ_DEFINE_SYM

static const struct {
        const char *name;
        void **slot;
} pq_symbols[] = {
#define PQ_SYM_ENTRY(name) { #name, (void **) &sym_##name },
        PQ_SYMBOLS(PQ_SYM_ENTRY)
#undef PQ_SYM_ENTRY
};

static pthread_mutex_t pq_lock = PTHREAD_MUTEX_INITIALIZER;
static bool pq_loaded;

static void pq_forget(void) {
        for (size_t i = 0; i < ELEMENTSOF(pq_symbols); i++)
                *pq_symbols[i].slot = NULL;
}

int pq_dlopen(Error *e) {
        int r = 0;

        pthread_mutex_lock(&pq_lock);
        if (pq_loaded)
                goto out;
        void *dl = dlopen(PQ_DLOPEN_SONAME, RTLD_NOW | RTLD_LOCAL);
        if (!dl) {
                const char *why = dlerror();
                r = error_set(e, -EOPNOTSUPP, "PostgreSQL support needs libpq5 (apt-get install libpq5): %s",
                              why ? why : PQ_DLOPEN_SONAME ": cannot be loaded");
                goto out;
        }
        for (size_t i = 0; i < ELEMENTSOF(pq_symbols); i++) {
                (void) dlerror();
                *pq_symbols[i].slot = dlsym(dl, pq_symbols[i].name);
                if (!*pq_symbols[i].slot) {
                        r = error_set(e, -EOPNOTSUPP,
                                      "PostgreSQL support needs a newer libpq5 (apt-get install libpq5): "
                                      "%s has no %s",
                                      PQ_DLOPEN_SONAME, pq_symbols[i].name);
                        pq_forget();
                        (void) dlclose(dl);
                        goto out;
                }
        }
        /* Never closed: libpq keeps process-wide state (SSL, threads' keys) once used. */
        pq_loaded = true;
out:
        pthread_mutex_unlock(&pq_lock);
        return r;
}
