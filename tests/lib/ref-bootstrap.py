#!/usr/bin/env python3
"""A client of the dispatch protocol written from aegis-bootstrap(8) for the tests: it
stands in for the reference's bootstrap.py (spec.advanced.bootstrap_path) and, like it,
speaks HTTP over TCP to $AEGIS_ORCHESTRATOR_URL and knows nothing of unix sockets.

  ref-bootstrap.py PROMPT

POSTs "generate" to $AEGIS_ORCHESTRATOR_URL/v1/dispatch-gateway, runs each "exec"
dispatch through the shell (as the reference does; any other action, such as "fs", is
answered as not run, exit code -1), posts its dispatch_result, and prints
the final content with print() (a newline added, as the reference does). An error answer
is printed on stderr and ends with status 1. stdlib only."""
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request


def post(payload):
    url = os.environ["AEGIS_ORCHESTRATOR_URL"].rstrip("/") + "/v1/dispatch-gateway"
    req = urllib.request.Request(url, data=json.dumps(payload).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=None) as resp:
            return json.loads(resp.read().decode())
    except urllib.error.HTTPError as e:
        print(f"Error: Orchestrator returned HTTP {e.code}: {e.read().decode()}", file=sys.stderr)
        sys.exit(1)


def run(msg, execution_id):
    if msg.get("action", "exec") != "exec":
        # as aegis-bootstrap answers an action it does not know: nothing ran
        return {"type": "dispatch_result", "execution_id": execution_id,
                "dispatch_id": msg["dispatch_id"], "exit_code": -1, "stdout": "",
                "stderr": "unknown_action:%s" % msg.get("action"), "duration_ms": 0,
                "truncated": False}
    command = msg["command"]
    args = msg.get("args") or []
    if args:
        command += " " + " ".join("'" + a.replace("'", "'\\''") + "'" for a in args)
    env = dict(os.environ)
    env.update(msg.get("env_additions", {}))
    start = time.monotonic()
    try:
        p = subprocess.run(command, shell=True, cwd=msg.get("cwd", "/workspace"), env=env,
                           stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=msg.get("timeout_secs", 60))
        code, out, err = p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        code, out, err = -1, e.stdout or b"", (e.stderr or b"") + b"timed out"
    except OSError as e:
        code, out, err = 127, b"", str(e).encode()
    return {"type": "dispatch_result", "execution_id": execution_id,
            "dispatch_id": msg["dispatch_id"], "exit_code": code,
            "stdout": out.decode(errors="replace"), "stderr": err.decode(errors="replace"),
            "duration_ms": int((time.monotonic() - start) * 1000), "truncated": False}


def main():
    execution_id = os.environ.get("AEGIS_EXECUTION_ID")
    msg = post({"type": "generate", "agent_id": os.environ.get("AEGIS_AGENT_ID", ""),
                "execution_id": execution_id,
                "iteration_number": int(os.environ.get("AEGIS_ITERATION", "1")),
                "model_alias": os.environ.get("AEGIS_MODEL_ALIAS", "default"),
                "prompt": sys.argv[1], "messages": []})
    while msg.get("type") == "dispatch":
        msg = post(run(msg, execution_id))
    print(msg.get("content", ""))


if __name__ == "__main__":
    main()
