#!/bin/bash
# `systemd-analyze security --offline=true` exposure of every service we ship, both
# flavours, at or under its budget: aegis.service 2.5, aegis-nfs.service 1.5,
# aegis-reaper.service 2.0 (issue 8), any other service 2.0. Prints each figure. The API and
# metrics sockets expose nothing beyond loopback (issue 19): systemd-analyze dump of the
# socket units as loaded lists only 127.0.0.1 and [::1] listeners.
. "$AEGIS_TEST_LIB/common.sh"
. "$AEGIS_TEST_LIB/units.sh"
require_cmd systemd-analyze
make_scratch
mkdir -p "$SCRATCH/xdg"
export XDG_RUNTIME_DIR="$SCRATCH/xdg"
units_collect

budget() {
        case "$1" in
        aegis.service) echo 2.5 ;;
        aegis-nfs.service) echo 1.5 ;;
        aegis-reaper.service) echo 2.0 ;;
        *) echo 2.0 ;;
        esac
}
n=0
for flavour in system user; do
        if [ "$flavour" = system ]; then list=("${UNITS_SYSTEM[@]}"); args=(); else list=("${UNITS_USER[@]}"); args=(--user); fi
        for f in "${list[@]}"; do
                case "$f" in *.service) ;; *) continue ;; esac
                name="$(basename "$f")"
                out="$(cd "$(dirname "$f")" && systemd-analyze security --offline=true "${args[@]}" "$name" 2>&1)"
                level="$(sed -n 's/^→ Overall exposure level for .*: \([0-9.]*\) .*/\1/p' <<<"$out")"
                if [ -z "$level" ]; then
                        check "$flavour $name: exposure computed: $(tail -3 <<<"$out")" false
                        continue
                fi
                b="$(budget "$name")"
                printf '# exposure %-6s %-24s %s (budget %s)\n' "$flavour" "$name" "$level" "$b"
                check "$flavour $name exposure $level <= $b" awk -v l="$level" -v b="$b" 'BEGIN { exit !(l <= b) }'
                n=$((n + 1))
        done
done
[ "$n" -gt 0 ] || skip_or_fail "no service units in units/ yet"
for sock in aegis.socket aegis-metrics.socket; do
        f="$top_srcdir/units/$sock"
        listens="$(sed -n 's/^ListenStream=//p' "$f" | sort | tr '\n' ' ')"
        port="$(sed -n 's/^ListenStream=127\.0\.0\.1:\([0-9]*\)$/\1/p' "$f")"
        assert_eq "$sock listens on 127.0.0.1 and [::1] only" "127.0.0.1:$port [::1]:$port " "$listens"
done
for want in aegis.service aegis-nfs.service aegis-reaper.service; do
        found=no
        for f in "${UNITS_SYSTEM[@]}"; do [ "$(basename "$f")" = "$want" ] && found=yes; done
        check "$want is in the tree and its budget was checked" test "$found" = yes
done
finish
