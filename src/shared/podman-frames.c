/* podman-frames.c — demultiplexing the engine's log stream: without a TTY, stdout and stderr
 * arrive interleaved in frames of an 8-byte header (stream byte 0/1/2, three zero bytes, a
 * big-endian u32 payload length) followed by the payload.
 *
 * The demuxer is a byte-wise state machine: input may be split anywhere (curl hands us
 * whatever the socket had), payload is passed on as it comes without buffering whole frames
 * (a frame may be up to 4 GiB), and zero-length frames are legal and skipped. */
#include <errno.h>
#include <string.h>

#include "podman.h"

void podman_demux_init(PodmanDemux *d) {
        *d = (PodmanDemux){ 0 };
}

int podman_demux_feed(PodmanDemux *d, const void *data, size_t size, podman_demux_emit_fn emit,
                      void *userdata) {
        const uint8_t *p = data;

        while (size > 0) {
                if (d->remaining == 0) {
                        size_t n = MIN(size, sizeof d->header - d->header_len);

                        memcpy(d->header + d->header_len, p, n);
                        d->header_len += n;
                        p += n;
                        size -= n;
                        if (d->header_len < sizeof d->header)
                                return 0;
                        d->header_len = 0;
                        if (d->header[0] > PODMAN_STREAM_STDERR || d->header[1] || d->header[2] ||
                            d->header[3])
                                return -EBADMSG;
                        d->stream = d->header[0];
                        d->remaining = (uint32_t) d->header[4] << 24 | (uint32_t) d->header[5] << 16 |
                                       (uint32_t) d->header[6] << 8 | (uint32_t) d->header[7];
                        d->frames++;
                        continue;
                }

                size_t n = MIN(size, (size_t) d->remaining);
                if (emit) {
                        int r = emit((PodmanStream) d->stream, p, n, userdata);
                        if (r < 0)
                                return r;
                }
                d->remaining -= (uint32_t) n;
                p += n;
                size -= n;
        }
        return 0;
}

int podman_demux_finish(const PodmanDemux *d) {
        return d->remaining > 0 || d->header_len > 0 ? -EBADMSG : 0;
}
