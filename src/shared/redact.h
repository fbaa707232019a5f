/* redact.h — passwords out of text that is about to be shown: logs, --check-config, error
 * messages (issue 19: no secret in any of them).
 *
 * The one redaction function of the tree; every program shows a database URL or connection
 * string only through it. */
#pragma once

/* A malloc'd copy of text with every password replaced by "***": the password of a URL's user
 * information ("postgresql://user:PASSWORD@host/db"; any scheme, anywhere in the text),
 * "password=…" in a URL's query ("?sslmode=require&password=…") and password=VALUE in a
 * keyword/value connection string ("host=h password=… dbname=d", the value quoted or not,
 * spaces around "=" allowed). The key is matched without regard to case; what is not a
 * password is kept byte for byte. NULL when out of memory; text NULL gives "". */
char *redact_secrets(const char *text);
