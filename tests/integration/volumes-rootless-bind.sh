#!/bin/bash
# A bind-mode volume the agent writes, with rootless Podman, user namespaces on and aegisd
# running as the engine's own unprivileged user (issue 19): a container with a bind-mode
# volume runs keep-id with the agent's uid:gid (1000), so the agent is that user on the host
# and the volume's files are aegisd's own, with nothing joining the engine's user namespace
# (aegis-volumes(7); the unit's PrivateUsers= forbids that). Containers without one keep
# their own mapping. So:
#  - a volume created through the API is the agent's: it makes files and directories there,
#    one of them private (0700) with a file inside;
#  - aegisd lists and downloads them (the file API), uploads a file into the root and one
#    into the agent's directory, and the next execution's agent overwrites and appends to
#    both;
#  - the volume's size_limit is measured after each iteration (the private directory too);
#  - deleting the volume removes everything the agent made: nothing is left on disk;
#  - aegis-reaper (the same user) removes an expired ephemeral volume the agent wrote in.
# Cgroup v1 here: a rootless engine enforces no limit, so runtime.allow_unenforced_limits.
. "$AEGIS_TEST_LIB/podman.sh"
. "$AEGIS_TEST_LIB/executions.sh"
. "$AEGIS_TEST_LIB/rootless.sh"
require_cmd sqlite3 setpriv
make_scratch
rootless_start

# aegisd as the engine's user, with nothing of root's, and no way into the engine's user
# namespace: its pause process is recorded in the engine's --tmpdir and aegisd is not told.
mkdir -p "$SCRATCH/aegisd-a/state" "$SCRATCH/volumes"
chown -R "$RL_USER:" "$SCRATCH/aegisd-a" "$SCRATCH/volumes"
cat >"$SCRATCH/aegisd-as-user" <<SH
#!/bin/sh
exec setpriv --reuid "$RL_USER" --regid "$RL_USER" --init-groups env -u CONTAINER_HOST HOME="$RL/home" \
        XDG_RUNTIME_DIR="$RL/run" "$AEGISD" "\$@"
SH
chmod 755 "$SCRATCH/aegisd-as-user"
AEGISD="$SCRATCH/aegisd-as-user" PODMAN_SOCK="$RL_SOCK" AEGIS_RUNTIME_EXTRA="  allow_unenforced_limits: true" aegisd_start a "storage:
  root: $SCRATCH/volumes
  mount_mode: bind"
check "aegisd runs as the engine's user" test "$(stat -c %u "/proc/$(aegisd_pid a)")" = "$RL_UID"

vol="$(api POST /v1/volumes -H 'Content-Type: application/json' -d '{"name":"work","size_limit":"10Mi"}')"
vid="$(jq -r .id <<<"$vol")"
[[ "$vid" =~ ^[0-9a-f-]{36}$ ]] || fail "the volume was not created: $vol"
dir="$(find "$SCRATCH/volumes" -mindepth 2 -maxdepth 2 -name "$vid")"
check "its directory exists" test -d "$dir"
assert_eq "its directory is aegisd's own, the agent's on the host" "$RL_UID:$(id -g "$RL_USER")" \
        "$(stat -c %u:%g "$dir")"

# An ephemeral one too, for aegis-reaper to remove once expired.
tmp="$(api POST /v1/volumes -H 'Content-Type: application/json' -d '{"name":"tmp","storage_class":"ephemeral"}' | jq -r .id)"
[[ "$tmp" =~ ^[0-9a-f-]{36}$ ]] || fail "the ephemeral volume was not created"

run_agent() { # run_agent NAME SCRIPT: an execution with the volumes at /workspace/data and
        # /workspace/tmp, to completion; prints its output
        local m id
        m="$(manifest "$1" "$2" "  security:
    network_policy:
      mode: none
  volumes:
    - name: work
      volume_id: $vid
      mount_path: /workspace/data
    - name: tmp
      volume_id: $tmp
      mount_path: /workspace/tmp")"
        id="$(aegis -q submit "$m")"
        wait_status "$id" completed 90 || {
                echo "$1 did not complete: $(api GET "/v1/executions/$id" | jq -c '{status, reason, output}')"
                return 1
        }
        execution_field "$id" .output
}

out="$(run_agent writer 'set -e; cd /workspace/data; id -u >uid; mkdir d; echo agent >d/f
mkdir -m 700 private; echo secret >private/s; echo top >top
mkdir -m 700 /workspace/tmp/p; echo x >/workspace/tmp/p/x; echo wrote')" || fail "$out"
assert_eq "the agent wrote files and directories in its volume" wrote "$(xargs <<<"$out")"

