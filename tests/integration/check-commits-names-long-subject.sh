#!/bin/bash
# tools/check-commits.sh fails on a commit after the base whose subject is over 72 characters
# or not "area: summary", naming the commit; it passes good subjects, leaves commits before
# the base alone, and without the base in the clone (shallow) still checks what is there by
# date rather than passing it. Throwaway git repositories in a scratch directory.
. "$AEGIS_TEST_LIB/common.sh"
require_cmd git
CHECK="$top_srcdir/tools/check-commits.sh"
make_scratch
export GIT_CONFIG_NOSYSTEM=1 HOME="$SCRATCH" GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.org \
        GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@example.org
R="$SCRATCH/repo"
git init -q "$R" || fail "git init"
c() { # c EPOCH SUBJECT: an empty commit at that time
        GIT_AUTHOR_DATE="@$1 +0000" GIT_COMMITTER_DATE="@$1 +0000" git -C "$R" commit -q --allow-empty -m "$2"
}
long="aegisd: $(printf 'x%.0s' $(seq 1 70))" # 78 characters
c 1000 "an old subject before the rule, long and without an area, as history has them all over"
c 2000 "base: where the rule starts"
base="$(git -C "$R" rev-parse HEAD)"
c 3000 "nfsd: count every inode against the quota"

out="$("$CHECK" -C "$R" --base "$base" 2>&1)"
check "good subjects after the base pass" test $? -eq 0
assert_match "it says how many it checked" '1 commit\(s\) checked' "$out"

c 4000 "$long"
bad="$(git -C "$R" rev-parse --short=12 HEAD)"
out="$("$CHECK" -C "$R" --base "$base" 2>&1)"
check "a 78-character subject fails" test $? -eq 1
assert_match "the failure names the commit and its length" "$bad \"aegisd: x+\": subject is 78 characters, at most 72" "$out"
assert_match "the summary counts it" '1 of 2 commit\(s\)' "$out"

git -C "$R" reset -q --hard HEAD~1
c 4000 "Fix the thing"
bad="$(git -C "$R" rev-parse --short=12 HEAD)"
out="$("$CHECK" -C "$R" --base "$base" 2>&1)"
check "a subject without an area fails" test $? -eq 1
assert_match "the failure names the commit and the form" "$bad \"Fix the thing\": subject is not \"area: summary\"" "$out"

# A shallow clone without the base: the commits after the base's time are still checked.
git -C "$R" reset -q --hard HEAD~1
c 4000 "$long"
git clone -q --depth 2 "file://$R" "$SCRATCH/shallow" || fail "shallow clone"
check "the shallow clone lacks the base" test -z "$(git -C "$SCRATCH/shallow" rev-parse --verify -q "$base^{commit}")"
out="$("$CHECK" -C "$SCRATCH/shallow" --base "$base" --base-time 2000 2>&1)"
check "without the base, a long subject after its time still fails" test $? -eq 1
assert_match "and it says the base is missing" 'not in this clone' "$out"
out="$("$CHECK" -C "$SCRATCH/shallow" --base "$base" 2>&1)"
check "without the base or its time, every commit there is checked (and fails)" test $? -eq 1

out="$("$CHECK" -C "$SCRATCH" 2>&1)"
check "outside a git checkout there is nothing to check" test $? -eq 0
finish
