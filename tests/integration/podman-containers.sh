#!/bin/bash
# The driver against a real Podman: a container created from a spec carries exactly the
# limits, labels, environment, user, hosts, files and hardening asked for (seen both in
# inspect and from inside the container); logs come back demultiplexed, binary-exact and
# bounded; stop/kill/remove work; listing by label sees exactly ours; pull policies behave.
. "${AEGIS_TEST_LIB:-$(dirname "$0")/../lib}/podman.sh"
PROBE="$top_builddir/tests/integration/podman-probe"
require_cmd jq
podman_start
P() { "$PROBE" "$PODMAN_SOCK" "$@"; }
kv() { sed -n "s/^$1=//p"; } # kv KEY < probe output
# Podman 4.3 under heavy load here sometimes loses a container it started (state back to
# "created", no exit code); the driver reports that as an error instead of a false exit 0.
# Retry such runs so the checks below test what they mean to.
prun() {
        local i out
        for i in 1 2 3 4; do
                out="$(P run "$@" 2>&1)"
                grep -q "lost track of container" <<<"$out" || break
                note "the engine lost track of a container (attempt $i): retrying"
        done
        printf '%s\n' "$out"
}

# --- create: what the engine was asked for ---------------------------------------------
id="$(P create limits 1 cpu=0.5 mem=64Mi pids=128 env=FOO=bar env=EMPTY= user=1000:1000 workdir=/tmp keep=1 \
        'file=/run/aegis/input.json:{"task":"x"}' -- sleep 60 | kv id)"
[ -n "$id" ] || fail "create failed"
j="$(papi GET "/containers/$id/json")"
assert_eq "name is aegis-<execution>-<iteration>" "/aegis-limits-1" "$(jq -r .Name <<<"$j" | sed 's|^/*|/|')"
assert_eq "NanoCpus from cpu_quota 0.5" 500000000 "$(jq -r .HostConfig.NanoCpus <<<"$j")"
assert_eq "Memory 64 MiB" 67108864 "$(jq -r .HostConfig.Memory <<<"$j")"
assert_eq "MemorySwap equals Memory" 67108864 "$(jq -r .HostConfig.MemorySwap <<<"$j")"
assert_eq "PidsLimit" 128 "$(jq -r .HostConfig.PidsLimit <<<"$j")"
assert_eq "label aegis.managed" true "$(jq -r '.Config.Labels["aegis.managed"]' <<<"$j")"
assert_eq "label aegis.execution_id" limits "$(jq -r '.Config.Labels["aegis.execution_id"]' <<<"$j")"
assert_eq "label aegis.iteration" 1 "$(jq -r '.Config.Labels["aegis.iteration"]' <<<"$j")"
assert_eq "label aegis.runtime" podman "$(jq -r '.Config.Labels["aegis.runtime"]' <<<"$j")"
assert_eq "label aegis.keep_container_on_failure" true "$(jq -r '.Config.Labels["aegis.keep_container_on_failure"]' <<<"$j")"
assert_eq "user" 1000:1000 "$(jq -r .Config.User <<<"$j")"
assert_eq "workdir" /tmp "$(jq -r .Config.WorkingDir <<<"$j")"
check "env FOO=bar" jq -e '.Config.Env | index("FOO=bar")' <<<"$j" >/dev/null
check "CapDrop ALL" jq -e '.HostConfig.CapDrop | map(ascii_upcase) | (index("ALL") or (length > 10))' <<<"$j" >/dev/null
P inspect "$id" >"$SCRATCH/inspect"
assert_eq "driver inspect: status created" created "$(kv status <"$SCRATCH/inspect")"
assert_eq "driver inspect: execution label parsed" limits "$(kv execution <"$SCRATCH/inspect")"
assert_eq "driver inspect: keep flag parsed" 1 "$(kv keep <"$SCRATCH/inspect")"
P remove "$id" >/dev/null || fail "remove of a created container failed"

