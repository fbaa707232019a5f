# Build rules for src/aegisd (aegisd); appended to the lists in the top Makefile.am.
#
# libaegisd.la holds the modules aegisd alone uses and the unit tests and fuzzers link:
# manifests and prompts, validators and judges, the LLM providers, security policies, the
# Prometheus registry, the egress proxy's parsers. The program is the daemon, its HTTP
# layer, its API, the supervisor and the inner loop's parts on top of it.
noinst_LTLIBRARIES += libaegisd.la
libaegisd_la_SOURCES = \
	src/aegisd/manifest.h \
	src/aegisd/manifest.c \
	src/aegisd/prompt.h \
	src/aegisd/prompt.c \
	src/aegisd/validate.h \
	src/aegisd/validate.c \
	src/aegisd/judge.h \
	src/aegisd/judge.c \
	src/aegisd/llm.h \
	src/aegisd/llm-internal.h \
	src/aegisd/llm.c \
	src/aegisd/llm-wire.c \
	src/aegisd/llm-formats.c \
	src/aegisd/llm-conversation.c \
	src/aegisd/llm-openai.c \
	src/aegisd/llm-anthropic.c \
	src/aegisd/llm-ollama.c \
	src/aegisd/llm-gemini.c \
	src/aegisd/policy.h \
	src/aegisd/policy.c \
	src/aegisd/metrics.h \
	src/aegisd/metrics.c \
	src/aegisd/egress-parse.h \
	src/aegisd/egress-parse.c
libaegisd_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/src/aegisd
libaegisd_la_CFLAGS = $(AM_CFLAGS) $(SYSTEMD_CFLAGS) $(CURL_CFLAGS) $(JSONC_CFLAGS) $(YAML_CFLAGS)
AEGISD_LIBS = libaegisd.la $(AEGIS_RECONCILE_LIBS)

sbin_PROGRAMS += aegisd
aegisd_SOURCES = \
	src/aegisd/main.c \
	src/aegisd/api-context.h \
	src/aegisd/daemon.h \
	src/aegisd/daemon.c \
	src/aegisd/http.h \
	src/aegisd/http.c \
	src/aegisd/api-health.h \
	src/aegisd/api-health.c \
	src/aegisd/api-metrics.h \
	src/aegisd/api-metrics.c
aegisd_CFLAGS = $(AM_CFLAGS) $(AEGIS_DEP_CFLAGS) -I$(top_srcdir)/src/aegisd
aegisd_LDADD = $(AEGIS_LIBS)

# The HTTP layer through a test server with one route per feature.
check_PROGRAMS += tests/integration/http-test-server
tests_integration_http_test_server_SOURCES = tests/integration/http-test-server.c src/aegisd/http.c src/aegisd/http.h
tests_integration_http_test_server_CFLAGS = $(TEST_CFLAGS) -I$(top_srcdir)/src/aegisd
tests_integration_http_test_server_LDADD = $(TEST_LIBS)
TESTS += tests/integration/http-layer.sh
EXTRA_DIST += tests/integration/http-layer.sh
TESTS += tests/integration/aegisd-socket-activation.sh
EXTRA_DIST += tests/integration/aegisd-socket-activation.sh
TESTS += tests/integration/aegisd-config-and-lifecycle.sh
EXTRA_DIST += tests/integration/aegisd-config-and-lifecycle.sh
TESTS += tests/integration/aegisd-health-ready.sh
EXTRA_DIST += tests/integration/aegisd-health-ready.sh

