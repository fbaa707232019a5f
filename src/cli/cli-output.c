/* cli-output.c — how `aegis` prints: JSON and YAML as the API answered (exact numbers),
 * tables for people (human sizes, durations and ages; columns as wide as their cells,
 * long free text cut unless -o wide), ids only with -o name.
 *
 * Widths count code points, so a table of UTF-8 text still lines up; a cut cell ends in
 * "…" and never splits a character. */
#include <assert.h>
#include <errno.h>
#include <math.h>
#include <string.h>
#include <time.h>
#include <yaml.h>

#include "cli.h"
#include "util.h"

static const char *const output_mode_table[_OUTPUT_MAX] = {
        [OUTPUT_TEXT] = "text", [OUTPUT_WIDE] = "wide", [OUTPUT_JSON] = "json",
        [OUTPUT_YAML] = "yaml", [OUTPUT_NAME] = "name",
};

const char *output_mode_to_string(OutputMode m) {
        return m >= 0 && m < _OUTPUT_MAX ? output_mode_table[m] : NULL;
}

OutputMode output_mode_from_string(const char *s) {
        for (int i = 0; i < _OUTPUT_MAX; i++)
                if (streq_ptr(output_mode_table[i], s))
                        return (OutputMode) i;
        return (OutputMode) -1;
}

void cli_print_json(json_object *j) {
        puts(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                       JSON_C_TO_STRING_NOSLASHESCAPE));
}

static int yaml_scalar(yaml_emitter_t *e, const char *s, bool plain_ok, yaml_scalar_style_t style) {
        yaml_event_t ev;

        /* plain_ok: may be written unquoted (numbers, booleans, keys); otherwise quoted, so
         * that a string "123" or "true" stays a string. */
        if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *) s, (int) strlen(s), plain_ok, 1,
                                          style))
                return -ENOMEM;
        return yaml_emitter_emit(e, &ev) ? 0 : -EIO;
}

static int yaml_value(yaml_emitter_t *e, json_object *j) {
        yaml_event_t ev;
        int r = 0;

        switch (json_object_get_type(j)) {
        case json_type_null:
                return yaml_scalar(e, "null", true, YAML_PLAIN_SCALAR_STYLE);
        case json_type_boolean:
        case json_type_int:
        case json_type_double:
                return yaml_scalar(e, json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN), true,
                                   YAML_PLAIN_SCALAR_STYLE);
        case json_type_string: {
                const char *s = json_object_get_string(j);
                /* Quoted so that "123", "true" or "null" stay strings; blocks for text. */
                return yaml_scalar(e, s, false,
                                   strchr(s, '\n') ? YAML_LITERAL_SCALAR_STYLE
                                                   : YAML_DOUBLE_QUOTED_SCALAR_STYLE);
        }
        case json_type_array:
                if (!yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_ANY_SEQUENCE_STYLE) ||
                    !yaml_emitter_emit(e, &ev))
                        return -EIO;
                for (size_t i = 0; r >= 0 && i < json_object_array_length(j); i++)
                        r = yaml_value(e, json_object_array_get_idx(j, i));
                if (r < 0 || !yaml_sequence_end_event_initialize(&ev) || !yaml_emitter_emit(e, &ev))
                        return r < 0 ? r : -EIO;
                return 0;
        case json_type_object:
                if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_ANY_MAPPING_STYLE) ||
                    !yaml_emitter_emit(e, &ev))
                        return -EIO;
                json_object_object_foreach (j, k, v) {
                        r = yaml_scalar(e, k, true, YAML_ANY_SCALAR_STYLE);
                        if (r >= 0)
                                r = yaml_value(e, v);
                        if (r < 0)
                                return r;
                }
                if (!yaml_mapping_end_event_initialize(&ev) || !yaml_emitter_emit(e, &ev))
                        return -EIO;
                return 0;
        }
        return -EINVAL;
}