# --- the same, seen from inside the running container ------------------------------------
gw="$(P gateway | kv gateway)"
prun inside 1 cpu=0.5 mem=64Mi env=FOO=bar user=1000:1000 'file=/run/aegis/input.json:{"task":"x"}' \
        "out=$SCRATCH/inside.out" "err=$SCRATCH/inside.err" -- sh -c '
        echo "env=$FOO"; echo "id=$(id -u):$(id -g)"; echo "input=$(cat /run/aegis/input.json)"
        if [ -f /sys/fs/cgroup/cpu.max ]; then echo "cpu=$(cut -d" " -f1 /sys/fs/cgroup/cpu.max)"; echo "mem=$(cat /sys/fs/cgroup/memory.max)"
        else echo "cpu=$(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us)"; echo "mem=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes)"; fi
        grep NoNewPrivs /proc/self/status | sed "s/NoNewPrivs:\s*/nnp=/"
        grep CapEff /proc/self/status | sed "s/CapEff:\s*/capeff=/"
        grep -E "host\.(docker|containers)\.internal" /etc/hosts | sed "s/^/host=/"
        echo oops >&2; exit 3' >"$SCRATCH/run" || fail "run failed: $(cat "$SCRATCH/run")"
out="$(cat "$SCRATCH/inside.out")"
assert_eq "exit code reported" 3 "$(kv exit <"$SCRATCH/run")"
assert_eq "env inside" bar "$(kv env <<<"$out")"
assert_eq "user inside" 1000:1000 "$(kv id <<<"$out")"
assert_eq "file placed before start" '{"task":"x"}' "$(kv input <<<"$out")"
assert_eq "cgroup CPU quota (0.5 of a 100 ms period)" 50000 "$(kv cpu <<<"$out")"
assert_eq "cgroup memory limit" 67108864 "$(kv mem <<<"$out")"
assert_eq "no-new-privileges" 1 "$(kv nnp <<<"$out")"
assert_eq "no capabilities" 0000000000000000 "$(kv capeff <<<"$out")"
assert_match "host.docker.internal resolves to the host gateway" "(^|$'\n')$gw[[:space:]]+host.docker.internal" "$(kv host <<<"$out")"
assert_match "host.containers.internal resolves to the host gateway" "$gw[[:space:]]+host.containers.internal" "$(kv host <<<"$out")"
check "host-gateway never lands literally in /etc/hosts" bash -c "! grep -q host-gateway '$SCRATCH/inside.out'"
assert_eq "stderr kept apart" oops "$(cat "$SCRATCH/inside.err")"

# read-only root filesystem: still writable files placed, root not writable
prun ro 1 ro=1 file=/run/aegis/feedback.json:fb "out=$SCRATCH/ro.out" -- sh -c \
        'cat /run/aegis/feedback.json; echo; touch /x 2>/dev/null && echo writable || echo readonly' >/dev/null
assert_eq "read-only rootfs keeps the placed file and refuses writes" "fb
readonly" "$(cat "$SCRATCH/ro.out")"

# network none: no network interface but loopback
prun nonet 1 net=none "out=$SCRATCH/nonet.out" -- sh -c 'ls /sys/class/net' >/dev/null
assert_eq "NetworkMode none leaves only loopback" lo "$(cat "$SCRATCH/nonet.out")"

# --- logs: binary-exact demux, bound with marker -----------------------------------------
prun logs 1 max=1000 "out=$SCRATCH/logs.out" "err=$SCRATCH/logs.err" -- sh -c \
        'printf "a\000b\377\n"; printf "E\001\002" >&2; yes 0123456789 | head -c 5000' >"$SCRATCH/run" || fail "logs run failed"
assert_eq "stdout total counted past the bound" 5005 "$(kv out_total <"$SCRATCH/run")"
assert_eq "stdout truncated" 1 "$(kv out_truncated <"$SCRATCH/run")"
assert_eq "stderr not truncated" 0 "$(kv err_truncated <"$SCRATCH/run")"
assert_eq "binary stdout head exact" "$(printf 'a\000b\377\n' | od -An -tx1)" "$(head -c 5 "$SCRATCH/logs.out" | od -An -tx1)"
assert_eq "binary stderr exact" "$(printf 'E\001\002' | od -An -tx1)" "$(od -An -tx1 <"$SCRATCH/logs.err")"
assert_eq "kept exactly the bound, then the marker" 1000 "$(( $(stat -c %s "$SCRATCH/logs.out") - $(printf '\n[aegis: output truncated]\n' | wc -c) ))"
check "marker at the end" grep -q 'aegis: output truncated' "$SCRATCH/logs.out"