# D-Bus object org.aegis1 (issue 8): bus.c is linked into aegisd; the harness drives it alone.
aegisd_SOURCES += src/aegisd/bus.c src/aegisd/bus.h
check_PROGRAMS += tests/helpers/bus-harness
tests_helpers_bus_harness_SOURCES = tests/helpers/bus-harness.c src/aegisd/bus.c src/aegisd/bus.h
tests_helpers_bus_harness_CFLAGS = $(AM_CFLAGS) $(AEGIS_DEP_CFLAGS) -I$(top_srcdir)/src/aegisd
tests_helpers_bus_harness_LDADD = $(AEGIS_LIBS)
TESTS += tests/integration/bus-publishes-org-aegis1.sh
EXTRA_DIST += tests/integration/bus-publishes-org-aegis1.sh
aegisd_SOURCES += src/aegisd/egress.c src/aegisd/egress.h

# Issue 17: error codes, the route lists, and the OpenAPI document (data/openapi.json)
# compiled in for GET /v1/openapi.json and installed as $(pkgdatadir)/openapi.json.
aegisd_SOURCES += src/aegisd/api-routes.h src/aegisd/api-routes.c src/aegisd/api-openapi.c
aegisd_SOURCES += src/aegisd/api-openapi.h
nodist_aegisd_SOURCES = src/aegisd/openapi-data.c
CLEANFILES += src/aegisd/openapi-data.c
dist_pkgdata_DATA += data/openapi.json
src/aegisd/openapi-data.c: $(top_srcdir)/data/openapi.json
	$(AM_V_GEN)$(MKDIR_P) src/aegisd && { \
		printf '/* Generated from data/openapi.json by the build: do not edit. */\n'; \
		printf 'extern const char aegis_openapi_json[];\nconst char aegis_openapi_json[] =\n'; \
		sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $(top_srcdir)/data/openapi.json; \
		printf ';\n'; } >$@.tmp && mv $@.tmp $@
# Executions (issue 4): validators, supervisor, REST API of executions and agents, their tests.
# Iteration validators.
check_PROGRAMS += tests/unit/test-validate
TESTS += tests/unit/test-validate
tests_unit_test_validate_SOURCES = tests/unit/test-validate.c
tests_unit_test_validate_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_validate_LDADD = $(TEST_LIBS)
dist_noinst_DATA += tests/lib/executions.sh

# The supervisor and the REST API of executions and agents, linked into aegisd.
aegisd_SOURCES += \
	src/aegisd/executions.h \
	src/aegisd/executions.c \
	src/aegisd/supervisor.h \
	src/aegisd/execution-events.h \
	src/aegisd/supervisor-internal.h \
	src/aegisd/supervisor.c \
	src/aegisd/run.c \
	src/aegisd/run-dispatch.h \
	src/aegisd/run-part.h \
	src/aegisd/run-dispatch.c \
	src/aegisd/run-judge.h \
	src/aegisd/run-judge.c \
	src/aegisd/judge-execution.h \
	src/aegisd/judge-execution.c \
	src/aegisd/gateway.h \
	src/aegisd/gateway.c \
	src/aegisd/api-request.h \
	src/aegisd/api-request.c \
	src/aegisd/api-manifest.h \
	src/aegisd/api-manifest.c \
	src/aegisd/api-executions.h \
	src/aegisd/api-executions.c \
	src/aegisd/api-agents.h \
	src/aegisd/api-agents.c

# End to end on real Podman (tests/lib/executions.sh starts aegisd on a private service).
EXECUTIONS_TESTS = \
	tests/integration/executions-first-iteration-success.sh \
	tests/integration/executions-feedback.sh \
	tests/integration/executions-timeout.sh \
	tests/integration/executions-cancel.sh \
	tests/integration/executions-oom.sh \
	tests/integration/executions-crash-recovery.sh \
	tests/integration/executions-api.sh \
	tests/integration/executions-cold-exit.sh \
	tests/integration/executions-auth.sh \
	tests/integration/executions-examples.sh \
	tests/integration/executions-concurrency.sh \
	tests/integration/executions-postgres-two-daemons.sh
TESTS += $(EXECUTIONS_TESTS)
EXTRA_DIST += $(EXECUTIONS_TESTS)
# A created container's end, taken from its attach, under valgrind too.
VALGRIND_TESTS += tests/integration/executions-cold-exit.sh

