/* fuzz/config.c — libFuzzer target for the configuration file parser (yaml-tree + config).
 *
 * Every refusal must carry a message; every accepted configuration must be printable with
 * config_dump(). Environment overrides are cleared once so that inputs alone decide. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static bool cleared = false;
        Config *c = NULL;
        Error e = ERROR_INIT;
        FILE *f;
        int r;

        if (!cleared) {
                (void) clearenv();
                (void) setenv("HOME", "/nonexistent", 1);
                cleared = true;
        }
        r = config_load_string("fuzz.yaml", (const char *) data, size, &c, &e);
        if (r < 0) {
                if (e.code != r || isempty(e.message))
                        abort();
                return 0;
        }
        f = fopen("/dev/null", "we");
        if (!f)
                abort();
        if (config_dump(c, f) < 0)
                abort();
        fclose(f);
        config_free(c);
        return 0;
}
