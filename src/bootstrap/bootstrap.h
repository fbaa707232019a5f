/* bootstrap.h — the pieces of aegis-bootstrap, the container's side of the inner loop.
 *
 * aegis-bootstrap is a static program that aegisd copies into every inner-loop container
 * (man/aegis-bootstrap.8). It links only libc and json-c's static archive, never the shared
 * library of the rest of the tree: it must run in any image (busybox, distroless), so it
 * uses no NSS, no TCP to reach aegisd and no dynamic loader. Its messages go to stderr,
 * prefixed "aegis-bootstrap: "; its stdout carries only the final content. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <json-c/json.h>

/* Exit codes (aegis-bootstrap(8), EXIT STATUS). */
enum {
        BOOTSTRAP_EXIT_OK = 0,
        BOOTSTRAP_EXIT_GATEWAY_ERROR = 1, /* the gateway answered with an error status */
        BOOTSTRAP_EXIT_USAGE = 2, /* bad arguments or environment */
        BOOTSTRAP_EXIT_UNREACHABLE = 3, /* no answer within the retry budget */
        BOOTSTRAP_EXIT_PROTOCOL = 4, /* an answer that is not the protocol */
};

/* Largest HTTP response body read from the gateway. */
#define BOOTSTRAP_MAX_RESPONSE (16u * 1024 * 1024)

/* bootstrap-util.c */
void bs_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
uint64_t bs_now_ms(void);
void bs_sleep_ms(unsigned ms);
/* A copy of s[0..len) that is valid UTF-8: every byte that does not start a well-formed
 * sequence becomes U+FFFD. NUL-terminated; *ret_len is its length. NULL on ENOMEM. */
char *bs_utf8_sanitize(const char *s, size_t len, size_t *ret_len);
/* (utf8.h has utf8_char_len(), fs-tools-core.h fs_text_ok() and fs_utf8_head_cut().) */
/* Offset of the first byte of s[0..len) that is not a UTF-8 continuation byte. */
size_t bs_utf8_tail_start(const char *s, size_t len);
/* SIGCHLD is blocked for the whole program and read from this fd (signalfd). */
int bs_sigchld_fd(void);
/* Reap every exited child; returns the wait status of `pid` in *ret_status and true when
 * it was among them. */
bool bs_reap(pid_t pid, int *ret_status);
/* The exit code a shell would give for a wait status (128+N for signal N). */
int bs_exit_code(int status);

/* bootstrap-http.c: one HTTP/1.1 POST over a unix stream socket. A transport failure
 * (connect, write, a connection closed before the whole answer) returns -EAGAIN-class
 * errors < 0 with *ret_error set; an answer over BOOTSTRAP_MAX_RESPONSE returns -EFBIG. */
typedef struct BsResponse {
        int status;
        char *body;
        size_t body_len;
} BsResponse;
void bs_response_done(BsResponse *r);
int bs_http_post(const char *socket_path, const char *path, const char *body, size_t body_len,
                 BsResponse *ret, char *error, size_t error_size);

/* bootstrap-exec.c: runs one {"type":"dispatch","action":"exec"} message and returns the
 * {"type":"dispatch_result"} object to post back. Never fails for the command's sake:
 * a command that cannot start is a result with exit code 126/127. */
json_object *bs_run_dispatch(json_object *dispatch, const char *execution_id);
/* bootstrap-fs.c: runs one {"type":"dispatch","action":"fs"} message (the fs tools, natively)
 * and returns the {"type":"dispatch_result", …, "result": {…}} to post back; bs_fs_run() is
 * the result object alone. Never NULL: a tool error is a result {"error": "…"}. */
json_object *bs_run_fs_dispatch(json_object *dispatch, const char *execution_id);
json_object *bs_fs_run(json_object *dispatch);
/* Before the first dispatch: the variable names (a prefix ending in '_' or a whole name)
 * the commands must not inherit. */
void bs_exec_scrub_environment(const char *prefix);

/* aegis-bootstrap.c: removes every AEGIS_* variable and wipes its bytes from the block
 * /proc/PID/environ shows. */
void bs_scrub_environment(void);

/* bootstrap-relay.c: --relay PORT -- PROG ARGS… (replay: resend a broken connection's bytes),
 * and --egress PORT:SOCKET -- PROG ARGS… (no replay). */
int bs_relay_main(uint16_t port, const char *socket_path, unsigned retry_secs, bool replay, char **argv);

/* bootstrap-report.c: --env-file … -- PROG ARGS… when the environment file carries an exit
 * report nonce: runs PROG as a child, forwards signals, reports its exit (exit-report.h). */
int bs_report_main(const char *nonce, char **argv);
