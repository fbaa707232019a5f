#!/bin/bash
# tools/check-format.sh — fails on C files clang-format would change and on banned functions.
# Usage: tools/check-format.sh [--fix]   (run from anywhere; also runs as a test in `make check`)
set -u -o pipefail
top="${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}"
cd "$top" || exit 99
if [ -d .git ] || git rev-parse --git-dir >/dev/null 2>&1; then
        mapfile -t files < <(git ls-files -co --exclude-standard -- 'src/*.c' 'src/*.h' 'tests/*.c' 'tests/*.h' 'bench/*.c' 'fuzz/*.c' | while read -r f; do [ -f "$f" ] && echo "$f"; done)
else
        mapfile -t files < <(find src tests bench fuzz -name '*.[ch]' 2>/dev/null | grep -v -E '/(nfs3|mount3)\.(h|c)$|_xdr\.c$')
fi
# Generated XDR code is not ours to format.
mapfile -t files < <(printf '%s\n' "${files[@]}" | grep -v -E '(^|/)(nfs3|mount3)(_xdr)?\.[ch]$|_xdr\.c$|^$')
rc=0
if ! command -v clang-format >/dev/null; then
        if [ "${CI:-}" = true ]; then echo "check-format: clang-format missing (apt-get install clang-format)" >&2; exit 1; fi
        echo "check-format: clang-format missing, skipping" >&2; exit 77
fi
if [ "${1:-}" = --fix ]; then
        clang-format -i "${files[@]}"
        exit 0
fi
for f in "${files[@]}"; do
        if ! clang-format --dry-run -Werror "$f" >/dev/null 2>&1; then
                echo "check-format: $f is not formatted (run tools/check-format.sh --fix)" >&2
                rc=1
        fi
done
# Banned: unbounded or thread-unsafe string functions (see STYLE).
banned='\b(sprintf|vsprintf|strcpy|strcat|strtok|gets|atoi|atol|atoll)[[:space:]]*\('
if grep -n -E "$banned" "${files[@]}" | grep -v -E '^\S+:[0-9]+:\s*(/\*|\*)' ; then
        echo "check-format: banned function used (use snprintf, strncpy/memcpy with bounds, strtok_r, safe_atoi…)" >&2
        rc=1
fi
exit $rc
