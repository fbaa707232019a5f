#!/bin/bash
# The monitoring the package ships (monitoring/, /usr/share/aegis/monitoring): the alert rules
# pass `promtool check rules` and their unit tests (`promtool test rules`: each alert fires on
# the series the daemons export and stays quiet on a healthy host); every query of the Grafana
# dashboard is valid PromQL (checked as recording rules); and every metric name the rules and
# the dashboard use is one aegisd or aegis-nfsd exports, read from the source that registers
# or prints them.
. "$AEGIS_TEST_LIB/common.sh"
require_cmd promtool jq
make_scratch
M="$top_srcdir/monitoring"
RULES="$M/aegis-alerts.yml" DASH="$M/aegis-dashboard.json"

out="$(promtool check rules "$RULES" 2>&1)"; rc=$?
assert_eq "promtool check rules passes ($out)" 0 "$rc"
out="$(cd "$M" && promtool test rules aegis-alerts.test.yml 2>&1)"; rc=$?
assert_eq "promtool test rules passes ($out)" 0 "$rc"

check "the dashboard is JSON with panels" jq -e '.panels | length > 10' "$DASH" >/dev/null
# Grafana's variables, replaced by what they stand for, make each query plain PromQL.
exprs="$(jq -r '.panels[].targets[]?.expr' "$DASH" | sed -e 's/\$__rate_interval/5m/g' -e 's/\$instance/.*/g')"
[ -n "$exprs" ] || fail "the dashboard has no queries"
{
        echo "groups:"
        echo "  - name: dashboard"
        echo "    rules:"
        i=0
        while IFS= read -r e; do
                i=$((i + 1))
                printf '      - record: dashboard:panel_query_%d\n        expr: %s\n' "$i" "$(jq -Rn --arg e "$e" '$e')"
        done <<<"$exprs"
} >"$SCRATCH/dashboard-rules.yml"
out="$(promtool check rules "$SCRATCH/dashboard-rules.yml" 2>&1)"; rc=$?
assert_eq "every dashboard query is valid PromQL ($out)" 0 "$rc"
check "every dashboard query is checked" grep -q "panel_query_$(wc -l <<<"$exprs" | tr -d ' ')$" "$SCRATCH/dashboard-rules.yml"

# What the daemons export: aegisd's registry names, the histograms among them, and the
# families aegis-nfsd prints (its counters through a COUNTER("name") macro).
src="$top_srcdir/src"
exported="$(
        grep -rhoE '"(aegis|process)_[a-z0-9_]*[a-z0-9]"' "$src" --include='*.c' | tr -d '"'
        grep -hoE '# TYPE aegis_nfs_[a-z0-9_]+' "$src/nfsd/nfs-metrics.c" | sed 's/# TYPE //'
        sed -n 's/^ *COUNTER("\([a-z0-9_]*\)".*/aegis_nfs_\1/p' "$src/nfsd/nfs-metrics.c"
)"
histograms="$(grep -rhoE 'METRIC_HISTOGRAM, "[a-z0-9_]+"' "$src" --include='*.c' | sed 's/.*"\(.*\)"/\1/')"
for m in aegis_executions_total aegis_nfs_operations_total aegis_nfs_nospc_total process_open_fds; do
        check "the source scan finds $m" grep -qxF "$m" <<<"$exported"
done
check "the source scan finds the histograms" grep -qxF aegis_container_operation_duration_seconds <<<"$histograms"

# A name is known when exported, or a histogram's _bucket/_sum/_count series; `up` is
# Prometheus's own.
unknown_names() {
        local n base
        for n in $(grep -oE '\b[a-z_]+_[a-z0-9_]+\b' | grep -E '^(aegis|process)_' | sort -u) ; do
                base="$(sed -E 's/_(bucket|sum|count)$//' <<<"$n")"
                grep -qxF "$n" <<<"$exported" && continue
                [ "$base" != "$n" ] && grep -qxF "$base" <<<"$histograms" && continue
                echo "$n"
        done
}
used="$(grep -E '^ +expr:|^ +[a-z(]' "$RULES"; jq -r '.panels[].targets[]?.expr, .templating.list[].definition // empty' "$DASH")"
missing="$(unknown_names <<<"$used")"
check "every metric the rules and the dashboard use is exported${missing:+; unknown: $missing}" test -z "$missing"
check "… and the check catches one that is not" test "$(unknown_names <<<'rate(aegis_executions_totl[5m]) aegis_api_connections_bucket')" = \
        "$(printf 'aegis_api_connections_bucket\naegis_executions_totl')"
# Names that match neither family would slip past the check above: there must be none.
other="$(grep -E '^ +expr:' "$RULES" | sed 's/^ *expr://' | grep -oE '\b[a-z_:]+[a-z0-9_:]*\{' | tr -d '{' | grep -vE '^(aegis|process)_|^up$' | sort -u)"
check "the rules use no other metric family${other:+: $other}" test -z "$other"
check "the dashboard and the rules cover aegis-nfsd" grep -q aegis_nfs_ <<<"$used"
finish
