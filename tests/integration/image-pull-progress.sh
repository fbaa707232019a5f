#!/bin/bash
# Image pulls report progress (issue 17): an execution whose image is only in a local registry
# (Debian's docker-registry, on a free port with scratch storage) pulls it, and aegisd emits
# image_pull_progress events (bytes and layers, byte counts that only grow, a final one saying
# it completed); `aegis run` shows the progress while it follows the execution.
#
# The registry is reached through a throttling proxy (~2 MiB/s) so that a pull of an 8 MiB
# layer lasts a few seconds: the engine reports bytes about once a second.
. "$AEGIS_TEST_LIB/podman.sh"
. "$AEGIS_TEST_LIB/executions.sh"
require_cmd jq python3 docker-registry
make_scratch

# The registry, and the private engine told that it speaks plain HTTP.
rport="$(free_port)"
pport="$(free_port)"
mkdir -p "$SCRATCH/registry"
cat >"$SCRATCH/registry.yaml" <<YAML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $SCRATCH/registry
http:
  addr: 127.0.0.1:$rport
YAML
docker-registry serve "$SCRATCH/registry.yaml" >"$SCRATCH/registry.log" 2>&1 &
registry_pid=$!
on_exit "kill $registry_pid 2>/dev/null; wait $registry_pid 2>/dev/null"
cat >"$SCRATCH/registries.conf" <<CONF
[[registry]]
location = "127.0.0.1:$pport"
insecure = true

[[registry]]
location = "127.0.0.1:$rport"
insecure = true
CONF
export CONTAINERS_REGISTRIES_CONF="$SCRATCH/registries.conf"

# Forwards 127.0.0.1:$pport to the registry, its answers at about 2 MiB/s.
cat >"$SCRATCH/throttle.py" <<'PY'
import asyncio, sys
listen, upstream, rate = int(sys.argv[1]), int(sys.argv[2]), 2 * 1024 * 1024

async def pipe(reader, writer, throttle):
    try:
        while True:
            data = await reader.read(32768)
            if not data:
                break
            writer.write(data)
            await writer.drain()
            if throttle:
                await asyncio.sleep(len(data) / rate)
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()

async def handle(cr, cw):
    try:
        ur, uw = await asyncio.open_connection("127.0.0.1", upstream)
    except OSError:
        cw.close()
        return
    await asyncio.gather(pipe(cr, uw, False), pipe(ur, cw, True))

async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", listen)
    async with server:
        await server.serve_forever()

asyncio.run(main())
PY
python3 "$SCRATCH/throttle.py" "$pport" "$rport" >"$SCRATCH/throttle.log" 2>&1 &
proxy_pid=$!
on_exit "kill $proxy_pid 2>/dev/null; wait $proxy_pid 2>/dev/null"

podman_start
wait_for 20 curl -sf "http://127.0.0.1:$rport/v2/" || fail "the registry did not come up: $(tail -5 "$SCRATCH/registry.log")"

# The image: the busybox rootfs plus 8 MiB that do not compress, in one layer.
mkdir -p "$SCRATCH/rootfs"
tar -C "$SCRATCH/rootfs" -xf "$(busybox_tar)"
head -c $((8 * 1024 * 1024)) /dev/urandom >"$SCRATCH/rootfs/ballast"
tar -C "$SCRATCH/rootfs" -cf "$SCRATCH/big.tar" .
podman_cmd import -q "$SCRATCH/big.tar" "127.0.0.1:$rport/aegis/pull-test:1" >/dev/null || fail "cannot import the image"
podman_cmd push -q --tls-verify=false "127.0.0.1:$rport/aegis/pull-test:1" >/dev/null 2>"$SCRATCH/push.err" ||
        fail "cannot push to the local registry: $(cat "$SCRATCH/push.err")"
podman_cmd rmi -f "127.0.0.1:$rport/aegis/pull-test:1" >/dev/null || fail "cannot remove the local copy"

aegisd_start
m="$(manifest pulled 'echo pulled-ok' '  execution:
    max_iterations: 1')"
sed -i -e "s|image: .*|image: 127.0.0.1:$pport/aegis/pull-test:1|" \
        -e "s|image_pull_policy: .*|image_pull_policy: IfNotPresent|" "$m"