static int yaml_write(void *data, unsigned char *buffer, size_t size) {
        return fwrite(buffer, 1, size, data) == size;
}

int cli_print_yaml(json_object *j) {
        yaml_emitter_t e;
        yaml_event_t ev;
        int r = -EIO;

        if (!yaml_emitter_initialize(&e))
                return -ENOMEM;
        yaml_emitter_set_output(&e, yaml_write, stdout);
        yaml_emitter_set_unicode(&e, 1);
        yaml_emitter_set_width(&e, -1);
        if (yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) && yaml_emitter_emit(&e, &ev) &&
            yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) && yaml_emitter_emit(&e, &ev)) {
                r = yaml_value(&e, j);
                if (r >= 0)
                        r = yaml_document_end_event_initialize(&ev, 1) && yaml_emitter_emit(&e, &ev) &&
                                            yaml_stream_end_event_initialize(&ev) &&
                                            yaml_emitter_emit(&e, &ev)
                                    ? 0
                                    : -EIO;
        }
        yaml_emitter_delete(&e);
        return r;
}

bool cli_output_structured(const Cli *cli) {
        return cli->output == OUTPUT_JSON || cli->output == OUTPUT_YAML;
}

int cli_print_object(const Cli *cli, json_object *j) {
        if (cli->output == OUTPUT_YAML)
                return cli_print_yaml(j);
        cli_print_json(j);
        return 0;
}

char *cli_format_bytes(char *buf, size_t size, uint64_t bytes) {
        static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
        double v = (double) bytes;
        size_t u = 0;

        while (v >= 1024 && u + 1 < ELEMENTSOF(units)) {
                v /= 1024;
                u++;
        }
        if (u == 0)
                snprintf(buf, size, "%" PRIu64 " B", bytes);
        else
                snprintf(buf, size, v < 10 && v != floor(v) ? "%.1f %s" : "%.0f %s", v, units[u]);
        return buf;
}

char *cli_format_duration(char *buf, size_t size, double secs) {
        uint64_t s;

        if (secs < 0)
                secs = 0;
        if (secs < 10) {
                snprintf(buf, size, "%.1fs", secs);
                return buf;
        }
        s = (uint64_t) llround(secs);
        if (s < 60)
                snprintf(buf, size, "%" PRIu64 "s", s);
        else if (s < 3600)
                snprintf(buf, size, "%" PRIu64 "m%02" PRIu64 "s", s / 60, s % 60);
        else if (s < 86400)
                snprintf(buf, size, "%" PRIu64 "h%02" PRIu64 "m", s / 3600, s / 60 % 60);
        else
                snprintf(buf, size, "%" PRIu64 "d%02" PRIu64 "h", s / 86400, s / 3600 % 24);
        return buf;
}

int cli_parse_timestamp(const char *s, double *ret) {
        struct tm tm = { 0 };
        const char *p;
        double frac = 0;

        if (isempty(s))
                return -EINVAL;
        p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
        if (!p)
                return -EINVAL;
        if (*p == '.') {
                char *end;
                frac = strtod(p, &end);
                p = end;
        }
        if (!streq(p, "Z") && !streq(p, "+00:00"))
                return -EINVAL;
        *ret = (double) timegm(&tm) + frac;
        return 0;
}

char *cli_format_age(char *buf, size_t size, const char *rfc3339) {
        char d[32];
        double t;

        if (cli_parse_timestamp(rfc3339, &t) < 0) {
                snprintf(buf, size, "%s", isempty(rfc3339) ? "-" : rfc3339);
                return buf;
        }
        cli_format_duration(d, sizeof d, (double) now_usec(CLOCK_REALTIME) / 1e6 - t);
        snprintf(buf, size, "%s ago", d);
        return buf;
}

const char *cli_table_id(const Cli *cli, const char *id, char buf[static CLI_SHORT_ID + 1]) {
        if (!id || cli->output == OUTPUT_WIDE || strlen(id) <= CLI_SHORT_ID)
                return id;
        snprintf(buf, CLI_SHORT_ID + 1, "%s", id);
        return buf;
}

