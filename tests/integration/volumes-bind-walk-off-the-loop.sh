#!/bin/bash
# In bind mode aegisd measures a volume after each iteration by walking it, which takes about
# a second per few hundred thousand files; the walk runs on a worker thread, so the API keeps
# answering meanwhile (issue 19). A volume holding 300,000 empty files (planted from the
# host) is attached to an execution; while its iteration ends and the volume is walked,
# GET /health is asked every 50 ms: no answer may take more than half of what one walk of
# that directory takes here. The walk still decides: the execution completes within its
# size_limit, and a limit of 10 entries fails it closed.
. "$AEGIS_TEST_LIB/podman.sh"
. "$AEGIS_TEST_LIB/executions.sh"
require_cmd jq python3
podman_start
ROOT="$SCRATCH/storage"
aegisd_start a "storage:
  root: \"$ROOT\"
  mount_mode: bind"

assert_eq "standalone volume created" 201 \
        "$(api_status POST /v1/volumes -H 'Content-Type: application/json' -d '{"name":"big","size_limit":"1Gi"}')"
vol="$(api GET /v1/volumes | jq -r '.volumes[] | select(.name == "big") | .id')"
walk_secs="$(python3 - "$ROOT/default/$vol" <<'PY'
import os, sys, time
d = sys.argv[1]
for i in range(300):
    sub = os.path.join(d, "d%d" % i)
    os.mkdir(sub)
    for j in range(1000):
        os.close(os.open(os.path.join(sub, "f%d" % j), os.O_CREAT | os.O_WRONLY, 0o644))
t = time.monotonic()
n = sum(len(files) + len(dirs) for _, dirs, files in os.walk(d))
for root, dirs, files in os.walk(d):
    for f in files:
        os.lstat(os.path.join(root, f))
print("%.3f" % (time.monotonic() - t))
PY
)"
note "one walk of 300,300 entries takes ${walk_secs}s here"
m="$(manifest walked 'echo ran' "  volumes:
    - name: big
      mount_path: /workspace
      volume_id: $vol")"
id="$(aegis -q submit "$m")"
python3 - "$AEGIS_URL" "$id" >"$SCRATCH/latency" <<'PY'
import json, sys, time, urllib.request
url, id = sys.argv[1:3]
worst, deadline = 0.0, time.monotonic() + 120
while time.monotonic() < deadline:
    t = time.monotonic()
    urllib.request.urlopen(url + "/health", timeout=30).read()
    worst = max(worst, time.monotonic() - t)
    st = json.load(urllib.request.urlopen(url + "/v1/executions/" + id, timeout=30))["status"]
    if st not in ("pending", "running"):
        break
    time.sleep(0.05)
print("%.3f %s" % (worst, st))
PY
read -r worst status <"$SCRATCH/latency"
note "the slowest /health answer took ${worst}s"
assert_eq "the execution completed within its size_limit" completed "$status"
check "a walk here takes long enough to show (≥ 0.3 s)" python3 -c "import sys; sys.exit(not $walk_secs >= 0.3)"
check "/health never waited for the walk (slowest ${worst}s, walk ${walk_secs}s)" \
        python3 -c "import sys; sys.exit(not $worst < $walk_secs / 2)"
aegisd_stop a

# The same walk past storage.volume_max_entries still fails the quota check closed.
AEGIS_DATABASE_URL="sqlite://$SCRATCH/aegisd-a/state/aegis.db" aegisd_start b "storage:
  root: \"$ROOT\"
  mount_mode: bind
  volume_max_entries: 10"
m="$(manifest refused 'echo ran' "  execution:
    max_iterations: 1
  volumes:
    - name: big
      mount_path: /workspace
      volume_id: $vol")"
id="$(aegis -q submit "$m")"
wait_status "$id" failed 60 || fail "a volume past its entry limit did not fail: $(execution_field "$id" .status)"
assert_match "the reason names the entry limit" 'quota_exceeded: volume "big" at /workspace holds more than 10 files' \
        "$(execution_field "$id" .iterations[0].reason)"
finish