# The tool catalogue of the inner loop and its tools (issue 21).
AEGISD_TOOLS_SOURCES = \
	src/aegisd/tools.h \
	src/aegisd/tools.c \
	src/aegisd/tool-call.h \
	src/aegisd/tool-call.c \
	src/aegisd/tools-fs.h \
	src/aegisd/tools-fs.c \
	src/shared/fs-tools-core.h \
	src/shared/fs-tools-core.c \
	src/aegisd/tools-web.h \
	src/aegisd/tools-web.c \
	src/aegisd/tool-slots.h \
	src/aegisd/tool-slots.c \
	src/aegisd/html-text.h \
	src/aegisd/html-text.c
aegisd_SOURCES += $(AEGISD_TOOLS_SOURCES)
# fs.grep's regular expressions (PCRE2, with a match limit): aegisd alone links it.
aegisd_CFLAGS += $(PCRE2_CFLAGS)
aegisd_LDADD += $(PCRE2_LIBS)
# web.fetch's HTML to text (libxml2's HTML parser): aegisd alone links it.
aegisd_CFLAGS += $(LIBXML2_CFLAGS)
aegisd_LDADD += $(LIBXML2_LIBS)
# The HTML to text converter on its own.
check_PROGRAMS += tests/unit/test-html-text
TESTS += tests/unit/test-html-text
tests_unit_test_html_text_SOURCES = tests/unit/test-html-text.c src/aegisd/html-text.c src/aegisd/html-text.h
tests_unit_test_html_text_CFLAGS = $(TEST_CFLAGS) -I$(top_srcdir)/src/aegisd $(LIBXML2_CFLAGS)
tests_unit_test_html_text_LDADD = $(TEST_LIBS) $(LIBXML2_LIBS)
# The operator's ceilings and the tenants' quotas at submission (issue 19).
aegisd_SOURCES += src/aegisd/api-limits.h src/aegisd/api-limits.c
aegisd_SOURCES += src/aegisd/api-store-error.h src/aegisd/api-store-error.c

# Judged validators (semantic, multi_judge): the verdict and the consensus (issue 21).
check_PROGRAMS += tests/unit/test-judge
TESTS += tests/unit/test-judge
tests_unit_test_judge_SOURCES = tests/unit/test-judge.c
tests_unit_test_judge_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_judge_LDADD = $(TEST_LIBS)
TESTS += tests/integration/validators-judged.sh
EXTRA_DIST += tests/integration/validators-judged.sh

# LLM providers (issue 14). One llm_generate() call as JSON, for tests/integration/llm-providers.sh.
check_PROGRAMS += tests/helpers/llm-probe
tests_helpers_llm_probe_SOURCES = tests/helpers/llm-probe.c
tests_helpers_llm_probe_CFLAGS = $(AM_CFLAGS) $(AEGIS_DEP_CFLAGS) -I$(top_srcdir)/src/aegisd
tests_helpers_llm_probe_LDADD = $(AEGIS_LIBS)
dist_noinst_DATA += tests/lib/llm.sh tests/lib/fake-llm.py
TESTS += tests/integration/llm-providers.sh
EXTRA_DIST += tests/integration/llm-providers.sh

check_PROGRAMS += tests/unit/test-llm
TESTS += tests/unit/test-llm
tests_unit_test_llm_SOURCES = tests/unit/test-llm.c
tests_unit_test_llm_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_llm_LDADD = $(TEST_LIBS)

# Manifests and prompts.
check_PROGRAMS += tests/unit/test-manifest
TESTS += tests/unit/test-manifest
tests_unit_test_manifest_SOURCES = tests/unit/test-manifest.c
tests_unit_test_manifest_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_manifest_LDADD = $(TEST_LIBS)

TESTS += tests/integration/fuzz-parsers.sh
EXTRA_DIST += tests/integration/fuzz-parsers.sh fuzz/manifest.c fuzz/config.c

