/* api-store-error.c — the answer to a store call that failed (api-store-error.h). */
#include <errno.h>
#include <string.h>

#include "api-store-error.h"
#include "log.h"
#include "util.h"

int api_respond_store_error(HttpRequest *r, Store *s, int k, const char *what, const char *id) {
        if (k == -ENOENT)
                return http_respond_error(r, 404, NULL, "no %s %s", what, strempty(id));
        log_error("store: %s %s: %s (%s)", what, strempty(id), strerror(-k), store_last_error(s));
        return http_respond_error(r, k == -ECONNRESET || k == -EBUSY ? 503 : 500, NULL, "database error: %s",
                                  store_last_error(s)[0] ? store_last_error(s) : strerror(-k));
}
