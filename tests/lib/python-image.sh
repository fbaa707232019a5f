# tests/lib/python-image.sh — a container image with Python and nothing else, built from the
# host's own interpreter (no registry, no network). Source after podman.sh, after podman_start.
#
#   python_image_build IMAGE [FILE DEST]...
#       imports IMAGE: the static busybox rootfs of busybox_tar, plus the interpreter that
#       `python3` resolves to (Debian's /usr/bin/python3.11 or a pyenv one) at its own path
#       with /usr/bin/python3 pointing to it, its stdlib without test/, __pycache__,
#       site-packages and the other large parts no client needs, its lib-dynload (without
#       _tkinter), every shared library `ldd` names for them and the dynamic loader, each at
#       its host path; /usr/bin/env too, so `#!/usr/bin/env python3` scripts run. Each FILE
#       is copied to DEST in the image, executable.
#
# The interpreter finds its stdlib from its own (resolved) path, so the paths stay the host's.
# Uses busybox_tar, podman_cmd and PODMAN_DIR of podman.sh.

python_image_build() {
        local image="$1" d="$PODMAN_DIR/python-rootfs" exe stdlib lib
        shift
        require_cmd python3 ldd tar
        read -r exe stdlib < <(python3 -c 'import os,sys,sysconfig; print(os.path.realpath(sys.executable), sysconfig.get_paths()["stdlib"])')
        if [ ! -x "$exe" ] || [ ! -d "$stdlib/lib-dynload" ]; then
                fail "cannot find the host's python3 ($exe, $stdlib)"
        fi
        rm -rf "$d"
        mkdir -p "$d"
        tar -C "$d" -xf "$(busybox_tar)"
        mkdir -p "$d$(dirname "$exe")" "$d$stdlib" "$d/usr/bin"
        cp -L "$exe" "$d$exe"
        [ "$exe" = /usr/bin/python3 ] || ln -sf "$exe" "$d/usr/bin/python3"
        ln -sf /bin/busybox "$d/usr/bin/env"
        tar -C "$stdlib" --exclude=./test --exclude=__pycache__ --exclude=./site-packages \
                --exclude=./idlelib --exclude=./tkinter --exclude=./turtledemo --exclude=./ensurepip \
                --exclude='./config-*' --exclude=./lib2to3 --exclude='./lib-dynload/_tkinter*' \
                -cf - . | tar -C "$d$stdlib" -xf -
        for lib in $({
                ldd "$exe"
                ldd "$d$stdlib"/lib-dynload/*.so
        } 2>/dev/null | awk '/=>/ && $3 ~ /^\// {print $3} /^[[:space:]]*\/[^ ]*ld-linux/ {print $1}' | sort -u); do
                mkdir -p "$d$(dirname "$lib")"
                cp -L "$lib" "$d$lib"
        done
        while [ $# -ge 2 ]; do
                mkdir -p "$d$(dirname "$2")"
                cp "$1" "$d$2"
                chmod 755 "$d$2"
                shift 2
        done
        tar -C "$d" -cf "$PODMAN_DIR/python.tar" .
        podman_cmd import -q "$PODMAN_DIR/python.tar" "$image" >/dev/null || fail "cannot import the Python image $image"
        rm -rf "$d" "$PODMAN_DIR/python.tar"
}
