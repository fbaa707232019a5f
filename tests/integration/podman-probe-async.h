/* podman-probe-async.h — the probe's commands that run many operations at once on one
 * sd-event loop (included by podman-probe.c). */
#include <time.h>

typedef struct Job {
        PodmanClient *client;
        unsigned index;
        char *id;
        int64_t exit_code;
        PodmanLogs logs;
        int r;
        Error e;
        bool done;
        unsigned *n_done;
        unsigned *in_wait, *max_in_wait;
        uint64_t started_usec, finished_usec;
} Job;

static void job_finish(Job *j, int r, const Error *e) {
        j->r = r;
        if (r < 0 && e)
                j->e = *e;
        j->done = true;
        j->finished_usec = now_usec(CLOCK_MONOTONIC);
        (*j->n_done)++;
}

static void job_removed(int r, const Error *e, void *userdata) {
        Job *j = userdata;

        job_finish(j, j->r < 0 ? j->r : r, j->r < 0 ? &j->e : e);
}

static void job_remove(Job *j) {
        if (podman_container_remove_async(j->client, j->id, job_removed, j, NULL) < 0)
                job_finish(j, -ENOMEM, NULL);
}

static void job_logs(int r, const PodmanLogs *logs, const Error *e, void *userdata) {
        Job *j = userdata;

        if (r >= 0) {
                j->logs = *logs;
                j->logs.out = logs->out ? strndup(logs->out, logs->out_size) : NULL;
                j->logs.err = NULL;
        } else {
                j->r = r;
                j->e = *e;
        }
        job_remove(j);
}

static void job_waited(int r, int64_t code, const Error *e, void *userdata) {
        Job *j = userdata;

        (*j->in_wait)--;
        if (r < 0) {
                j->r = r;
                j->e = *e;
                job_remove(j);
                return;
        }
        j->exit_code = code;
        if (podman_container_logs_async(j->client, j->id, NULL, job_logs, j, NULL) < 0)
                job_finish(j, -ENOMEM, NULL);
}

static void job_created(int r, const char *id, const Error *e, void *userdata) {
        Job *j = userdata;

        if (r < 0) {
                job_finish(j, r, e);
                return;
        }
        j->id = strdup(id);
        if (!j->id || podman_container_wait_start_async(j->client, j->id, 120 * USEC_PER_SEC, job_waited, j,
                                                        NULL) < 0) {
                job_finish(j, -ENOMEM, NULL);
                return;
        }
        (*j->in_wait)++;
        *j->max_in_wait = MAX(*j->max_in_wait, *j->in_wait);
}

/* A 50 ms ticker on the same loop: the longest gap between ticks shows whether anything
 * blocked the loop while the engine calls ran. */
typedef struct Ticker {
        uint64_t last, max_gap;
} Ticker;

static int on_tick(sd_event_source *s, uint64_t usec, void *userdata) {
        Ticker *t = userdata;
        uint64_t now = now_usec(CLOCK_MONOTONIC);

        if (t->last)
                t->max_gap = MAX(t->max_gap, now - t->last);
        t->last = now;
        return sd_event_source_set_time(s, now + 50 * USEC_PER_MSEC);
}

/* N containers (each sleeps SLEEP s then prints its index) created, waited+started, logged and
 * removed concurrently on one loop: a wall time below N × SLEEP shows they overlapped. */
static int cmd_concurrent(PodmanClient *unused, int argc, char **argv) {
        sd_event_source *tick = NULL;
        Ticker ticker = { 0 };
        char sleep_cmd[64];
        unsigned secs = 1;
        _cleanup_(podman_client_freep) PodmanClient *c = NULL;
        sd_event *ev = NULL;
        unsigned n, n_done = 0, bad = 0, in_wait = 0, max_in_wait = 0;
        uint64_t t0;
        char exec[32];
        Job *jobs;
        int r;

        if (argc < 1 || safe_atou(argv[0], &n) < 0 || n == 0 || n > 100 ||
            (argc > 1 && safe_atou(argv[1], &secs) < 0))
                return 2;
        if (sd_event_new(&ev) < 0 || podman_client_new(podman_client_socket_path(unused), ev, &c) < 0)
                return 1;
        (void) snprintf(sleep_cmd, sizeof sleep_cmd, "sleep %u; echo job-$AEGIS_JOB", secs);
        if (sd_event_add_time(ev, &tick, CLOCK_MONOTONIC, 0, 0, on_tick, &ticker) < 0 ||
            sd_event_source_set_enabled(tick, SD_EVENT_ON) < 0)
                return 1;
        jobs = calloc(n, sizeof *jobs);
        (void) snprintf(exec, sizeof exec, "conc%d", (int) getpid());
        t0 = now_usec(CLOCK_MONOTONIC);
        for (unsigned i = 0; i < n; i++) {
                char idx[16];
                char *cmd[] = { (char *) "sh", (char *) "-c", (char *) "sleep 1; echo job-$AEGIS_JOB",
                                NULL };
                _cleanup_free_ char *env0 = NULL;
                (void) snprintf(idx, sizeof idx, "%u", i);
                env0 = asprintf_safe("AEGIS_JOB=%s", idx);
                char *env[] = { env0, NULL };
                PodmanContainerSpec spec = { .execution_id = exec,
                                             .iteration = i + 1,
                                             .image = "localhost/aegis-test-busybox:latest",
                                             .cmd = cmd,
                                             .env = env };
                jobs[i] = (Job){ .client = c,
                                 .index = i,
                                 .n_done = &n_done,
                                 .started_usec = t0,
                                 .exit_code = -1,
                                 .in_wait = &in_wait,
                                 .max_in_wait = &max_in_wait };
                r = podman_container_create_async(c, &spec, job_created, &jobs[i], NULL);
                if (r < 0)
                        return 1;
        }
        printf("pending=%zu\n", podman_client_pending(c));
        while (n_done < n) {
                r = sd_event_run(ev, UINT64_MAX);
                if (r < 0)
                        return 1;
        }
        for (unsigned i = 0; i < n; i++) {
                char want[32];
                (void) snprintf(want, sizeof want, "job-%u\n", i);
                if (jobs[i].r < 0) {
                        fprintf(stderr, "job %u: %s\n", i, jobs[i].e.message);
                        bad++;
                } else if (jobs[i].exit_code != 0 || !streq(jobs[i].logs.out, want)) {
                        fprintf(stderr, "job %u: exit %" PRIi64 ", output [%s]\n", i, jobs[i].exit_code,
                                strempty(jobs[i].logs.out));
                        bad++;
                }
                free(jobs[i].id);
                free(jobs[i].logs.out);
        }
        printf("jobs=%u\nfailed=%u\nwall_ms=%" PRIu64 "\nmax_loop_gap_ms=%" PRIu64 "\nmax_running=%u\n", n,
               bad, (now_usec(CLOCK_MONOTONIC) - t0) / 1000, ticker.max_gap / 1000, max_in_wait);
        sd_event_source_disable_unref(tick);
        free(jobs);
        c = podman_client_free(c);
        sd_event_unref(ev);
        return bad ? 1 : 0;
}

