#!/bin/bash
# Volumes of executions in storage.mount_mode bind, end to end on real Podman:
#  - iteration 1 writes /workspace/a, iteration 2 (a fresh container) reads it back;
#  - the volume is a store row owned by the execution (ephemeral, expiring 24 h later) and the
#    directory storage.root/<tenant>/<id> owned by the execution's uid:gid;
#  - a read-only volume refuses writes inside the container;
#  - a volume left over its size_limit fails the iteration with reason quota_exceeded, which
#    the next iteration receives (AEGIS_PREVIOUS_REASON, feedback.json) and can act on;
#  - an existing volume attached by volume_id is mounted with what it holds;
#  - no container is left behind.
. "$AEGIS_TEST_LIB/podman.sh"
. "$AEGIS_TEST_LIB/executions.sh"
require_cmd jq
podman_start
ROOT="$SCRATCH/storage"
aegisd_start a "storage:
  root: \"$ROOT\"
  mount_mode: bind"

# ---- iteration 1 writes, iteration 2 reads; read-only refuses writes ----
m="$(manifest carry-over 'if [ "$AEGIS_ITERATION" = 1 ]; then echo "written by 1" >/workspace/a; exit 1; fi
cat /workspace/a
if touch /workspace/ref/x 2>/dev/null; then echo "ro-write-succeeded"; else echo "ro-refused"; fi
ls -ld /workspace | cut -c1-10' '  execution:
    max_iterations: 2
  volumes:
    - name: work
      mount_path: /workspace
      size_limit: 10Mi
    - name: ref
      mount_path: /workspace/ref
      access_mode: read-only
      storage_class: persistent')"
before="$(date +%s)"
out="$(aegis -q run "$m")"
assert_eq "aegis run exits 0" 0 "$?"
assert_match "iteration 2 read what iteration 1 wrote" 'written by 1' "$out"
assert_match "a read-only volume refuses writes in the container" 'ro-refused' "$out"
id="$(aegis list --output json | jq -r '.executions[0].id')"
assert_eq "two iterations" "failed succeeded" \
        "$(api GET "/v1/executions/$id" | jq -r '[.iterations[].status] | join(" ")')"

vols="$(api GET /v1/volumes)"
work="$(jq -r --arg x "$id" '.volumes[] | select(.name == "work" and .owner_execution_id == $x) | .id' <<<"$vols")"
ref="$(jq -r --arg x "$id" '.volumes[] | select(.name == "ref" and .owner_execution_id == $x) | .id' <<<"$vols")"
assert_match "the execution's volume is in the store" '^[0-9a-f-]{36}$' "$work"
assert_eq "work: ephemeral, read-write, 10 MiB, active" "ephemeral read-write 10485760 active default" \
        "$(jq -r --arg v "$work" '.volumes[] | select(.id == $v) | [.storage_class, .access_mode, .size_limit, .status, .tenant_id] | map(tostring) | join(" ")' <<<"$vols")"
exp="$(jq -r --arg v "$work" '.volumes[] | select(.id == $v) | .expires_at' <<<"$vols")"
exp_s="$(date -d "$exp" +%s)"
check "ephemeral volume expires ttl_hours (24) after creation" \
        test "$exp_s" -ge "$((before + 86400 - 5))" -a "$exp_s" -le "$(($(date +%s) + 86400 + 5))"
assert_eq "ref: persistent, read-only, never expires" "persistent read-only null" \
        "$(jq -r --arg v "$ref" '.volumes[] | select(.id == $v) | [.storage_class, .access_mode, .expires_at] | map(tostring) | join(" ")' <<<"$vols")"
assert_eq "the file is in storage.root/<tenant>/<id>" "written by 1" "$(cat "$ROOT/default/$work/a")"
# uid 1000 in the agent's own user namespace is runtime.user_namespace_base + 1000 here.
own="$((1879048192 + 1000))"
assert_eq "the directory is owned by the execution's uid:gid" "$own:$own 770" "$(stat -c '%u:%g %a' "$ROOT/default/$work")"
assert_eq "the file is owned by the container's user" "$own:$own" "$(stat -c '%u:%g' "$ROOT/default/$work/a")"
check "nothing was written to the read-only volume" test ! -e "$ROOT/default/$ref/x"
assert_eq "GET shows bytes used" 13 "$(api GET "/v1/volumes/$work" | jq -r .bytes_used)"
assert_eq "DELETE of a finished execution's volume works" 204 "$(api_status DELETE "/v1/volumes/$ref")"
check "its directory is gone" test ! -e "$ROOT/default/$ref"