assert_eq "the agent runs as its own uid in the container" 1000 "$(cat "$dir/uid")"
assert_eq "… which is aegisd's user on the host" "$RL_UID" "$(stat -c %u "$dir/uid")"
rm -f "$dir/uid"
check "aegisd said why" grep -q "keep-id with the agent's uid:gid" "$SCRATCH/aegisd-a/aegisd.log"
assert_eq "aegisd lists the agent's files" "d private top" \
        "$(api GET "/v1/volumes/$vid/files?path=/" | jq -r '[.entries[].name] | join(" ")')"
assert_eq "… and in the agent's directory" "f" \
        "$(api GET "/v1/volumes/$vid/files?path=/d" | jq -r '[.entries[].name] | join(" ")')"
assert_eq "aegisd downloads the agent's file" agent "$(api GET "/v1/volumes/$vid/files/download?path=/d/f")"
assert_eq "… and one in the agent's private directory" secret \
        "$(api GET "/v1/volumes/$vid/files/download?path=/private/s")"
assert_eq "aegisd uploads into the root" 201 \
        "$(api_status POST "/v1/volumes/$vid/files/upload?path=/up.txt" -H 'Content-Type: application/octet-stream' --data-binary 'from aegisd')"
assert_eq "… and into the agent's directory" 201 \
        "$(api_status POST "/v1/volumes/$vid/files/upload?path=/d/up2.txt" -H 'Content-Type: application/octet-stream' --data-binary 'from aegisd')"
assert_eq "aegisd makes a directory in the agent's" 201 \
        "$(api_status POST "/v1/volumes/$vid/files/mkdir" -H 'Content-Type: application/json' -d '{"path":"/d/sub"}')"
assert_eq "aegisd moves the agent's file" 200 \
        "$(api_status POST "/v1/volumes/$vid/files/move" -H 'Content-Type: application/json' -d '{"from":"/top","to":"/d/sub/top"}')"
assert_eq "an uploaded file is the agent's" "$RL_UID" "$(stat -c %u "$dir/up.txt")"

out="$(run_agent rewriter 'set -e; cd /workspace/data; cat up.txt; echo; echo overwritten >up.txt
echo more >>d/up2.txt; touch d/sub/new; cat d/sub/top')" || fail "$out"
assert_eq "the next agent read the upload and the moved file" "from aegisd top" "$(xargs <<<"$out")"
assert_eq "… overwrote the upload" overwritten "$(api GET "/v1/volumes/$vid/files/download?path=/up.txt")"
assert_eq "… appended to the one in its directory" "from aegisdmore" \
        "$(api GET "/v1/volumes/$vid/files/download?path=/d/up2.txt" | tr -d '\n')"
assert_eq "aegisd deletes a file in the agent's private directory" 200 \
        "$(api_status DELETE "/v1/volumes/$vid/files?path=/private/s")"
# d/f 6, up.txt 12, d/up2.txt 16, d/sub/top 4, d/sub/new 0
assert_eq "the volume's usage is measured, the agent's files too" 38 \
        "$(api GET "/v1/volumes/$vid" | jq -r .used_bytes)"

assert_match "the volume is deleted" '^20[04]$' "$(api_status DELETE "/v1/volumes/$vid")"
check "nothing of it is left on disk" test ! -e "$dir"
# aegis-reaper, as the engine's user too, removes the expired ephemeral volume and the agent's
# private directory in it.
tdir="$(find "$SCRATCH/volumes" -mindepth 2 -maxdepth 2 -name "$tmp")"
check "the agent's private directory is in the ephemeral volume" test -d "$tdir/p"
rl_run sqlite3 -cmd ".timeout 10000" "$SCRATCH/aegisd-a/state/aegis.db" "UPDATE volumes SET expires_at = 1 WHERE id = '$tmp'" ||
        fail "cannot expire the ephemeral volume"
rep="$(rl_run "$AEGIS_REAPER" --config "$SCRATCH/aegisd-a/config.yaml" --output json 2>"$SCRATCH/reaper.log")"
assert_eq "aegis-reaper deleted the expired volume" deleted \
        "$(jq -r --arg t "$tmp" '.volumes[] | select(.id == $t) | .result' <<<"$rep")"
check "… and nothing of it is left on disk" test ! -e "$tdir"

wait_for 30 rl_clean
assert_eq "no aegis.managed container remains" "" "$(rl ps -aq --filter label=aegis.managed=true 2>/dev/null)"
finish