/* Streams events while one container runs: prints each event of ours as "event=ACTION EXIT". */
typedef struct EventsRun {
        const char *exec; /* our container's execution label */
        bool died, stream_done;
        int stream_r;
        Error stream_e;
        PodmanOp *stream;
} EventsRun;

static int on_event(const PodmanEvent *ev, void *userdata) {
        EventsRun *er = userdata;

        printf("event=%s %s %" PRIi64 "\n", ev->action, strempty(ev->execution_id), ev->exit_code);
        /* The stream starts a second back: another container's death may come first. */
        if ((streq(ev->action, "died") || streq(ev->action, "die")) &&
            streq_ptr(ev->execution_id, er->exec)) {
                er->died = true;
                return -1; /* enough: stop the stream */
        }
        return 0;
}

static void on_events_done(int r, const Error *e, void *userdata) {
        EventsRun *er = userdata;

        er->stream_done = true;
        er->stream_r = r;
        if (r < 0)
                er->stream_e = *e;
        er->stream = NULL;
}

static int cmd_events(PodmanClient *unused, int argc, char **argv) {
        _cleanup_(podman_client_freep) PodmanClient *c = NULL;
        _cleanup_free_ char *id = NULL;
        EventsRun er = { 0 };
        sd_event *ev = NULL;
        Error e = ERROR_INIT;
        char exec[32];
        char *cmd[] = { (char *) "sh", (char *) "-c", (char *) "exit 3", NULL };
        uint64_t deadline;
        int64_t code;

        if (sd_event_new(&ev) < 0 || podman_client_new(podman_client_socket_path(unused), ev, &c) < 0)
                return 1;
        (void) snprintf(exec, sizeof exec, "ev%d", (int) getpid());
        er.exec = exec;
        if (podman_events_async(c, NULL, now_usec(CLOCK_REALTIME) - USEC_PER_SEC, 30 * USEC_PER_SEC,
                                on_event, on_events_done, &er, &er.stream) < 0)
                return 1;
        /* The synchronous calls below run on private loops; run ours in between so the stream
         * connects first, then let it collect what the run produced. */
        deadline = now_usec(CLOCK_MONOTONIC) + USEC_PER_SEC / 2;
        while (now_usec(CLOCK_MONOTONIC) < deadline)
                (void) sd_event_run(ev, 50000);
        {
                PodmanContainerSpec spec = { .execution_id = exec,
                                             .iteration = 1,
                                             .image = "localhost/aegis-test-busybox:latest",
                                             .cmd = cmd };
                if (podman_container_create(c, &spec, &id, &e) < 0 ||
                    podman_container_wait_start(c, id, 30 * USEC_PER_SEC, &code, &e) < 0)
                        return fail(&e);
        }
        deadline = now_usec(CLOCK_MONOTONIC) + 10 * USEC_PER_SEC;
        while (!er.stream_done && now_usec(CLOCK_MONOTONIC) < deadline)
                (void) sd_event_run(ev, 100000);
        podman_op_cancel(er.stream);
        (void) podman_container_remove(c, id, &e);
        printf("exit=%" PRIi64 "\ndied_seen=%d\nstream_done=%d\nstream_r=%d\n", code, er.died,
               er.stream_done, er.stream_r);
        if (er.stream_r < 0)
                fprintf(stderr, "%s\n", er.stream_e.message);
        c = podman_client_free(c);
        sd_event_unref(ev);
        return er.died ? 0 : 1;
}
