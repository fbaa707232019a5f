# tests/lib/units.sh — the unit files the build produces, and how the units tests verify
# them (copies in a scratch directory, `systemd-analyze` there).
#
# units_collect fills UNITS_SYSTEM and UNITS_USER with paths: built units (from *.in) in
# $top_builddir/units[/user], static ones in $top_srcdir/units[/user]; a built file wins
# over a source file of the same name.
units_collect() {
        local flavour d f seen
        UNITS_SYSTEM=()
        UNITS_USER=()
        for flavour in system user; do
                seen=" "
                for d in "$top_builddir/units" "$top_srcdir/units"; do
                        [ "$flavour" = user ] && d="$d/user"
                        for f in "$d"/*.service "$d"/*.socket "$d"/*.timer; do
                                [ -f "$f" ] || continue
                                case "$seen" in *" $(basename "$f") "*) continue ;; esac
                                seen="$seen$(basename "$f") "
                                if [ "$flavour" = system ]; then UNITS_SYSTEM+=("$f"); else UNITS_USER+=("$f"); fi
                        done
                done
        done
}

# units_runtime_dir: a private XDG_RUNTIME_DIR in $SCRATCH (systemd-analyze --user wants one).
units_runtime_dir() {
        export XDG_RUNTIME_DIR="$SCRATCH/xdg"
        mkdir -p -m 0700 "$XDG_RUNTIME_DIR"
}

# units_prepare DIR UNIT...: copies each UNIT into DIR with its Exec*= programs pointed at the
# ones built in $top_builddir: verify wants them to exist, and an uninstalled tree is no error.
units_prepare() {
        local dir="$1" f
        shift
        mkdir -p "$dir"
        for f in "$@"; do
                sed -E "s#^(Exec[A-Za-z]*=[-@!+:]*)/[^ ]*/(aegis[^ /]*)#\1$top_builddir/\2#" "$f" >"$dir/$(basename "$f")"
        done
}

# units_analyze FLAVOUR DIR ARGS...: `systemd-analyze ARGS...` run in DIR (with --user for the
# user flavour); prints what it says on stdout and stderr, returns its status.
units_analyze() {
        local flavour="$1" dir="$2" mode=()
        shift 2
        [ "$flavour" = user ] && mode=(--user)
        (cd "$dir" && systemd-analyze "${mode[@]}" "$@" 2>&1)
}
