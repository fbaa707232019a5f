#!/bin/bash
# tools/check-commits.sh — commit subjects as HACKING.md asks: at most 72 characters, of the
# form `area: summary`. Checks the commits made after a fixed base (the rule holds from there
# on; older history is left as it is) and names each one that breaks it.
#
#   tools/check-commits.sh [--base REV] [--base-time EPOCH] [-C DIR]
#
# With the base in the history: base..HEAD. Without it (a shallow clone, or a repository that
# never had it): every commit that exists whose committer time is after the base's (given
# with --base-time, known below for the default base); with neither, every commit that
# exists. So a missing base narrows nothing silently: what is there is checked.
# Merge commits ("Merge branch …") are checked for length only.
# Exit 0: all good (or not a git checkout: nothing to check); 1: a subject breaks the rule;
# 2: usage or git error.
set -uo pipefail

SUBJECT_MAX=72
base=c08d9707d1afc144cf249b9e3ebce896b483af37 # "llm: the providers' interface for the inner loop"
base_time=1796468642                             # its committer time (2026-12-05 11:04:02 UTC)
dir=.

while [ $# -gt 0 ]; do
        case "$1" in
        --base) base="$2"; base_time=""; shift 2 ;;
        --base-time) base_time="$2"; shift 2 ;;
        -C) dir="$2"; shift 2 ;;
        -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "check-commits: unknown argument \"$1\" (see --help)" >&2; exit 2 ;;
        esac
done

if ! git -C "$dir" rev-parse --git-dir >/dev/null 2>&1; then
        echo "check-commits: $dir is not a git checkout: nothing to check"
        exit 0
fi
if ! git -C "$dir" rev-parse --verify -q HEAD >/dev/null; then
        echo "check-commits: no commits yet: nothing to check"
        exit 0
fi

# One line per commit: hash, parent count, committer time, subject (tab-separated).
fmt='%H%x09%P%x09%ct%x09%s'
if git -C "$dir" rev-parse --verify -q "$base^{commit}" >/dev/null; then
        range="$base..HEAD"
        commits="$(git -C "$dir" log --format="$fmt" "$range")" || exit 2
        scope="commits after ${base:0:12}"
else
        commits="$(git -C "$dir" log --format="$fmt" HEAD)" || exit 2
        if [ -n "$base_time" ]; then
                scope="base ${base:0:12} not in this clone: commits after $(date -u -d "@$base_time" '+%F %T' 2>/dev/null || echo "$base_time") UTC"
                commits="$(awk -F '\t' -v t="$base_time" '$3 > t' <<<"$commits")"
        else
                scope="base ${base:0:12} not in this clone: every commit there is"
        fi
fi

area_re='^[A-Za-z0-9_.][A-Za-z0-9_./{},+-]*(, [A-Za-z0-9_.][A-Za-z0-9_./{},+-]*)*: [^ ]'
bad=0 n=0
while IFS=$'\t' read -r hash parents _ subject; do
        [ -n "$hash" ] || continue
        n=$((n + 1))
        short="${hash:0:12}"
        len="${#subject}"
        if [ "$len" -gt "$SUBJECT_MAX" ]; then
                echo "check-commits: $short \"$subject\": subject is $len characters, at most $SUBJECT_MAX (put the rest in the body)" >&2
                bad=$((bad + 1))
                continue
        fi
        # A merge ("Merge branch …") has more than one parent.
        [ "$(wc -w <<<"$parents")" -gt 1 ] && continue
        if ! [[ "$subject" =~ $area_re ]]; then
                echo "check-commits: $short \"$subject\": subject is not \"area: summary\" (e.g. \"nfsd: count every inode against the quota\")" >&2
                bad=$((bad + 1))
        fi
done <<<"$commits"

if [ "$bad" -gt 0 ]; then
        echo "check-commits: $bad of $n commit(s) ($scope) break the subject rule (HACKING.md, \"Commits\"); reword them with git rebase -i" >&2
        exit 1
fi
echo "check-commits: $n commit(s) checked ($scope): subjects fine"
