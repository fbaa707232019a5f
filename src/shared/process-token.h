/* process-token.h — a name for one process's life: "<pid>:<start time>", so a label that
 * names a process can be checked against /proc later without mistaking a reused pid for it.
 * aegisd labels its warm pools' containers with its own (podman.h: aegis.pool_owner), and the
 * reconciliation removes those whose process is gone (reconcile.h). */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#define PROCESS_TOKEN_MAX 48

/* The token of pid (0 = this process) into buf. -errno when /proc cannot say. */
int process_token(pid_t pid, char buf[static PROCESS_TOKEN_MAX]);
/* Whether the process a token names still lives on this host (same pid, same start time).
 * A malformed token names no process: false. */
bool process_token_alive(const char *token);