# --- attach: what a running container writes from then on, as it writes it --------------
# (how a warm iteration's output and exit report arrive: run.c, run_pool_attach())
at="$(P create attach 1 -- sh -c 'echo before; while [ ! -e /tmp/go ]; do sleep 0.05; done; echo out; echo err >&2; sleep 1; echo late' | kv id)"
P start "$at" >/dev/null || fail "start for attach failed"
said_before() { papi GET "/containers/$at/logs?stdout=1" | grep -q before; }
wait_for 10 said_before || fail "the container to attach to did not start"
P attach "$at" >"$SCRATCH/attach.out" 2>"$SCRATCH/attach.err" & apid=$!
check "attach: told once the engine is attached" wait_for 10 grep -q '^attached$' "$SCRATCH/attach.err"
podman_cmd exec "$at" touch /tmp/go
attach_ended() { ! kill -0 "$apid" 2>/dev/null; }
check "attach: ends when the container stops" wait_for 20 attach_ended
wait "$apid"; rc=$?
assert_eq "attach: succeeds" 0 "$rc"
assert_eq "attach: stdout from the attach on, not what came before" "$(printf 'out\nlate')" "$(cat "$SCRATCH/attach.out")"
assert_eq "attach: stderr apart" "$(printf 'attached\nerr')" "$(cat "$SCRATCH/attach.err")"
P remove "$at" >/dev/null
out="$(P attach "$at" 2>&1)"; rc=$?
assert_eq "attach to a removed container fails" 1 "$rc"
assert_match "… with the engine's status and message" "HTTP 404: .*no such container" "$out"

# --- attach before start: how a created iteration's container runs ----------------------
# (run.c, run_gated_start(): the attach's end says when the command ended, and inspect has
# its status then, well before the engine's wait answers)
ca="$(P create attach 2 -- sh -c 'echo first; echo err >&2; exit 3' | kv id)"
P attach "$ca" >"$SCRATCH/cattach.out" 2>"$SCRATCH/cattach.err" & apid=$!
check "attach to a created container: told once attached" wait_for 10 grep -q '^attached$' "$SCRATCH/cattach.err"
assert_eq "… and it has not started" created "$(P inspect "$ca" | kv status)"
P start "$ca" >/dev/null || fail "start after an attach failed"
wait "$apid"; rc=$?
assert_eq "… the attach ends with the container, successfully" 0 "$rc"
stopped() { P inspect "$ca" >"$SCRATCH/cinspect" && [ "$(kv running <"$SCRATCH/cinspect")" = 0 ]; }
check "… and inspect soon says it is not running" wait_for 5 stopped
assert_eq "… exited, with the command's status" "exited 3" "$(kv status <"$SCRATCH/cinspect") $(kv exit <"$SCRATCH/cinspect")"
check "… and when it finished" test "$(kv finished <"$SCRATCH/cinspect")" -gt 0
assert_eq "… stdout from its first line" first "$(cat "$SCRATCH/cattach.out")"
assert_eq "… stderr apart" "$(printf 'attached\nerr')" "$(cat "$SCRATCH/cattach.err")"
P remove "$ca" >/dev/null

# --- stop / kill / remove ---------------------------------------------------------------
a="$(P create sleeper 1 -- sleep 600 | kv id)"
b="$(P create sleeper 2 -- sleep 600 | kv id)"
P start "$a" >/dev/null && P start "$b" >/dev/null || fail "start failed"
st="$(P stats "$a")"
assert_match "stats: CPU time known" "cpu_nsec=[0-9]+" "$st"
assert_match "stats: memory limit known" "memory_limit=[0-9]+" "$st"
assert_match "stats: pids" "pids=(1|unknown)" "$st"
t0=$(date +%s%N)
P stop "$a" 1 >/dev/null || fail "stop failed"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
note "stop with a 1 s timeout took ${ms} ms"
assert_eq "stopped sleeper: exited 137 (SIGKILL after the timeout)" "exited 137" "$(P inspect "$a" | kv status) $(P inspect "$a" | kv exit)"
P kill "$b" >/dev/null || fail "kill failed"
P wait "$b" >"$SCRATCH/w"
assert_eq "killed sleeper: wait reports 137" 137 "$(kv exit <"$SCRATCH/w")"
out="$(P kill "$b" 2>&1)"; rc=$?
assert_eq "kill of a stopped container fails" 1 "$rc"
assert_match "… saying it is not running" "state improper|not running" "$out"

