#!/bin/bash
# deploy/images/build.sh — `make images`: the images of the `local` profile, made on this
# machine from Debian packages, no registry involved.
#
# Each image is one layer imported with `podman import`: a base made of the host's installed
# Debian packages (libc6, busybox-static; their files as dpkg lists them) plus the image's
# packages and the shared libraries their programs load (ldd). Images and what they hold:
#   localhost/aegis/aegis-runtime:$AEGIS_IMAGE_TAG  this project's .deb ($AEGIS_DEB), unpacked
#   localhost/aegis/postgres:15                     postgresql-15
#   localhost/aegis/postgres-exporter:latest        prometheus-postgres-exporter
#   localhost/aegis/prometheus:latest               prometheus
# The package versions are in each image's /usr/share/aegis-image/packages and its labels.
# Invariant: nothing is pulled; a missing package is named with the apt-get line to install it.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PODMAN="${PODMAN:-podman}"
TAG="${AEGIS_IMAGE_TAG:-latest}"
IMAGES="${*:-aegis-runtime postgres postgres-exporter prometheus}"

die() { printf 'images: %s\n' "$*" >&2; exit 1; }
podman_() { eval "$PODMAN" '"$@"'; }
need_pkg() {
        local p
        for p in "$@"; do
                dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
                        || die "the image needs the Debian package $p: apt-get install $p"
        done
}

WORK="$(mktemp -d "${TMPDIR:-/tmp}/aegis-images.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

# copy ROOT PATH...: each path (file, symlink, or directory without its contents) at the
# same place in ROOT, in one tar pipe.
copy() {
        local root="$1"; shift
        printf '%s\n' "$@" | tar -C / --no-recursion -cf - -T - 2>/dev/null | tar -C "$root" --keep-directory-symlink -xf -
}
# libs ROOT PROGRAM...: the shared libraries (and loader) the programs need, as files.
libs() {
        local root="$1" l; shift
        for l in $(ldd "$@" 2>/dev/null | awk '/=> \//{print $3} /^[[:space:]]*\/[^ ]*ld-linux/{print $1}' | sort -u); do
                [ -e "$root$l" ] || { mkdir -p "$root$(dirname "$l")" && cp -L "$l" "$root$l"; }
        done
}
# pkg ROOT PACKAGE...: the installed package's files, as dpkg lists them.
pkg() {
        local root="$1" p; shift
        need_pkg "$@"
        for p in "$@"; do
                dpkg -L "$p" | grep -v -e '^/usr/share/doc' -e '^/usr/share/man' -e '^/usr/share/lintian' \
                        | tar -C / --no-recursion -cf - -T - 2>/dev/null | tar -C "$root" --keep-directory-symlink -xf -
                dpkg-query -W -f='${Package} ${Version}\n' "$p" >>"$root/usr/share/aegis-image/packages"
        done
}

# The Debian base every image starts from.
base() {
        local root="$1" a
        mkdir -p "$root"/{etc,tmp,run,var/tmp,usr/share/aegis-image} && chmod 1777 "$root/tmp" "$root/var/tmp"
        # The host's /usr layout (merged or not), so that paths dpkg and ldd name resolve alike.
        for a in bin sbin lib lib64; do
                if [ -L "/$a" ]; then mkdir -p "$root/usr/$a" && ln -s "$(readlink "/$a")" "$root/$a"; else mkdir -p "$root/$a"; fi
        done
        : >"$root/usr/share/aegis-image/packages"
        pkg "$root" libc6 busybox-static
        busybox --list | python3 -c 'import os, sys
d = sys.argv[1]
for a in sys.stdin.read().split():
    if not os.path.lexists(os.path.join(d, a)): os.symlink("busybox", os.path.join(d, a))' "$root/bin"
        cat >"$root/etc/passwd" <<EOF
root:x:0:0:root:/root:/bin/sh
postgres:x:101:101:PostgreSQL:/var/lib/postgresql:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
        printf 'root:x:0:\npostgres:x:101:\nnogroup:x:65534:\n' >"$root/etc/group"
        printf 'hosts: files dns\n' >"$root/etc/nsswitch.conf"
        [ -f /etc/ssl/certs/ca-certificates.crt ] && copy "$root" /etc/ssl/certs/ca-certificates.crt
        return 0
}

import() { # import ROOT IMAGE CHANGES...
        local root="$1" image="$2" c args=(); shift 2
        for c in "$@"; do args+=(--change "$c"); done
        tar -C "$root" -cf - . | podman_ import -q "${args[@]}" \
                --change "LABEL org.aegis.packages=$(paste -sd, "$root/usr/share/aegis-image/packages" | tr ' ' '=')" \
                - "$image" >/dev/null || die "podman import $image failed"
        rm -rf "$root"
        echo "built $image"
}

