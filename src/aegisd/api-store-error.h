/* api-store-error.h — how every API file answers a store call that failed: a missing row
 * (-ENOENT, and another tenant's, which callers turn into -ENOENT) is 404 "no WHAT ID", a
 * database that is busy or gone 503, anything else 500, logged with the database's message.
 * Below the API files and the executions: it uses only the HTTP layer and the store. */
#pragma once

#include "http.h"
#include "store.h"

int api_respond_store_error(HttpRequest *r, Store *s, int k, const char *what, const char *id);
