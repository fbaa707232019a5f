/* cli.h — what the `aegis` subcommands share: the command table, global options, the
 * client, output modes, exit codes.
 *
 * The command table (aegis.c) is the one description of the command line: help, option
 * parsing (cli_getopt) and shell completion (`aegis __complete`) all read it, so a new
 * option appears in all three or in none. */
#pragma once

#include <getopt.h>
#include <json-c/json.h>

#include "client.h"

/* Exit codes of `aegis`, podman's convention: the execution's outcome (0, 1, 2) apart
 * from aegis's own errors (125). Documented in aegis(1). */
enum {
        EXIT_COMPLETED = 0,
        EXIT_FAILED = 1, /* the execution failed */
        EXIT_CANCELLED = 2, /* the execution was cancelled */
        EXIT_AEGIS = 125, /* aegis itself: usage, a refused request, an unreachable daemon */
        EXIT_CANNOT_INVOKE = 126, /* failed: its command could not be invoked (last exit 126) */
        EXIT_NOT_FOUND = 127, /* failed: its command was not found (last exit 127) */
};

typedef enum OutputMode {
        OUTPUT_TEXT,
        OUTPUT_WIDE,
        OUTPUT_JSON,
        OUTPUT_YAML,
        OUTPUT_NAME,
        _OUTPUT_MAX,
} OutputMode;
const char *output_mode_to_string(OutputMode m);
OutputMode output_mode_from_string(const char *s); /* -1 when unknown */

/* Keys of long-only options (short ones use their character). */
enum {
        OPT_SINCE = 256,
        OPT_TAIL,
        OPT_NO_HEADERS,
        OPT_SIZE_LIMIT,
        OPT_ACCESS_MODE,
        OPT_STORAGE_CLASS,
        OPT_TTL_HOURS,
        OPT_CURSOR,
        OPT_DRY_RUN,
};

typedef struct CliOption {
        const char *name; /* long name, without "--" */
        int key; /* < 256: also the short option -KEY */
        const char *arg; /* the argument's name in help, NULL for a flag */
        /* How to complete the argument: NULL (nothing), "@files", "@executions", "@agents",
         * "@volumes", or a space-separated word list. */
        const char *complete;
        const char *help;
} CliOption;

typedef struct Cli Cli;

typedef struct CliCommand {
        const char *name; /* "list", or "agent deploy" for a group's subcommand */
        const char *args; /* the positional arguments, for usage: "ID" */
        const char *complete; /* how to complete positional arguments (as CliOption.complete) */
        const char *summary;
        const char *details; /* more help, may be NULL */
        const CliOption *options; /* ends with an entry whose name is NULL */
        int (*run)(Cli *cli, int argc, char **argv); /* argv[0] is the (sub)command name */
} CliCommand;

struct Cli {
        Client client;
        OutputMode output;
        bool quiet;
        bool no_headers;
        const CliCommand *command;
        struct option longopts[24];
        char shortopts[64];
};

/* getopt_long over the command's option table; returns the option's key, -1 at the end,
 * '?' on an unknown option or a missing argument (getopt printed why). */
int cli_getopt(Cli *cli, int argc, char **argv);
/* Prints "aegis: …" and a pointer to the help; returns EXIT_AEGIS. */
int cli_usage_error(const char *fmt, ...) _printf_(1, 2);

/* Requests. On transport errors or HTTP >= 400 these print the error and return a negative
 * errno; otherwise *ret holds the answer (status < 400). */
int cli_call(Cli *cli, const char *method, const char *path, const char *content_type, const char *body,
             Response *ret);
int cli_call_json(Cli *cli, const char *method, const char *path, json_object *body, json_object **ret);
/* The same without printing: for look-ups whose failure is not the user's error. */
int cli_call_json_quiet(Cli *cli, const char *method, const char *path, json_object **ret);
/* A dry run: POST body to path (which ends in "?dry_run=true") and report what the daemon
 * found, every error of the manifest FILE on its own line. Returns 0 when it would be
 * accepted, EXIT_AEGIS otherwise (refused, or no daemon). */
int cli_dry_run(Cli *cli, const char *path, json_object *body);
/* "cannot reach aegisd at URL: error", with what to check. */
void cli_say_unreachable(Cli *cli, const char *error);