# ---- quota exceeded is reported to the agent ----
m="$(manifest over-quota 'if [ "$AEGIS_ITERATION" = 1 ]; then head -c 2097152 /dev/zero >/workspace/big; echo wrote; exit 0; fi
echo "told: $AEGIS_PREVIOUS_REASON"
grep -o "quota_exceeded[^\"]*" /run/aegis/feedback.json | head -1 | sed "s/^/feedback: /"
rm /workspace/big' '  execution:
    max_iterations: 2
  volumes:
    - name: small
      mount_path: /workspace
      size_limit: 1Mi')"
out="$(aegis -q run "$m")"
assert_eq "over-quota execution completes once the agent cleans up" 0 "$?"
id="$(aegis list --output json | jq -r '.executions[0].id')"
ex="$(api GET "/v1/executions/$id")"
assert_eq "iteration 1 (exit 0) failed on the quota" "failed" "$(jq -r '.iterations[0].status' <<<"$ex")"
assert_eq "its reason names the volume, the bytes and the limit" \
        'quota_exceeded: volume "small" at /workspace holds 2097152 bytes, over its size_limit of 1048576 bytes; delete files to get under it' \
        "$(jq -r '.iterations[0].reason' <<<"$ex")"
assert_match "the agent got the reason in AEGIS_PREVIOUS_REASON" 'told: quota_exceeded: volume "small"' "$out"
assert_match "and in feedback.json" 'feedback: quota_exceeded: volume' "$out"

# ---- attach an existing volume by id ----
st="$(api_status POST /v1/volumes -H 'Content-Type: application/json' -d '{"name":"shared","size_limit":"1Gi"}')"
assert_eq "standalone volume created" 201 "$st"
shared="$(api GET /v1/volumes | jq -r '.volumes[] | select(.name == "shared") | .id')"
echo "from the operator" >"$ROOT/default/$shared/seed.txt"
chown "$own:$own" "$ROOT/default/$shared/seed.txt"
m="$(manifest attach 'cat /workspace/in/seed.txt; echo more >>/workspace/in/seed.txt' "  volumes:
    - name: in
      mount_path: /workspace/in
      volume_id: $shared")"
out="$(aegis -q run "$m")"
assert_eq "execution attaching a volume by id completes" 0 "$?"
assert_match "it saw the volume's content" 'from the operator' "$out"
# Each iteration appends once (a loaded machine may fail an iteration on the engine's side and
# run another; a command started twice within one iteration would show as one line too many).
n_iter="$(api GET '/v1/executions?limit=1' | jq -r '.executions[0].id' |
        xargs -I{} curl -s "$AEGIS_URL/v1/executions/{}" | jq '.iterations | length')"
assert_eq "and wrote into it, once per iteration ($n_iter)" \
        "from the operator$(printf '\nmore%.0s' $(seq "${n_iter:-1}"))" "$(cat "$ROOT/default/$shared/seed.txt")"
check "an attached volume is not re-owned" test "$(api GET "/v1/volumes/$shared" | jq -r .owner_execution_id)" = null

# ---- a volume_id that does not exist fails the execution before any container ----
m="$(manifest attach-missing 'echo never' '  volumes:
    - name: in
      mount_path: /workspace
      volume_id: no-such-volume')"
resp="$(api POST /v1/executions -H 'Content-Type: application/json' \
        -d "$(jq -n --rawfile m "$m" '{manifest: $m}')")"
assert_eq "submitting with an unknown volume_id is refused, naming the field" "spec.volumes[0].volume_id" \
        "$(jq -r .field <<<"$resp")"

assert_no_managed_containers
finish
