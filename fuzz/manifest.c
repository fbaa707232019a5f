/* fuzz/manifest.c — libFuzzer target for the manifest parser (yaml-tree + manifest).
 *
 * Beyond "no crash, no leak, no UB": every refusal must carry a message, and every accepted
 * manifest must survive the canonical JSON round trip unchanged (parse → JSON → parse →
 * the same JSON), which is what the API relies on when it stores a manifest and reads it
 * back. The only tolerated round-trip failure is the size limit: escaping can make the
 * canonical text longer than the input was. An accepted inner-loop manifest's template
 * must render (prompt_build() refuses only what the parser let through: nothing). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "manifest.h"
#include "prompt.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        ManifestPlan *p = NULL, *q = NULL;
        Error e = ERROR_INIT;
        char *s, *s2;
        int r;

        r = manifest_parse((const char *) data, size, "fuzz.yaml", &p, &e);
        if (r < 0) {
                if (e.code != r || isempty(e.message))
                        abort();
                return 0;
        }
        s = manifest_plan_to_json_string(p);
        if (!s)
                abort();
        e = ERROR_INIT;
        r = manifest_parse(s, strlen(s), "canonical.json", &q, &e);
        if (r == -EMSGSIZE) {
                free(s);
                manifest_plan_free(p);
                return 0;
        }
        if (r < 0) {
                fprintf(stderr, "canonical JSON does not parse: %s\n%s\n", e.message, s);
                abort();
        }
        s2 = manifest_plan_to_json_string(q);
        if (!s2 || !streq(s, s2)) {
                fprintf(stderr, "canonical JSON round trip differs:\n%s\n%s\n", s, strempty(s2));
                abort();
        }
        if (q->nano_cpus != p->nano_cpus || q->memory_bytes != p->memory_bytes || q->n_env != p->n_env ||
            q->n_volumes != p->n_volumes || q->n_validators != p->n_validators ||
            q->inner_loop != p->inner_loop)
                abort();
        if (p->inner_loop) {
                char *prompt = NULL;
                e = ERROR_INIT;
                r = prompt_build(p->prompt_template, p->task_instruction,
                                 "{\"intent\": \"i\", \"input\": {\"a\": [1, {\"b\": \"c\"}]}}", NULL,
                                 &prompt, &e);
                if (r < 0 && r != -E2BIG) {
                        fprintf(stderr, "accepted template does not render: %s\n", e.message);
                        abort();
                }
                free(prompt);
        }
        free(s);
        free(s2);
        manifest_plan_free(p);
        manifest_plan_free(q);
        return 0;
}
