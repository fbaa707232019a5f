/* config-security.h — config.c's part for the security section (config-security.c): parsing
 * security.contexts[], adding the built-in "default", checking security.default_context. */
#pragma once

#include <stdio.h>

#include "config.h"
#include "error.h"

struct YamlNode;

/* security.contexts (replaces what was parsed before). */
int config_security_parse_contexts(Config *c, const struct YamlNode *key, const struct YamlNode *list,
                                   Error *e);
/* After all layers: the built-in "default" unless defined; default_context must exist. */
int config_security_finish(Config *c, Error *e);
void config_security_free(Config *c);
/* "  contexts:" and what follows, for config_dump(). */
void config_security_dump(const Config *c, FILE *f);
