/* exit-report.h — the line by which aegis-bootstrap tells aegisd its command's exit status.
 *
 * A warm pool's container runs aegis-bootstrap, which runs the iteration's command as its
 * child. The engine learns that a container exited only after its runtime has cleaned up
 * (about 0.6 s with Podman 4.3 and runc), so when aegisd gives the iteration a nonce
 * (EXIT_REPORT_ENV in the environment file), aegis-bootstrap writes, once the command has
 * exited normally, one report line on stdout and one on stderr:
 *
 *     AEGIS-EXIT <nonce> <exit status>\n
 *
 * and aegisd, which follows the container's log stream, takes the status from there and
 * removes both lines from the output.
 *
 * What must stay true:
 * - Everything the command wrote to a stream comes before that stream's report line (the
 *   same pipe, written after the command exited), so a stream whose report has arrived is
 *   complete; aegisd waits for both.
 * - The nonce is 32 lowercase hex digits, new for each iteration, and never reaches the
 *   command: a line the command prints with another nonce is output like any other.
 * - This file uses libc only: aegis-bootstrap compiles it in. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define EXIT_REPORT_ENV "AEGIS_EXIT_REPORT"
#define EXIT_REPORT_PREFIX "AEGIS-EXIT "
#define EXIT_REPORT_NONCE_LEN 32
/* The longest report line, with its newline and a NUL. */
#define EXIT_REPORT_LINE_MAX (sizeof(EXIT_REPORT_PREFIX) - 1 + EXIT_REPORT_NONCE_LEN + 1 + 3 + 1 + 1)

/* 32 lowercase hex digits. */
bool exit_report_nonce_valid(const char *s);

/* The report line for an exit status 0..255 into buf; its length, or -EINVAL. */
int exit_report_format(char *buf, size_t size, const char *nonce, int status);

/* When data[0..*size) ends with a whole report line whose nonce is nonce (any valid one when
 * nonce is NULL): removes it (data[*size] becomes NUL: data must have room for it) and
 * returns true with its status in *ret_status. Only the end is looked at, so a stream's
 * report is recognised only as its last line (bytes the command wrote before it without a
 * newline stay in front of it: they are output). data may hold NULs. */
bool exit_report_take(char *data, size_t *size, const char *nonce, int *ret_status);
