#!/bin/bash
# In bind mode nothing stops writes, so aegisd measures each volume after an iteration; a
# volume it cannot measure fails the quota check closed (issue 19: a walk that hit its entry
# limit counted as within quota). With storage.volume_max_entries: 50, an agent that leaves
# 100 empty files (0 bytes, far under size_limit) fails with quota_exceeded naming the limit;
# one that leaves 20 succeeds.
. "$AEGIS_TEST_LIB/podman.sh"
. "$AEGIS_TEST_LIB/executions.sh"
require_cmd jq
podman_start
aegisd_start a "storage:
  root: \"$SCRATCH/storage\"
  mount_mode: bind
  volume_max_entries: 50"

files() { # files NAME N: a manifest leaving N empty files in its volume
        manifest "$1" "i=0; while [ \$i -lt $2 ]; do : >/workspace/f\$i; i=\$((i + 1)); done; echo wrote" '  execution:
    max_iterations: 1
  volumes:
    - name: work
      mount_path: /workspace
      size_limit: 10Mi'
}
id="$(api POST /v1/executions -H 'Content-Type: application/yaml' --data-binary @"$(files many 100)" | jq -r .execution_id)"
wait_status "$id" failed 60 || fail "100 entries over a limit of 50 did not fail: $(execution_field "$id" .status)"
assert_match "the reason names the entry limit" \
        'quota_exceeded: volume "work" at /workspace holds more than 50 files, directories and links \(storage.volume_max_entries\)' \
        "$(execution_field "$id" .iterations[0].reason)"
id="$(api POST /v1/executions -H 'Content-Type: application/yaml' --data-binary @"$(files few 20)" | jq -r .execution_id)"
wait_status "$id" completed 60 || fail "20 entries under the limit did not complete: $(execution_field "$id" .iterations[0].reason)"
finish
