/* cli.h — what the `aegis` subcommands share: global options, the client, exit codes. */
#pragma once

#include <json-c/json.h>

#include "client.h"

/* Exit codes of `aegis`: documented in aegis(1). */
enum {
        EXIT_COMPLETED = 0,
        EXIT_FAILED = 1, /* the execution failed, or the request did */
        EXIT_USAGE = 2, /* cancelled executions and usage errors */
};

typedef enum OutputMode {
        OUTPUT_TEXT,
        OUTPUT_JSON,
} OutputMode;

typedef struct Cli {
        Client client;
        OutputMode output;
        bool quiet;
} Cli;

typedef struct CliCommand {
        const char *name;
        const char *usage; /* arguments, for help */
        const char *help;
        int (*run)(Cli *cli, int argc, char **argv); /* argv[0] is the command name */
} CliCommand;

/* Helpers shared by the commands. */
int cli_usage_error(const char *fmt, ...) _printf_(1, 2);
/* Sends a request; on transport errors or HTTP >= 400 prints the error and returns a
 * negative errno; otherwise *ret holds the answer (status < 400). */
int cli_call(Cli *cli, const char *method, const char *path, const char *content_type, const char *body,
             Response *ret);
int cli_call_json(Cli *cli, const char *method, const char *path, json_object *body, json_object **ret);
/* Reads FILE (or "-" for stdin), capped; errors printed. */
int cli_read_file(const char *path, char **ret, size_t *ret_size);
/* Parses --input: JSON text or @file. */
int cli_parse_input(const char *arg, json_object **ret);
void cli_print_json(json_object *j);
const char *json_str(json_object *o, const char *key);
int64_t json_int(json_object *o, const char *key, int64_t dflt);
/* Percent-encodes s for a path segment/query value. */
char *cli_escape(const char *s);

/* The inner loop (loop-display.c): the one-line text of an llm_call_* or tool_call_* event
 * (false for other types), and each iteration's trajectory and tokens for `aegis show`. */
bool cli_loop_event_text(json_object *event, const char *type, char *buf, size_t size);
void cli_print_trajectories(json_object *iterations);

int cmd_run(Cli *cli, int argc, char **argv);
int cmd_submit(Cli *cli, int argc, char **argv);
int cmd_list(Cli *cli, int argc, char **argv);
int cmd_show(Cli *cli, int argc, char **argv);
int cmd_logs(Cli *cli, int argc, char **argv);
int cmd_cancel(Cli *cli, int argc, char **argv);
int cmd_delete(Cli *cli, int argc, char **argv);
int cmd_events(Cli *cli, int argc, char **argv);
int cmd_wait(Cli *cli, int argc, char **argv);
int cmd_agent(Cli *cli, int argc, char **argv);
int cmd_volume(Cli *cli, int argc, char **argv);
int cmd_health(Cli *cli, int argc, char **argv);
/* aegis doctor (doctor.c): host set-up checks; doctor_main parses its own options. */
int cmd_doctor(Cli *cli, int argc, char **argv);
int doctor_main(int argc, char **argv);
/* Follows an execution's events until it ends and returns its exit code (0/1/2). */
int cli_follow_execution(Cli *cli, const char *id);
