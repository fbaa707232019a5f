#!/bin/bash
# No test depends on a fixed port being free: every aegisd configuration that a test, a
# benchmark or the quickstart writes names its own api.listen AND metrics_listen (left out,
# metrics_listen is the default 127.0.0.1:9091, and the test fails whenever anything else on
# the machine holds it), and no script under tests/ or bench/ talks to the default ports
# 8088, 9091 or 2049 on the host. (tests/e2e talks to 8088 inside its own container.)
. "$AEGIS_TEST_LIB/common.sh"
cd "$top_srcdir" || fail "no source tree"

files=$(grep -rl --include='*.sh' -e '^  listen:' -e 'api:\\n  listen:' tests bench tools)
[ -n "$files" ] || fail "found no configuration written by a test: the pattern is stale"
for f in $files; do
        check "$f: every api.listen comes with its own metrics_listen" \
                test "$(grep -c -e '^  listen:' -e 'api:\\n  listen:' "$f")" -le "$(grep -c 'metrics_listen' "$f")"
done

# (A unit file's ListenStream= named in an assertion is not a connection.)
fixed=$(grep -rnE '(127\.0\.0\.1|localhost|\[::1\]):(8088|9091|2049)\b' tests/integration tests/lib bench tools 2>/dev/null |
        grep -v -e 'tests-own-their-ports.sh' -e 'ListenStream=' || true)
assert_eq "no script uses a fixed default port on the host" "" "$fixed"
finish
