/* llm-probe.c — one llm_generate() call on an sd-event loop, for the integration tests of
 * the LLM client (tests/integration/llm-providers.sh) without the inner loop.
 *
 *   llm-probe CONFIG ALIAS MESSAGES.json [TOOLS.json] [--timeout-ms N] [--metrics FILE]
 *
 * Loads CONFIG, makes the call, and prints one JSON object on stdout:
 *   {"ok":true,"content":…,"tool_calls":[{"id","name","arguments"}],"provider","model",
 *    "tokens_in","tokens_out","attempts","latency_ms"}
 *   {"ok":false,"error":"<tag>","http_status":N,"message":"…","elapsed_ms":N}
 * and exits 0 either way; 2 when it cannot set up (bad config, missing key: the message on
 * stderr). --metrics writes the Prometheus exposition after the call. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "json-util.h"
#include "llm.h"
#include "metrics.h"
#include "util.h"

typedef struct Probe {
        bool done;
        json_object *out;
        uint64_t start;
} Probe;

static void on_done(int r, const LlmResponse *resp, LlmErrorKind kind, const char *message, void *userdata) {
        Probe *p = userdata;
        json_object *o = json_object_new_object();

        p->done = true;
        p->out = o;
        if (r < 0) {
                json_object_object_add(o, "ok", json_object_new_boolean(false));
                json_object_object_add(o, "error", json_object_new_string(llm_error_tag(kind)));
                json_object_object_add(o, "http_status",
                                       json_object_new_int((int) llm_error_http_status(kind)));
                json_object_object_add(o, "message", json_object_new_string(strempty(message)));
                json_object_object_add(
                        o, "elapsed_ms",
                        json_object_new_int64(
                                (int64_t) ((now_usec(CLOCK_MONOTONIC) - p->start) / USEC_PER_MSEC)));
                return;
        }
        json_object *calls = json_object_new_array();
        json_object_object_add(o, "ok", json_object_new_boolean(true));
        json_object_object_add(o, "content", resp->content ? json_object_new_string(resp->content) : NULL);
        for (size_t i = 0; i < resp->n_tool_calls; i++) {
                json_object *c = json_object_new_object();
                json_object_object_add(c, "id", json_object_new_string(resp->tool_calls[i].id));
                json_object_object_add(c, "name", json_object_new_string(resp->tool_calls[i].name));
                json_object_object_add(c, "arguments", json_object_get(resp->tool_calls[i].arguments));
                json_object_array_add(calls, c);
        }
        json_object_object_add(o, "tool_calls", calls);
        json_object_object_add(o, "provider", json_object_new_string(resp->provider));
        json_object_object_add(o, "model", json_object_new_string(resp->model));
        json_object_object_add(o, "tokens_in", json_object_new_int64((int64_t) resp->tokens_in));
        json_object_object_add(o, "tokens_out", json_object_new_int64((int64_t) resp->tokens_out));
        json_object_object_add(o, "attempts", json_object_new_int((int) resp->attempts));
        json_object_object_add(o, "latency_ms",
                               json_object_new_int64((int64_t) (resp->latency_usec / USEC_PER_MSEC)));
}

static json_object *load_json(const char *path) {
        json_object *o = json_object_from_file(path);

        if (!o)
                fprintf(stderr, "llm-probe: %s: not JSON\n", path);
        return o;
}

int main(int argc, char **argv) {
        /* Freed in reverse order on every path, the client before the loop it runs on (a
         * failed set-up must leak nothing either: LeakSanitizer would change the status). */
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        _cleanup_(config_freep) Config *config = NULL;
        _cleanup_(metrics_registry_freep) MetricsRegistry *reg = NULL;
        _cleanup_(llm_client_freep) LlmClient *client = NULL;
        _cleanup_json_ json_object *messages = NULL, *tools = NULL;
        const char *metrics_file = NULL, *tools_file = NULL;
        Probe probe = {};
        Error e = ERROR_INIT;
        uint64_t timeout_usec = 0;
        int r, i;

        if (argc < 4) {
                fprintf(stderr, "usage: llm-probe CONFIG ALIAS MESSAGES.json [TOOLS.json] [--timeout-ms N] "
                                "[--metrics FILE]\n");
                return 2;
        }
        for (i = 4; i < argc; i++) {
                if (streq(argv[i], "--timeout-ms") && i + 1 < argc) {
                        uint64_t ms;
                        if (safe_atou64(argv[++i], &ms) < 0)
                                return 2;
                        timeout_usec = ms * USEC_PER_MSEC;
                } else if (streq(argv[i], "--metrics") && i + 1 < argc)
                        metrics_file = argv[++i];
                else
                        tools_file = argv[i];
        }
        r = config_load(argv[1], &config, &e);
        if (r < 0) {
                fprintf(stderr, "llm-probe: %s\n", e.message);
                return 2;
        }
        messages = load_json(argv[3]);
        if (!messages || (tools_file && !(tools = load_json(tools_file))))
                return 2;
        if (sd_event_default(&event) < 0 || metrics_registry_new(&reg) < 0)
                return 2;
        r = llm_client_new(event, config, &client, &e);
        if (r < 0) {
                fprintf(stderr, "llm-probe: %s\n", e.message);
                return 2;
        }
        if (llm_client_register_metrics(client, reg) < 0)
                return 2;
        probe.start = now_usec(CLOCK_MONOTONIC);
        r = llm_generate(client, argv[2], messages, tools, NULL, timeout_usec, on_done, &probe, NULL);
        if (r < 0) {
                fprintf(stderr, "llm-probe: llm_generate: %s\n", strerror(-r));
                return 2;
        }
        if (probe.done) {
                fprintf(stderr, "llm-probe: done() ran inside llm_generate()\n");
                return 2;
        }
        while (!probe.done)
                if (sd_event_run(event, UINT64_MAX) < 0)
                        return 2;
        puts(json_object_to_json_string_ext(probe.out, JSON_C_TO_STRING_PLAIN));
        if (metrics_file) {
                FILE *f = fopen(metrics_file, "we");
                if (!f || metrics_render(reg, f) < 0 || fclose(f) != 0)
                        return 2;
        }
        json_object_put(probe.out);
        return 0;
}
