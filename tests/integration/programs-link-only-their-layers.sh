#!/bin/bash
# Each program links the external libraries of the layers it uses and no others (HACKING.md,
# "Layers"): aegis and aegis-reaper link neither libmicrohttpd (aegisd's HTTP layer) nor
# libtirpc or libseccomp (aegis-nfsd's), so a client or a timer unit does not load a server's
# libraries. aegisd and aegis-nfsd, which do, show that ldd sees them at all.
. "$AEGIS_TEST_LIB/common.sh"
require_cmd ldd

needed() { # needed PROGRAM: the shared libraries' sonames it needs, one a line
        [ -x "$top_builddir/$1" ] || fail "$1 not built in $top_builddir"
        ldd "$top_builddir/$1" | awk '{ print $1 }'
}
links() { needed "$1" | grep -q "^$2"; }

for p in aegis aegis-reaper; do
        for l in libmicrohttpd libtirpc libseccomp; do
                check "$p does not link $l" eval "! links $p $l"
        done
done
check "aegisd links libmicrohttpd" links aegisd libmicrohttpd
check "aegis-nfsd links libtirpc" links aegis-nfsd libtirpc
check "aegis-nfsd links libseccomp" links aegis-nfsd libseccomp
check "aegis-nfsd does not link libmicrohttpd" eval "! links aegis-nfsd libmicrohttpd"
finish
