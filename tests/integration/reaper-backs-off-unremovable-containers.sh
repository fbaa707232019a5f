#!/bin/bash
# A container the engine refuses to remove (a file in its layer made immutable: the removal
# fails for real) is reported, and its backoff is persisted in the store: the 1st failure
# waits 5 minutes; the 5th quarantines it, which is warned about once. Containers whose
# backoff is not due are left alone (reason backoff / quarantined, no new warning); a due
# one is retried, and a successful removal clears its record. The pass exits 0 throughout.
. "$AEGIS_TEST_LIB/podman.sh"
FIXTURE="$top_builddir/tests/helpers/reaper-fixture"
[ -x "$AEGIS_REAPER" ] && [ -x "$FIXTURE" ] || fail "aegis-reaper / reaper-fixture not built"
require_cmd jq chattr
make_scratch
podman_start
URL="sqlite://$SCRATCH/aegis.db"
printf 'runtime:\n  container_socket_path: %s\n  stop_timeout_secs: 1\ndatabase:\n  url: %s\nstorage:\n  root: %s\nreaper:\n  grace_secs: 0\n' \
        "$PODMAN_SOCK" "$URL" "$SCRATCH/volumes" >"$SCRATCH/config.yaml"
fx() { "$FIXTURE" "$URL" "$@" || fail "fixture $*"; }
orphan() { # NAME [command...]
        local n="$1"
        shift
        podman_cmd run --name "$n" --label aegis.managed=true --label aegis.execution_id="gone-$n" \
                "$TEST_IMAGE" "${@:-true}" >/dev/null 2>&1
        podman_cmd inspect -f '{{.Id}}' "$n" || fail "podman run $n"
}
wedge() { # NAME: make its layer unremovable
        local up
        up="$(podman_cmd inspect -f '{{.GraphDriver.Data.UpperDir}}' "$1")"
        chattr +i "$up/stuck" || skip_or_fail "chattr +i does not work on $up"
        on_exit "chattr -i '$up/stuck' 2>/dev/null"
}
reap() { "$AEGIS_REAPER" --config "$SCRATCH/config.yaml" --output json 2>"$SCRATCH/err"; }
field() { jq -r --arg n "$1" ".containers[] | select(.name==\$n) | $2" <<<"$OUT"; }

w1=$(orphan wedge1 sh -c 'echo x >/stuck') && wedge wedge1
w2=$(orphan wedge2 sh -c 'echo x >/stuck') && wedge wedge2
waiting=$(orphan waiting)
parked=$(orphan parked)
fx backoff-set "$w2" 4 -1        # four failures already, due now
fx backoff-set "$waiting" 2 600  # not due for 10 minutes
fx backoff-set "$parked" 7 600   # quarantined long ago, not due

OUT="$(reap)"
assert_eq "a failed removal does not fail the pass" 0 $?
assert_eq "first failure: reported" failed "$(field wedge1 .result)"
assert_match "first failure: with the engine's reason" "not permitted" "$(field wedge1 .error)"
assert_eq "first failure: persisted, not quarantined" "1 -" "$(fx backoff "$w1")"
na="$(field wedge1 '.next_attempt_at | sub("\\.[0-9]+Z$"; "Z") | fromdate')"
d=$((na - $(date +%s)))
check "first failure: next attempt in 5 minutes (${d}s)" test "$d" -ge 280 -a "$d" -le 300
assert_eq "fifth failure: quarantined" "5 quarantined" "$(fx backoff "$w2")"
assert_eq "fifth failure: reported as quarantined" true "$(field wedge2 .quarantined)"
assert_eq "quarantine is warned about once, for wedge2 only" 1 "$(grep -c 'is quarantined' "$SCRATCH/err")"
assert_match "the warning names the container" "$w2" "$(grep 'is quarantined' "$SCRATCH/err")"
assert_eq "not due: left alone" "keep backoff" "$(field waiting '.action + " " + .reason')"
assert_eq "quarantined and not due: left alone" "keep quarantined" "$(field parked '.action + " " + .reason')"
assert_eq "nothing is said about the parked one" 0 "$(grep -c "$parked" "$SCRATCH/err")"
check "the waiting and parked containers still exist" podman_cmd container exists waiting
check "the parked container still exists" podman_cmd container exists parked
assert_eq "summary counts both quarantined containers" 2 "$(jq .summary.quarantined <<<"$OUT")"
assert_match "journal fields" 'QUARANTINED=2' "$(grep 'Reaped' "$SCRATCH/err")"
assert_eq "summary counts the failures" 2 "$(jq .summary.failed <<<"$OUT")"

# Due again: retried, removed, and the record is cleared.
fx backoff-set "$waiting" 2 -1
OUT="$(reap)"
assert_eq "due: removed" removed "$(field waiting .result)"
gone() { ! podman_cmd container exists "$1"; }
check "due: gone from the engine" gone waiting
assert_eq "due: its record is cleared" none "$(fx backoff "$waiting")"
assert_eq "the parked one is still left alone" "keep quarantined" "$(field parked '.action + " " + .reason')"
finish
