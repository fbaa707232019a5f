/* api-volume-files.h — the files of a volume over the API (api-volume-files.c): the route
 * table the daemon serves with its ApiContext as userdata. */
#pragma once

#include "http.h"

extern const HttpRoute api_volume_files_routes[];