out="$(aegis run "$m" 2>&1)"
rc=$?
echo "$out"
assert_eq "aegis run exits 0" 0 "$rc"
assert_match "the agent ran from the pulled image" 'pulled-ok' "$out"
assert_match "aegis run shows the pull's progress" \
        "pulling 127.0.0.1:$pport/aegis/pull-test:1: [0-9.]+ [KM]i?B / [0-9.]+ MiB, [0-9]+/[0-9]+ layers" "$out"
assert_match "aegis run says the pull completed" "pulled 127.0.0.1:$pport/aegis/pull-test:1: .*layers" "$out"

# The events: replayed for the finished execution.
id="$(aegis list --output json | jq -r '.executions[0].id')"
curl -s --max-time 10 "$AEGIS_URL/v1/executions/$id/events" | sed -n 's/^data: //p' |
        jq -c 'select(.type == "image_pull_progress")' >"$SCRATCH/pull-events"
cat "$SCRATCH/pull-events"
n="$(wc -l <"$SCRATCH/pull-events")"
[ "$n" -ge 3 ] || fail "expected at least 3 image_pull_progress events (start, progress, final), got $n"
assert_eq "every event names the image" "$n" \
        "$(jq -r .image "$SCRATCH/pull-events" | grep -cx "127.0.0.1:$pport/aegis/pull-test:1")"
assert_eq "one final event, the last, completed" "true completed" \
        "$(tail -n1 "$SCRATCH/pull-events" | jq -r '"\(.final) \(.status)"')"
assert_eq "only the last is final" 1 "$(jq -r 'select(.final)' "$SCRATCH/pull-events" | jq -s length)"
# Byte counts: at least two different partial readings, never decreasing, the final one whole.
jq -s -e '[.[] | select(.bytes_total != null)] | length >= 2' "$SCRATCH/pull-events" >/dev/null ||
        fail "fewer than two events with byte counts"
jq -s -e '[.[] | select(.bytes_done != null) | .bytes_done] as $b
        | ($b | length) >= 3 and ([range(1; $b | length) | $b[.] >= $b[. - 1]] | all)
        and ($b | unique | length) >= 3' "$SCRATCH/pull-events" >/dev/null ||
        fail "byte counts do not grow over at least three readings"
last="$(tail -n1 "$SCRATCH/pull-events")"
[ "$(jq -r .bytes_total <<<"$last")" -ge $((8 * 1024 * 1024)) ] || fail "the final byte total is below 8 MiB: $last"
assert_eq "the final event has every byte" "$(jq -r .bytes_total <<<"$last")" "$(jq -r .bytes_done <<<"$last")"
assert_eq "the final event has every layer" "$(jq -r .layers_total <<<"$last")" "$(jq -r .layers_done <<<"$last")"
[ "$(jq -r .layers_total <<<"$last")" -ge 1 ] || fail "no layers counted: $last"

# aegis events prints them with the same text.
ev="$(aegis events "$id")"
assert_match "aegis events shows the pull" "image_pull_progress.*"$'\n'"    pulling 127.0.0.1:$pport" "$ev"

# On a terminal the status line shows it (aegis wait replays the finished execution's events).
script -qfc "stty cols 200; '$AEGIS_CLI' --url '$AEGIS_URL' wait $id" "$SCRATCH/tty.out" >/dev/null 2>&1
tr '\r' '\n' <"$SCRATCH/tty.out" | sed 's/\x1b\[K//g' >"$SCRATCH/tty.lines"
check "the status line shows the pull's bytes" \
        grep -qE "^${id:0:12}  iteration 1/1  .*pulling 127.0.0.1:$pport/aegis/pull-test:1: [0-9.]+ [KM]i?B / [0-9.]+ MiB" "$SCRATCH/tty.lines"

# The pull was counted.
mport="$(sed -n 's/^  metrics_listen: "127.0.0.1:\([0-9]*\)"/\1/p' "$SCRATCH/aegisd-a/config.yaml")"
assert_match "the pull was counted" 'aegis_image_pulls_total\{result="ok"\} 1' "$(curl -s "http://127.0.0.1:$mport/metrics")"
assert_no_managed_containers
finish
