/* fuzz/podman-frames.c — libFuzzer target for what the Podman driver reads from the engine:
 * the multiplexed log stream and the JSON answers (version, stats, events).
 *
 * The first byte picks the parser; the rest is its input. Beyond "no crash, no leak, no UB":
 * the demultiplexer must give the same bytes, streams and verdict whether the input comes in
 * one piece or in pieces of any size (curl splits the stream wherever the socket did), and a
 * stats value reported as known is never 0. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "podman.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct Sink {
        uint8_t *out, *err;
        size_t out_size, err_size, cap;
} Sink;

static int sink(PodmanStream stream, const void *p, size_t n, void *userdata) {
        Sink *s = userdata;

        if (stream > PODMAN_STREAM_STDERR || n == 0)
                abort(); /* the demuxer never emits an invalid stream or an empty piece */
        if (stream == PODMAN_STREAM_STDERR) {
                memcpy(s->err + s->err_size, p, n);
                s->err_size += n;
        } else {
                memcpy(s->out + s->out_size, p, n);
                s->out_size += n;
        }
        return 0;
}

static int demux_all(const uint8_t *data, size_t size, size_t piece, Sink *s) {
        PodmanDemux d;
        int r = 0;

        podman_demux_init(&d);
        for (size_t off = 0; off < size && r >= 0; off += piece)
                r = podman_demux_feed(&d, data + off, MIN(piece, size - off), sink, s);
        return r < 0 ? r : podman_demux_finish(&d);
}

static void fuzz_demux(const uint8_t *data, size_t size) {
        Sink a = { .cap = size }, b = { .cap = size };
        size_t piece = size > 0 ? (size_t) data[0] % 17 + 1 : 1;
        int ra, rb;

        a.out = malloc(size + 1);
        a.err = malloc(size + 1);
        b.out = malloc(size + 1);
        b.err = malloc(size + 1);
        if (!a.out || !a.err || !b.out || !b.err)
                abort();
        ra = demux_all(data, size, size ? size : 1, &a);
        rb = demux_all(data, size, piece, &b);
        if (ra != rb || a.out_size != b.out_size || a.err_size != b.err_size ||
            memcmp(a.out, b.out, a.out_size) != 0 || memcmp(a.err, b.err, a.err_size) != 0)
                abort();
        if (a.out_size + a.err_size > size)
                abort();
        free(a.out);
        free(a.err);
        free(b.out);
        free(b.err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const char *text;
        char *copy;

        if (size < 1)
                return 0;
        copy = malloc(size); /* the parsers get exactly size bytes, no terminator */
        if (!copy)
                abort();
        memcpy(copy, data + 1, size - 1);
        text = copy;

        switch (data[0] & 3) {
        case 0:
                fuzz_demux(data + 1, size - 1);
                break;
        case 1: {
                PodmanVersion v;
                if (podman_version_parse(text, size - 1, &v) >= 0 &&
                    (strnlen(v.version, sizeof v.version) == sizeof v.version ||
                     v.engine == PODMAN_ENGINE_UNKNOWN))
                        abort();
                break;
        }
        case 2: {
                PodmanStats s;
                if (podman_stats_parse(text, size - 1, &s) >= 0 &&
                    ((s.cpu_known && s.cpu_usage_nsec == 0) ||
                     (s.memory_known && s.memory_bytes == 0 && s.memory_limit_bytes == UINT64_MAX) ||
                     (s.pids_known && s.pids == 0) || (s.memory_limit_known && s.memory_limit_bytes == 0)))
                        abort();
                break;
        }
        case 3: {
                json_object *j = NULL;
                PodmanEvent ev;
                if (podman_event_parse(text, size - 1, &ev, &j) >= 0) {
                        if (!ev.type || !ev.action)
                                abort();
                        json_object_put(j);
                }
                break;
        }
        }
        free(copy);
        return 0;
}
