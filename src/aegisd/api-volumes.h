/* api-volumes.h — the route table of api-volumes.c (the volumes) and what it lends
 * api-volume-files.c (their files). */
#pragma once

#include "api-context.h"
#include "http.h"
#include "store.h"

/* Answers an error: 1 (answered: the handler is done), or -EIO when the answer could not be
 * queued. */
#define ANSWER_ERROR(r, status, field, ...) \
        (http_respond_error(r, status, field, __VA_ARGS__) < 0 ? -EIO : 1)

/* The prologue of the requests on one volume: looks up the route's {id} for the caller's
 * tenant in the daemon's store. Returns 0 with *ret set; 1 once it has answered (404 for an
 * invalid, unknown, deleted or foreign id: another tenant's volume is exactly a missing one);
 * -EIO when answering failed. */
int api_volume_open(HttpRequest *r, ApiContext *ctx, StoreVolume *ret);

/* POST/GET /v1/volumes, GET /v1/volumes/quota, GET/PATCH/DELETE /v1/volumes/{id}. */
extern const HttpRoute api_volumes_routes[];
