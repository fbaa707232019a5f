#!/bin/bash
# `aegis doctor` against real things: a private Podman service, a TCP listener standing in
# for the NFS port, a SQLite store, a bad config file, a socket the user may not open, and
# the host's own cgroup hierarchy. Every check yields a verdict and, unless it passes, a
# fix; --output json is valid JSON; the exit status is 0 only when nothing fails.
. "$AEGIS_TEST_LIB/podman.sh"
require_cmd jq python3 setpriv
make_scratch
podman_start

NFS_PORT="$(free_port)"
python3 -c 'import socket,sys,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8); time.sleep(600)' "$NFS_PORT" &
LISTENER=$!
on_exit "kill $LISTENER 2>/dev/null"
wait_for 30 python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$NFS_PORT" \
        || fail "listener did not come up"

cat >"$SCRATCH/config.yaml" <<YAML
runtime:
  container_socket_path: "$PODMAN_SOCK"
storage:
  nfs_listen_addr: "127.0.0.1:$NFS_PORT"
database:
  url: "sqlite://$SCRATCH/state/aegis.db"
YAML
mkdir -p "$SCRATCH/state"
unset CONTAINER_HOST DATABASE_URL

doctor_json() { "$AEGIS_CLI" doctor --output json "$@"; }
verdict() { jq -r --arg n "$1" '.checks[] | select(.name == $n) | .verdict' <<<"$2"; }
field() { jq -r --arg n "$1" --arg f "$2" '.checks[] | select(.name == $n) | .[$f] // ""' <<<"$3" 2>/dev/null || true; }

out="$(doctor_json --config "$SCRATCH/config.yaml" --user nobody)"
rc=$?
check "--output json is valid JSON" jq -e . <<<"$out" >/dev/null
assert_eq "every check is reported" \
        "config podman-socket-unit podman-socket podman-api engine-limits linger cgroup-v2 cgroup-delegation rootless-network mount-mode nfs-port store" \
        "$(jq -r '[.checks[].name] | join(" ")' <<<"$out")"
check "every non-passing check has a fix" jq -e '[.checks[] | select(.verdict == "fail" or .verdict == "warn") | .fix | select(. == null or . == "")] | length == 0' <<<"$out" >/dev/null
assert_eq "config passes" pass "$(verdict config "$out")"
assert_eq "the podman.socket unit check is skipped for a socket it does not manage" skip "$(verdict podman-socket-unit "$out")"
assert_eq "the Podman socket is present" pass "$(verdict podman-socket "$out")"
assert_eq "the Podman API answers" pass "$(verdict podman-api "$out")"
assert_eq "the real (rootful) engine enforces limits" pass "$(verdict engine-limits "$out")"
assert_match "… and says how" "enforces the memory, pids and cpu limits \(cgroup v[12], rootful\)" "$(field engine-limits detail "$out")"
assert_eq "slirp4netns is found" pass "$(verdict rootless-network "$out")"
assert_eq "the NFS port is reachable" pass "$(verdict nfs-port "$out")"
assert_eq "a new SQLite store in a writable directory passes" pass "$(verdict store "$out")"
assert_match "… saying it does not exist yet" 'aegis.db does not exist yet' "$(field store detail "$out")"
check "… and doctor did not create it" test ! -e "$SCRATCH/state/aegis.db"
if [ "$(stat -fc %T /sys/fs/cgroup/)" = cgroup2fs ]; then want=pass; else want=fail; fi
assert_eq "cgroup v2 verdict matches stat -fc %T /sys/fs/cgroup" "$want" "$(verdict cgroup-v2 "$out")"
# No logind here: lingering cannot be confirmed, and the fix says how to turn it on.
if ! busctl status org.freedesktop.login1 >/dev/null 2>&1; then
        assert_eq "linger fails without logind" fail "$(verdict linger "$out")"
        assert_match "… with a fix" 'loginctl enable-linger|logind' "$(field linger fix "$out")"
