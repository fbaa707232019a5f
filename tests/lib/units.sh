# tests/lib/units.sh — the unit files the build produces, for the units tests.
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