build_aegis_runtime() {
        local root="$WORK/aegis-runtime" deb="${AEGIS_DEB:-}" pq
        [ -n "$deb" ] && [ -f "$deb" ] || die "aegis-runtime is made from this project's .deb: make deb in the build tree, then AEGIS_DEB=/path/to/aegis_VERSION_ARCH.deb"
        base "$root"
        # Unpacked through the base's /lib → usr/lib links (dpkg-deb -x would replace them).
        dpkg-deb --fsys-tarfile "$deb" | tar -C "$root" --keep-directory-symlink -xf - || die "cannot unpack $deb"
        dpkg-deb -f "$deb" Package Version | paste -sd' ' | sed 's/Package: //; s/ Version: / /' >>"$root/usr/share/aegis-image/packages"
        # libpq is dlopen()ed by the store, so ldd does not name it.
        # awk reads to the end: exiting at the match would leave ldconfig writing into a closed
        # pipe, and its SIGPIPE fails the script (pipefail, set -e) with status 141.
        pq="$(ldconfig -p | awk '!f && /libpq\.so\.5 .*x86-64|libpq\.so\.5 \(libc6/{print $NF; f = 1}')"
        [ -n "$pq" ] || die "the image needs libpq5 (PostgreSQL stores): apt-get install libpq5"
        copy "$root" "$pq" "$(readlink -f "$pq")"
        libs "$root" "$root"/usr/sbin/* "$root"/usr/bin/* "$pq"
        mkdir -p "$root/usr/libexec/aegis-deploy" "$root/var/lib/aegis"
        install -m 0755 "$HERE/runtime-entrypoint.sh" "$root/usr/libexec/aegis-deploy/entrypoint"
        import "$root" "localhost/aegis/aegis-runtime:$TAG" \
                'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin' 'EXPOSE 8088' 'EXPOSE 50051' 'EXPOSE 2049' 'EXPOSE 9091' \
                'ENTRYPOINT ["/usr/libexec/aegis-deploy/entrypoint"]'
}

build_postgres() {
        local root="$WORK/postgres" b=/usr/lib/postgresql/15 f
        base "$root"
        pkg "$root" postgresql-15 postgresql-client-15
        need_pkg tzdata
        mkdir -p "$root/usr/share/zoneinfo" && cp -a /usr/share/zoneinfo/UTC /usr/share/zoneinfo/Etc "$root/usr/share/zoneinfo/"
        # No JIT: llvmjit.so would bring libLLVM (100 MB); without it PostgreSQL runs no JIT.
        rm -rf "$root$b/lib/llvmjit"* "$root$b/lib/bitcode"
        local so=()
        for f in "$b"/lib/*.so; do [[ "$f" == */llvmjit* ]] || so+=("$f"); done
        libs "$root" "$b"/bin/* "${so[@]}"
        mkdir -p "$root/var/lib/postgresql/data" "$root/var/run/postgresql"
        chown -R 101:101 "$root/var/lib/postgresql" "$root/var/run/postgresql"
        mkdir -p "$root/usr/libexec/aegis-deploy"
        install -m 0755 "$HERE/postgres-entrypoint.sh" "$root/usr/libexec/aegis-deploy/entrypoint"
        import "$root" localhost/aegis/postgres:15 \
                "ENV PATH=$b/bin:/usr/bin:/bin" 'ENV PGDATA=/var/lib/postgresql/data' 'ENV TZ=UTC' 'EXPOSE 5432' \
                'ENTRYPOINT ["/usr/libexec/aegis-deploy/entrypoint"]'
}

build_postgres_exporter() {
        local root="$WORK/postgres-exporter"
        base "$root"
        pkg "$root" prometheus-postgres-exporter
        libs "$root" /usr/bin/prometheus-postgres-exporter
        import "$root" localhost/aegis/postgres-exporter:latest 'USER nobody' 'EXPOSE 9187' \
                'ENTRYPOINT ["/usr/bin/prometheus-postgres-exporter", "--web.listen-address=:9187"]'
}

build_prometheus() {
        local root="$WORK/prometheus"
        base "$root"
        pkg "$root" prometheus
        libs "$root" /usr/bin/prometheus
        mkdir -p "$root/prometheus" "$root/etc/prometheus"
        import "$root" localhost/aegis/prometheus:latest 'EXPOSE 9090' 'WORKDIR /prometheus' \
                'ENTRYPOINT ["/usr/bin/prometheus"]' \
                'CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]'
}

for i in $IMAGES; do
        case "$i" in
        aegis-runtime | postgres | postgres-exporter | prometheus) "build_${i//-/_}" ;;
        *) die "no image \"$i\" is built here (aegis-runtime postgres postgres-exporter prometheus); the others come from their upstream registries, see deploy/README.md" ;;
        esac
done