fi
failed="$(jq -r '[.checks[] | select(.verdict == "fail")] | length' <<<"$out")"
assert_eq "exit status 1 when a check fails ($failed failed)" "$([ "$failed" -gt 0 ] && echo 1 || echo 0)" "$rc"
assert_eq "ok is false then" "$([ "$failed" -gt 0 ] && echo false || echo true)" "$(jq -r .ok <<<"$out")"

# Skipping every check that cannot pass on this host leaves only passes: exit 0.
skips="$(jq -r '[.checks[] | select(.verdict == "fail") | .name] | join(",")' <<<"$out")"
out2="$(doctor_json --config "$SCRATCH/config.yaml" ${skips:+--skip "$skips"})"
assert_eq "exit 0 when no check fails" 0 "$?"
assert_eq "ok is true then" true "$(jq -r .ok <<<"$out2")"

# Text output: a verdict per line, the fix on the next, and a summary.
txt="$("$AEGIS_CLI" doctor --config "$SCRATCH/config.yaml")"
assert_match "text output shows passes" 'ok +podman-api' "$txt"
assert_match "text output ends with a summary" '(ready|NOT READY): [0-9]+ failed' "$(tail -1 <<<"$txt")"
assert_eq "the global --output json reaches doctor" false "$("$AEGIS_CLI" --output json doctor --config "$SCRATCH/config.yaml" --skip store | jq -r '.checks[] | select(.name=="store") | (.verdict=="pass")')"

# Nothing on the NFS port.
kill "$LISTENER"; wait "$LISTENER" 2>/dev/null
out="$(doctor_json --config "$SCRATCH/config.yaml")"
assert_eq "a closed NFS port fails" fail "$(verdict nfs-port "$out")"
assert_match "… and the fix enables aegis-nfs.socket" 'enable --now aegis-nfs.socket' "$(field nfs-port fix "$out")"

# Where the unit's aegisd looks, not a login shell: the user unit's EnvironmentFile=
# (%h/.config/aegis/env) and its StateDirectory=aegis, which a user manager before systemd 254
# puts in ~/.config/aegis (systemd.exec(5)). As a user without a manager on the bus here, so
# the version is the one built against.
H="$SCRATCH/home"
mkdir -p "$H/.config/aegis" && chmod 0711 "$SCRATCH"
printf 'runtime:\n  container_socket_path: "%s"\n' "$PODMAN_SOCK" >"$SCRATCH/nodb.yaml"
chmod 0644 "$SCRATCH/nodb.yaml"
chown -R 65534:65534 "$H"
as_nobody() {
        setpriv --reuid=65534 --regid=65534 --clear-groups env -u XDG_RUNTIME_DIR -u DBUS_SESSION_BUS_ADDRESS \
                -u XDG_CONFIG_HOME -u XDG_STATE_HOME -u STATE_DIRECTORY HOME="$H" "$@"
}
sdv="$(sed -n 's/^#define SYSTEMD_BUILD_VERSION //p' "$top_builddir/build-config.h")"
if [ "${sdv:-0}" -lt 254 ]; then STATE="$H/.config/aegis"; else STATE="$H/.local/state/aegis"; fi
out="$(as_nobody "$AEGIS_CLI" doctor --output json --config "$SCRATCH/nodb.yaml")"
assert_eq "no environment file: config passes" pass "$(verdict config "$out")"
assert_match "… saying it looked for ~/.config/aegis/env" "no $H/.config/aegis/env" "$(field config detail "$out")"
assert_match "… and where the user unit's StateDirectory= is (systemd $sdv)" "state directory $STATE\$" \
        "$(field config detail "$out")"
