#!/bin/bash
# bench/reaper.sh — how long one aegis-reaper pass takes to remove N orphaned containers,
# side by side with `podman rm -f` of N identical containers (the peer), on the same
# private Podman service and storage. Target: reaper ≤ 1.2 × podman rm -f.
#
#   bench/reaper.sh [N=200] [ROUNDS=3] [STATE=exited|created|running]
#
# Run from a build tree (top_builddir=... top_srcdir=...) or from the source tree after
# `make`. Prints one line per round and the medians; does not assert anything.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir/build}"
export top_srcdir top_builddir AEGIS_TEST_LIB="$top_srcdir/tests/lib"
. "$AEGIS_TEST_LIB/podman.sh"

N="${1:-200}"
ROUNDS="${2:-3}"
STATE="${3:-exited}"
[ -x "$AEGIS_REAPER" ] || fail "build aegis-reaper first ($AEGIS_REAPER)"
FIXTURE="$top_builddir/tests/helpers/reaper-fixture"
[ -x "$FIXTURE" ] || fail "build $FIXTURE first (make tests/helpers/reaper-fixture)"
make_scratch
podman_start

cat >"$SCRATCH/config.yaml" <<EOF
runtime:
  container_socket_path: $PODMAN_SOCK
  stop_timeout_secs: 1
database:
  url: sqlite://$SCRATCH/aegis.db
storage:
  root: $SCRATCH/volumes
reaper:
  grace_secs: 0
EOF

# The store exists, as a daemon's does: the reaper refuses a store without a schema while
# aegis containers exist (aegis-reaper(8)).
"$FIXTURE" "sqlite://$SCRATCH/aegis.db" schema >/dev/null || fail "creating the store"

# N orphans: our label, an execution id the store has never heard of. Made through the API,
# 8 at a time (one podman CLI process per container is far slower on a busy machine).
make_one() { # TAG I
        local id cmd='["true"]'
        [ "$STATE" = running ] && cmd='["sleep","600"]'
        id="$(curl -sf --unix-socket "$PODMAN_SOCK" -X POST -H 'Content-Type: application/json' \
                "http://d/v1.41/containers/create?name=orphan-$1-$2" \
                -d "{\"Image\":\"$TEST_IMAGE\",\"Cmd\":$cmd,\"Labels\":{\"aegis.managed\":\"true\",\"aegis.execution_id\":\"gone-$1-$2\"}}" |
                jq -r .Id)" || return 1
        [ "$STATE" = created ] && return 0
        curl -sf --unix-socket "$PODMAN_SOCK" -X POST "http://d/v1.41/containers/$id/start" >/dev/null
}
export -f make_one
export PODMAN_SOCK STATE TEST_IMAGE
make_orphans() {
        seq 1 "$N" | xargs -P 8 -I{} bash -c 'make_one "$0" {}' "$1" || fail "creating orphans"
        [ "$(podman_cmd ps -aq | wc -l)" -ge "$N" ] || fail "expected $N containers"
        # Exited ones must have exited before the clock starts.
        if [ "$STATE" = exited ]; then
                wait_for 120 bash -c '[ -z "$(curl -s --unix-socket "$PODMAN_SOCK" "http://d/v1.41/containers/json" | jq -r ".[].Id")" ]' ||
                        fail "orphans did not exit"
        fi
}

ms() { echo $(($(date +%s%N) / 1000000)); }

peer=() ours=()
for round in $(seq 1 "$ROUNDS"); do
        make_orphans "p$round"
        t0=$(ms)
        # shellcheck disable=SC2046
        podman_cmd rm -f $(podman_cmd ps -aq --filter label=aegis.managed=true) >/dev/null || fail "podman rm -f"
        t1=$(ms)
        peer+=($((t1 - t0)))

        make_orphans "r$round"
        t0=$(ms)
        "$AEGIS_REAPER" --config "$SCRATCH/config.yaml" --output json >"$SCRATCH/report.json" 2>/dev/null ||
                fail "aegis-reaper failed"
        t1=$(ms)
        ours+=($((t1 - t0)))
        reaped=$(jq .summary.reaped "$SCRATCH/report.json")
        [ "$reaped" = "$N" ] || fail "reaper removed $reaped of $N"
        [ "$(podman_cmd ps -aq | wc -l)" = 0 ] || fail "containers left after the reaper"
        printf 'round %d: podman rm -f %d %s containers: %d ms; aegis-reaper: %d ms\n' \
                "$round" "$N" "$STATE" "${peer[-1]}" "${ours[-1]}"
done

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
mp=$(median "${peer[@]}") mo=$(median "${ours[@]}")
printf 'median: podman rm -f %d ms, aegis-reaper %d ms, ratio %s (target <= 1.2)\n' "$mp" "$mo" \
        "$(awk -v a="$mo" -v b="$mp" 'BEGIN{printf "%.2f", a/b}')"