# --- list by label: exactly ours --------------------------------------------------------
podman_cmd run -d --name foreign --label aegis.managed=false "$TEST_IMAGE" sleep 600 >/dev/null
podman_cmd create --name unlabelled "$TEST_IMAGE" true >/dev/null
assert_eq "list of aegis.managed=true sees exactly our two" "$(printf '%s\n' "$a" "$b" | sort)" "$(P list | awk '{print $1}' | sort)"
assert_eq "list by execution label" "$(printf '%s\n' "$a" "$b" | sort)" "$(P list aegis.execution_id=sleeper | awk '{print $1}' | sort)"
assert_eq "list names" "aegis-sleeper-1 aegis-sleeper-2" "$(P list | awk '{print $2}' | sort | xargs)"
P remove "$a" >/dev/null; P remove "$b" >/dev/null
assert_eq "removed: nothing of ours left" "" "$(P list)"
assert_eq "remove of a container already gone succeeds" "remove=ok" "$(P remove "$a")"
out="$(P inspect "$a" 2>&1)"; rc=$?
assert_eq "inspect of a removed container fails" 1 "$rc"
assert_match "… with the engine's status and message" "HTTP 404: .*no such container" "$out"
podman_cmd rm -f foreign unlabelled >/dev/null

# --- images: pull policies ---------------------------------------------------------------
out="$(P ensure localhost/aegis-no-such-image:1 Never 2>&1)"; rc=$?
assert_eq "Never with a missing image fails" 1 "$rc"
assert_match "… saying so and how to fix it" "not present and image_pull_policy is Never.*podman pull localhost/aegis-no-such-image:1" "$out"
check "… and did not pull" bash -c "! grep -q 'aegis-no-such-image' '$PODMAN_DIR/service.log' || ! grep -q 'images/create' '$PODMAN_DIR/service.log'"
assert_match "Never with a present image succeeds" "^image=sha256:" "$(P ensure "$TEST_IMAGE" Never)"
assert_match "IfNotPresent with a present image does not pull" "^image=sha256:" "$(P ensure "$TEST_IMAGE" IfNotPresent)"
t0=$(date +%s%N)
out="$(P ensure registry.invalid/aegis/agent:1 IfNotPresent 20 2>&1)"; rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
assert_eq "a pull from an unreachable registry fails" 1 "$rc"
assert_match "… with the engine's reason" "pulling image registry.invalid/aegis/agent:1.*registry.invalid" "$out"
check "… fast (${ms} ms, bound 20 s)" test "$ms" -lt 15000
out="$(P ensure registry.invalid/aegis/agent:1 Always 20 2>&1)"; rc=$?
assert_eq "Always pulls (and fails the same way here)" 1 "$rc"
out="$(P run badimg 1 image=localhost/aegis-no-such-image:1 -- true 2>&1)"; rc=$?
assert_eq "create with a missing image fails" 1 "$rc"

# --- engine volumes ---------------------------------------------------------------------
assert_eq "volume create" volume=ok "$(P volume create aegis-vol-test type=tmpfs device=tmpfs o=mode=0711)"
out="$(P volume inspect aegis-vol-test)"
assert_match "volume inspect shows its driver options" "option=type=tmpfs" "$out"
out="$(P volume create aegis-vol-test type=tmpfs device=tmpfs 2>&1)"; rc=$?
assert_eq "creating an existing volume fails" 1 "$rc"
assert_match "… saying why (the engine would ignore new options)" "already exists.*ignore the new driver options" "$out"
prun volmount 1 volume=aegis-vol-test:/workspace "out=$SCRATCH/vol.out" -- \
        sh -c 'grep " /workspace " /proc/mounts | cut -d" " -f3,4' >/dev/null
assert_match "a volume created with driver options is mounted with them" "^tmpfs .*mode=711" "$(cat "$SCRATCH/vol.out")"
assert_eq "volume remove" volume=ok "$(P volume remove aegis-vol-test)"
assert_eq "volume gone" exists=0 "$(P volume inspect aegis-vol-test | head -1)"
assert_eq "removing a missing volume succeeds" volume=ok "$(P volume remove aegis-vol-test)"
assert_eq "nothing of ours leaked" "" "$(podman_managed_ids)"
finish