assert_match "the store checked is the one there" "$STATE/aegis.db" "$(field store detail "$out")"
as_nobody sh -c 'umask 077; printf "%s\n" "# secrets" "" "DATABASE_URL=\"sqlite://$1/env.db\"" >"$HOME/.config/aegis/env"' _ "$H"
out="$(as_nobody "$AEGIS_CLI" doctor --output json --config "$SCRATCH/nodb.yaml")"
assert_eq "~/.config/aegis/env (mode 0600): config passes" pass "$(verdict config "$out")"
assert_match "… read" "environment from $H/.config/aegis/env" "$(field config detail "$out")"
assert_match "… and its DATABASE_URL is the store checked, as the unit's aegisd would use" "$H/env.db" \
        "$(field store detail "$out")"
chmod 0644 "$H/.config/aegis/env"
out="$(as_nobody "$AEGIS_CLI" doctor --output json --config "$SCRATCH/nodb.yaml")"
assert_eq "an environment file others may read: config warns" warn "$(verdict config "$out")"
assert_eq "… and the fix is chmod 600" "chmod 600 $H/.config/aegis/env" "$(field config fix "$out")"
printf 'DATABASE_URL=sqlite:///x.db\nnot a variable\n' >"$H/.config/aegis/env"
out="$(as_nobody "$AEGIS_CLI" doctor --output json --config "$SCRATCH/nodb.yaml")"
assert_eq "a malformed environment file fails config" fail "$(verdict config "$out")"
assert_eq "… naming file and line" "$H/.config/aegis/env:2: expected KEY=VALUE" "$(field config detail "$out")"
rm -f "$H/.config/aegis/env"

# Permission denied on the Podman socket, as another user.
chmod 0711 "$SCRATCH" "$PODMAN_DIR"
chmod 0600 "$PODMAN_SOCK"
chmod 0644 "$SCRATCH/config.yaml"
out="$(setpriv --reuid=65534 --regid=65534 --clear-groups "$AEGIS_CLI" doctor --output json --config "$SCRATCH/config.yaml")"
assert_eq "a socket the user may not open fails podman-api" fail "$(verdict podman-api "$out")"
assert_match "… saying permission denied" 'ermission denied' "$(field podman-api detail "$out")"
assert_match "… and the fix names the socket's owner" 'user owning' "$(field podman-api fix "$out")"

# An old store: doctor reads its version and leaves it as it is (no migration).
python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)"); c.execute("INSERT INTO schema_version VALUES (1, 0)"); c.commit()' "$SCRATCH/state/aegis.db"
out="$(doctor_json --config "$SCRATCH/config.yaml")"
assert_eq "a store at an old schema version passes" pass "$(verdict store "$out")"
assert_match "… saying aegisd migrates it" 'schema is at version 1, aegisd migrates it to [0-9]+ on start' "$(field store detail "$out")"
assert_eq "… and doctor did not migrate it" 1 "$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT max(version) FROM schema_version").fetchone()[0])' "$SCRATCH/state/aegis.db")"

# A store that cannot be opened.
echo "not a database" >"$SCRATCH/state/aegis.db"
out="$(doctor_json --config "$SCRATCH/config.yaml")"
assert_eq "a corrupt SQLite file fails store" fail "$(verdict store "$out")"

# A bad configuration file names the file, line and key.
printf 'runtime:\n  container_sockt_path: /x\n' >"$SCRATCH/bad.yaml"
out="$(doctor_json --config "$SCRATCH/bad.yaml")"
assert_eq "a bad config fails" fail "$(verdict config "$out")"
assert_match "… naming file, line and key" 'bad.yaml:2.*container_sockt_path' "$(field config detail "$out")"
assert_eq "checks needing the config are skipped, not failed" skip "$(verdict podman-api "$out")"

# Usage errors.
"$AEGIS_CLI" doctor --skip nonsense >/dev/null 2>&1
assert_eq "--skip with an unknown check is a usage error (125)" 125 "$?"
"$AEGIS_CLI" doctor --output xml >/dev/null 2>&1
assert_eq "--output xml is a usage error (125)" 125 "$?"
out="$("$AEGIS_CLI" doctor --output yaml --config "$SCRATCH/config.yaml" --skip store)"
assert_match "--output yaml prints the checks as YAML" '^ok: (true|false)' "$out"
finish
