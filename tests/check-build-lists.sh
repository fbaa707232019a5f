#!/bin/bash
# Every C source and header under src/ is named in the build's lists (Makefile.am and the
# .mk files it includes), so that `make dist` (and the .deb and .rpm built from it) carries
# it: a header missing there builds here and fails only in the packages.
srcdir="${top_srcdir:-.}"
missing=0
while IFS= read -r f; do
        rel="${f#"$srcdir"/}"
        if ! grep -qF -- "$rel" "$srcdir/Makefile.am" "$srcdir"/src/*/*.mk "$srcdir/tests/tests.mk"; then
                echo "not in any build list (Makefile.am, src/*/*.mk): $rel" >&2
                missing=$((missing + 1))
        fi
done < <(find "$srcdir/src" -name '*.[ch]' | sort)
[ "$missing" -eq 0 ] || { echo "add them to the _SOURCES of the program or library they belong to" >&2; exit 1; }
echo "every source and header under src/ is in a build list"
