/* fuzz/egress-parse.c — libFuzzer target for the egress proxy's parsing (egress-parse.h): the
 * input is read as a client's first bytes, both as a request head (absolute form, origin form,
 * CONNECT) and as a TLS ClientHello. Beyond "no crash, no leak, no UB": an accepted request
 * consumed no more than the input, its rebuilt head ends the head and asks for one request
 * only, and its host passes egress_host_valid(). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "egress-parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        EgressRequest r = {};
        char *sni = NULL;

        if (egress_parse_request((const char *) data, size, &r) == 0) {
                if (r.consumed > size || !egress_host_valid(r.host) || r.port == 0)
                        abort();
                if (!r.connect && (r.head_len < 23 ||
                                   strcmp(r.head + r.head_len - 23, "\r\nConnection: close\r\n\r\n") != 0))
                        abort();
                egress_request_done(&r);
        }
        if (egress_parse_client_hello(data, size, &sni) == 0 && sni && !egress_host_valid(sni))
                abort();
        free(sni);
        return 0;
}
