#!/bin/bash
# configure stops on each missing library and names the Debian package that provides it
# (issue 2): for every library configure.ac requires, a run with a pkg-config search path
# holding every .pc file of this host but that library's must fail with exactly
# "<module> not found: install the Debian package <pkg> (apt-get install <pkg>)".
. "$AEGIS_TEST_LIB/common.sh"
require_cmd pkg-config
make_scratch
# module (as configure.ac asks for it) → .pc name → Debian package
table="libsystemd_>=_247 libsystemd libsystemd-dev
libcurl_>=_7.74 libcurl libcurl4-openssl-dev
json-c_>=_0.15 json-c libjson-c-dev
yaml-0.1 yaml-0.1 libyaml-dev
libpq libpq libpq-dev
sqlite3_>=_3.31 sqlite3 libsqlite3-dev
libtirpc libtirpc libtirpc-dev
libseccomp_>=_2.5 libseccomp libseccomp-dev
libmicrohttpd_>=_0.9.71 libmicrohttpd libmicrohttpd-dev
libgcrypt_>=_1.8 libgcrypt libgcrypt20-dev
libpcre2-8_>=_10.34 libpcre2-8 libpcre2-dev
libxml-2.0_>=_2.9 libxml-2.0 libxml2-dev
check_>=_0.15 check check"
check "configure.ac requires exactly these thirteen libraries" \
        test "$(grep -c '^AEGIS_REQUIRE(\[' "$top_srcdir/configure.ac")" -eq 13
IFS=: read -ra pcdirs <<<"$(pkg-config --variable pc_path pkg-config)"
while read -r module pc pkg; do
        module="${module//_/ }"
        d="$SCRATCH/pc-$pc" b="$SCRATCH/build-$pc"
        mkdir -p "$d" "$b"
        for dir in "${pcdirs[@]}"; do
                [ -d "$dir" ] && find "$dir" -maxdepth 1 -name '*.pc' ! -name "$pc.pc" -exec ln -sf {} "$d/" \;
        done
        err="$(cd "$b" && PKG_CONFIG_LIBDIR="$d" PKG_CONFIG_PATH= "$top_srcdir/configure" -q 2>&1 >/dev/null)"
        rc=$?
        check "without $pc.pc configure fails (status $rc)" test "$rc" -ne 0
        assert_eq "… naming the package $pkg" \
                "configure: error: $module not found: install the Debian package $pkg (apt-get install $pkg)" \
                "$(grep '^configure: error:' <<<"$err")"
done <<<"$table"
finish