check_PROGRAMS += tests/unit/test-prompt
TESTS += tests/unit/test-prompt
tests_unit_test_prompt_SOURCES = tests/unit/test-prompt.c
tests_unit_test_prompt_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_prompt_LDADD = $(TEST_LIBS)

# The Prometheus registry and the security contexts' decisions (issue 21).
check_PROGRAMS += tests/unit/test-metrics
TESTS += tests/unit/test-metrics
tests_unit_test_metrics_SOURCES = tests/unit/test-metrics.c
tests_unit_test_metrics_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_metrics_LDADD = $(TEST_LIBS)
check_PROGRAMS += tests/unit/test-policy
TESTS += tests/unit/test-policy
tests_unit_test_policy_SOURCES = tests/unit/test-policy.c
tests_unit_test_policy_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_policy_LDADD = $(TEST_LIBS)

# Volumes (issue 7) and their files (issue 15): the REST API and an iteration's volumes.
aegisd_SOURCES += \
	src/aegisd/api-volumes.h \
	src/aegisd/api-volumes.c \
	src/aegisd/api-volume-files.h \
	src/aegisd/api-volume-files.c \
	src/aegisd/run-volumes.h \
	src/aegisd/run-volumes.c
TESTS += tests/integration/volumes-api.sh tests/integration/volumes-bind-mode.sh \
	tests/integration/volumes-nfs-mode.sh tests/integration/volumes-expiry-reaper.sh \
	tests/integration/volumes-tenants-and-cli.sh
EXTRA_DIST += tests/integration/volumes-api.sh tests/integration/volumes-bind-mode.sh \
	tests/integration/volumes-nfs-mode.sh tests/integration/volumes-expiry-reaper.sh \
	tests/integration/volumes-tenants-and-cli.sh
TESTS += tests/integration/volumes-files-api.sh
EXTRA_DIST += tests/integration/volumes-files-api.sh
TESTS += tests/integration/volumes-files-live-execution.sh
EXTRA_DIST += tests/integration/volumes-files-live-execution.sh
# What an iteration used (issue 17): container stats sampled while it runs.
aegisd_SOURCES += \
	src/aegisd/run-stats.h \
	src/aegisd/run-stats.c
# An iteration's own files as bind mounts of a private host directory (issue 18).
aegisd_SOURCES += \
	src/aegisd/run-inbox.h \
	src/aegisd/run-inbox.c
TESTS += tests/integration/executions-inbox.sh
EXTRA_DIST += tests/integration/executions-inbox.sh
TESTS += tests/integration/executions-usage.sh
EXTRA_DIST += tests/integration/executions-usage.sh
# Warm pools (issue 18): containers created ahead for deployed agents.
aegisd_SOURCES += \
	src/aegisd/run-pool.h \
	src/aegisd/run-pool.c
TESTS += tests/integration/warm-pool.sh
EXTRA_DIST += tests/integration/warm-pool.sh
TESTS += tests/integration/warm-pool-idle.sh
EXTRA_DIST += tests/integration/warm-pool-idle.sh
VALGRIND_TESTS += tests/integration/warm-pool-idle.sh
# A pooled iteration ends on aegis-bootstrap's exit report (exit-report.h).
TESTS += tests/integration/warm-pool-exit-report.sh
EXTRA_DIST += tests/integration/warm-pool-exit-report.sh
VALGRIND_TESTS += tests/integration/warm-pool-exit-report.sh
# A pool's image re-checked on a schedule (runtime.warm_pool_image_check_secs).
TESTS += tests/integration/warm-pool-image-check.sh
EXTRA_DIST += tests/integration/warm-pool-image-check.sh
# Host-level refusals of a submission: the first, or all of them in a dry run (issue 17).
aegisd_SOURCES += src/aegisd/api-refusals.h src/aegisd/api-refusals.c