/* Ids (cli-resolve.c): a full id, or a unique prefix of at least CLI_ID_PREFIX_MIN
 * characters among the caller's tenant's executions or volumes. Prints why it failed
 * (too short, no match, ambiguous with the matches) and returns a negative errno. */
#define CLI_ID_PREFIX_MIN 4
int cli_resolve_execution(Cli *cli, const char *arg, char **ret_id);
int cli_resolve_volume(Cli *cli, const char *arg, char **ret_id);
/* "/v1/executions/ID" + suffix for a resolved (escaped) id. */
char *cli_execution_path(const char *id, const char *suffix);

/* Reads FILE (or "-" for stdin), capped; errors printed. */
int cli_read_file(const char *path, char **ret, size_t *ret_size);
/* Parses --input: JSON text or @file. */
int cli_parse_input(const char *arg, json_object **ret);
const char *json_str(json_object *o, const char *key);
int64_t json_int(json_object *o, const char *key, int64_t dflt);
/* Percent-encodes s for a path segment/query value. */
char *cli_escape(const char *s);

/* Output (cli-output.c). cli_print_object prints j as JSON or YAML (the mode's), exact. */
void cli_print_json(json_object *j);
int cli_print_yaml(json_object *j);
bool cli_output_structured(const Cli *cli); /* json or yaml */
int cli_print_object(const Cli *cli, json_object *j);
/* Human forms for tables: "1.5 GiB", "42 s", "3m12s", "5m ago". */
char *cli_format_bytes(char *buf, size_t size, uint64_t bytes);
char *cli_format_duration(char *buf, size_t size, double secs);
char *cli_format_age(char *buf, size_t size, const char *rfc3339);
/* Seconds since the epoch of an RFC 3339 UTC timestamp; negative errno on junk. */
int cli_parse_timestamp(const char *s, double *ret);
/* An id as tables show it: its first CLI_SHORT_ID characters (a unique prefix, as podman
 * shows 12), whole with -o wide. Returns id itself or buf. */
#define CLI_SHORT_ID 12
const char *cli_table_id(const Cli *cli, const char *id, char buf[static CLI_SHORT_ID + 1]);
/* Display columns of UTF-8 text (one per code point) and a copy cut to max columns with "…". */
size_t cli_text_width(const char *s);
char *cli_text_cut(const char *s, size_t max);

/* A table printed with columns as wide as their widest cell; a column with a cap is cut
 * to it (unless wide output). Headers unless --no-headers. */
typedef struct CliTable CliTable;
CliTable *cli_table_new(const Cli *cli, const char *const *headers, const size_t *caps, size_t n_cols);
int cli_table_add(CliTable *t, const char *const *cells);
void cli_table_indent(CliTable *t, size_t columns); /* every line, e.g. under "Iterations:" */
void cli_table_print(CliTable *t);
CliTable *cli_table_free(CliTable *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(CliTable *, cli_table_free);

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
int cmd_health(Cli *cli, int argc, char **argv);
int cmd_agent_deploy(Cli *cli, int argc, char **argv);
int cmd_agent_list(Cli *cli, int argc, char **argv);
int cmd_agent_show(Cli *cli, int argc, char **argv);
int cmd_agent_run(Cli *cli, int argc, char **argv);
int cmd_agent_delete(Cli *cli, int argc, char **argv);
int cmd_agent_validate(Cli *cli, int argc, char **argv);
int cmd_volume_create(Cli *cli, int argc, char **argv);
int cmd_volume_list(Cli *cli, int argc, char **argv);
int cmd_volume_show(Cli *cli, int argc, char **argv);
int cmd_volume_delete(Cli *cli, int argc, char **argv);
int cmd_volume_ls(Cli *cli, int argc, char **argv);
int cmd_volume_cp(Cli *cli, int argc, char **argv);
/* aegis doctor (doctor.c): host set-up checks; doctor_main parses its own options. */
int cmd_doctor(Cli *cli, int argc, char **argv);
int doctor_main(int argc, char **argv, OutputMode output);
/* Follows an execution's events until it ends and returns its exit code (0/1/2/126/127). */
int cli_follow_execution(Cli *cli, const char *id);
