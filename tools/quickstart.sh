#!/bin/bash
# tools/quickstart.sh — from a fresh checkout: dependencies, build, then the main job.
set -euo pipefail
top="$(cd "$(dirname "$0")/.." && pwd)"
cd "$top"
[ "${AEGIS_SKIP_DEPS:-}" = 1 ] || "$top/tools/deps.sh"
[ -x configure ] || ./autogen.sh >/dev/null
mkdir -p build && cd build
[ -f Makefile ] || ../configure -q
make -s -j"$(nproc)"
echo "quickstart: built."