size_t cli_text_width(const char *s) {
        size_t w = 0;

        for (; *s; s++)
                w += ((unsigned char) *s & 0xC0) != 0x80;
        return w;
}

char *cli_text_cut(const char *s, size_t max) {
        size_t w = 0, i = 0;

        if (cli_text_width(s) <= max)
                return strdup(s);
        if (max == 0)
                return strdup("");
        /* Keep max - 1 columns and add "…". */
        for (; s[i]; i++) {
                if (((unsigned char) s[i] & 0xC0) != 0x80) {
                        if (w == max - 1)
                                break;
                        w++;
                }
        }
        return asprintf_safe("%.*s…", (int) i, s);
}

struct CliTable {
        const Cli *cli;
        size_t n_cols;
        const char *const *headers;
        const size_t *caps;
        char **cells; /* n_rows * n_cols */
        size_t n_rows;
        size_t indent;
};

void cli_table_indent(CliTable *t, size_t columns) {
        t->indent = columns;
}

CliTable *cli_table_new(const Cli *cli, const char *const *headers, const size_t *caps, size_t n_cols) {
        CliTable *t = calloc(1, sizeof *t);

        assert(cli && headers && n_cols > 0);
        if (!t)
                return NULL;
        *t = (CliTable){ .cli = cli, .n_cols = n_cols, .headers = headers, .caps = caps };
        return t;
}

int cli_table_add(CliTable *t, const char *const *cells) {
        char **p = realloc(t->cells, (t->n_rows + 1) * t->n_cols * sizeof(char *));

        if (!p)
                return -ENOMEM;
        t->cells = p;
        for (size_t c = 0; c < t->n_cols; c++) {
                const char *v = isempty(cells[c]) ? "-" : cells[c];
                size_t cap = t->caps && t->cli->output != OUTPUT_WIDE ? t->caps[c] : 0;
                char *x = cap ? cli_text_cut(v, cap) : strdup(v);

                if (!x)
                        return -ENOMEM;
                /* A cell is one line: control characters become spaces. */
                for (char *q = x; *q; q++)
                        if ((unsigned char) *q < 0x20 || *q == 0x7f)
                                *q = ' ';
                t->cells[t->n_rows * t->n_cols + c] = x;
        }
        t->n_rows++;
        return 0;
}

static void print_row(CliTable *t, const char *const *row, const size_t *width) {
        printf("%*s", (int) t->indent, "");
        for (size_t c = 0; c < t->n_cols; c++) {
                bool last = c + 1 == t->n_cols;
                fputs(row[c], stdout);
                if (!last)
                        for (size_t w = cli_text_width(row[c]); w < width[c] + 2; w++)
                                putchar(' ');
        }
        putchar('\n');
}

void cli_table_print(CliTable *t) {
        _cleanup_free_ size_t *width = calloc(t->n_cols, sizeof(size_t));

        if (!width)
                return;
        for (size_t c = 0; c < t->n_cols; c++) {
                width[c] = t->cli->no_headers ? 0 : cli_text_width(t->headers[c]);
                for (size_t r = 0; r < t->n_rows; r++) {
                        size_t w = cli_text_width(t->cells[r * t->n_cols + c]);
                        if (w > width[c])
                                width[c] = w;
                }
        }
        if (!t->cli->no_headers)
                print_row(t, t->headers, width);
        for (size_t r = 0; r < t->n_rows; r++)
                print_row(t, (const char *const *) t->cells + r * t->n_cols, width);
}

CliTable *cli_table_free(CliTable *t) {
        if (!t)
                return NULL;
        for (size_t i = 0; i < t->n_rows * t->n_cols; i++)
                free(t->cells[i]);
        free(t->cells);
        free(t);
        return NULL;
}
