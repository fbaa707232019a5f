#!/bin/bash
# The platform deployment (deploy/, issue 16) on real Podman, as its README says: `make
# images` builds the local profile's images from this project's .deb and Debian packages,
# `make deploy PROFILE=local` writes and enables one unit per pod and starts the pods,
# `make validate` passes, then fails naming database/postgres when its container is
# stopped, `make redeploy POD=database` heals it, and `make teardown` + `make clean` leave
# no pod, unit, volume or network. There is no systemd as PID 1 here: the units go into a
# private root (systemctl --root) where enabling them is checked, `systemd-analyze verify`
# checks them, and deploy starts the pods itself (what it does without a service manager).
# Private Podman storage, network name, ports and state: nothing outside the scratch dir.
# The .deb: $AEGIS_DEB, else built once per source hash into the e2e cache (as
# tests/e2e/systemd-container.sh does). Prints its duration.
. "$AEGIS_TEST_LIB/podman.sh"
require_cmd podman runc catatonit envsubst curl systemd-analyze dpkg-deb flock sha256sum
T0=$(date +%s)
make_scratch
podman_private_networks # the deployment's network outlives other tests' resets
podman_start
DEPLOY="$top_srcdir/deploy"

# --- the .deb ------------------------------------------------------------------------------
if [ -z "${AEGIS_DEB:-}" ]; then
        require_cmd dpkg-buildpackage
        CACHE="${AEGIS_TEST_CACHE:-$top_builddir/tests/e2e/cache}"
        mkdir -p "$CACHE" || fail "cannot create $CACHE"
        h="$(cd "$top_srcdir" && find configure.ac Makefile.am src units tmpfiles sysusers man packaging examples \
                -type f ! -name '*.o' -print0 2>/dev/null | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)"
        (
                flock 9
                if ! ls "$CACHE/deb-$h"/aegis_*.deb >/dev/null 2>&1; then
                        note "building the .deb (make deb) into $CACHE/deb-$h"
                        make -C "$top_builddir" -s deb >"$SCRATCH/make-deb.log" 2>&1 || { tail -30 "$SCRATCH/make-deb.log" >&2; exit 1; }
                        mkdir -p "$CACHE/deb-$h.tmp" && cp "$top_builddir"/aegis_*.deb "$CACHE/deb-$h.tmp/" && mv "$CACHE/deb-$h.tmp" "$CACHE/deb-$h"
                fi
        ) 9>"$CACHE/deb.lock" || fail "make deb failed"
        AEGIS_DEB="$(ls "$CACHE/deb-$h"/aegis_*.deb | head -1)"
fi
export AEGIS_DEB
note "package: $AEGIS_DEB ($(($(date +%s) - T0)) s)"

# --- .env: private everything ----------------------------------------------------------------
SYSROOT="$SCRATCH/sysroot"
UNITS="$SYSROOT/etc/systemd/system"
mkdir -p "$UNITS" "$SCRATCH/aegis-root"
NET="aegis-test-$$"
PG_PORT=$(free_port)
export -f podman_cmd; export PODMAN_DIR
cat >"$SCRATCH/.env" <<EOF
AEGIS_ROOT=$SCRATCH/aegis-root
POSTGRES_PASSWORD=pw-$$-secret
AEGIS_API_TOKEN=token-$$
CONTAINER_SOCK=$PODMAN_SOCK
AEGIS_NETWORK=$NET
PODMAN="env -u CONTAINER_HOST podman --root $PODMAN_DIR/root --runroot $PODMAN_DIR/run --tmpdir $PODMAN_DIR/tmp"
AEGIS_STATE_DIR=$SCRATCH/state
SYSTEMCTL="systemctl --root=$SYSROOT"
UNIT_DIR=$UNITS
AEGIS_HTTP_PORT=$(free_port)
AEGIS_GRPC_PORT=$(free_port)
AEGIS_NFS_PORT=$(free_port)
AEGIS_METRICS_PORT=$(free_port)
POSTGRES_PORT=$PG_PORT
POSTGRES_EXPORTER_PORT=$(free_port)
PROMETHEUS_PORT=$(free_port)
EOF
mk() { nice make -s -C "$DEPLOY" ENV="$SCRATCH/.env" "$@"; }
# Whatever happens, nothing stays behind in the shared CNI configuration.
on_exit "mk clean >/dev/null 2>&1"

out="$(mk images 2>&1)"
check "make images builds the four local images${out:+: $(tail -3 <<<"$out")}" \
        bash -c 'for i in aegis-runtime:latest postgres:15 postgres-exporter:latest prometheus:latest; do podman_cmd image exists localhost/aegis/$i || exit 1; done'
note "images ($(($(date +%s) - T0)) s)"
assert_match "… aegis-runtime holds the .deb's aegisd and the package version" "aegis $(dpkg-deb -f "$AEGIS_DEB" Version)" \
        "$(podman_cmd run --rm --entrypoint /bin/cat localhost/aegis/aegis-runtime:latest /usr/share/aegis-image/packages 2>&1)"

# --- deploy ----------------------------------------------------------------------------------
out="$(mk deploy PROFILE=local 2>&1)"
rc=$?
assert_eq "make deploy PROFILE=local succeeds${out:+: $(tail -3 <<<"$out")}" 0 "$rc"
for p in database observability core; do
        check "pod-$p runs" podman_cmd pod exists "pod-$p"
        check "… its unit aegis-pod-$p.service is written" test -f "$UNITS/aegis-pod-$p.service"
        check "… and enabled (default.target wants it)" test -L "$UNITS/default.target.wants/aegis-pod-$p.service"
done
assert_eq "the local profile's observability pod holds Prometheus only" "pod-observability-prometheus" \
        "$(podman_cmd ps -a --filter pod=pod-observability --format '{{.Names}}' | grep -v infra | sort | paste -sd' ')"
check "aegis-pod-core.service starts after the database's unit" grep -q '^After=.*aegis-pod-database.service' "$UNITS/aegis-pod-core.service"
out="$(systemd-analyze verify "$UNITS"/aegis-pod-*.service 2>&1 | grep -v 'default.target' )"
assert_eq "systemd-analyze verify finds nothing to say about the units" "" "$out"

validate() { mk validate >"$SCRATCH/validate.out" 2>&1; }
check "make validate passes once the services are up" wait_for 120 validate
cat "$SCRATCH/validate.out"
assert_eq "… one line per service of the profile (4)" 4 "$(grep -c '^ok ' "$SCRATCH/validate.out")"
check "… PostgreSQL checked with pg_isready" grep -q '^ok .*database/postgres .*pg_isready' "$SCRATCH/validate.out"
check "… the API answers its bearer token and refuses none" bash -c \
        "curl -sf -H 'Authorization: Bearer token-$$' http://127.0.0.1:$(sed -n 's/^AEGIS_HTTP_PORT=//p' "$SCRATCH/.env")/v1/executions >/dev/null && \
         [ \"\$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$(sed -n 's/^AEGIS_HTTP_PORT=//p' "$SCRATCH/.env")/v1/executions)\" = 401 ]"
check "aegis-runtime keeps its store in pod-database's PostgreSQL" bash -c \
        "podman_cmd exec pod-database-postgres psql -U aegis -d aegis -tAc \"select count(*) from information_schema.tables where table_schema='public'\" | grep -qv '^0$'"
note "validated ($(($(date +%s) - T0)) s)"

# --- a service down, then healed ---------------------------------------------------------
podman_cmd stop -t 2 pod-database-postgres >/dev/null 2>&1
mk validate >"$SCRATCH/validate.out" 2>&1
rc=$?
cat "$SCRATCH/validate.out"
check "make validate fails when PostgreSQL is stopped (exit $rc)" test "$rc" -ne 0
check "… naming database/postgres in its verdict" grep -q 'failed: .*database/postgres' "$SCRATCH/validate.out"
check "… on the service's own line" grep -q '^FAIL .*database/postgres .*not running' "$SCRATCH/validate.out"
out="$(mk redeploy POD=database 2>&1)"
check "make redeploy POD=database succeeds${out:+: $out}" podman_cmd pod exists pod-database
check "… and make validate passes again" wait_for 90 validate
check "… the database kept its data (same volume)" bash -c \
        "podman_cmd exec pod-database-postgres psql -U aegis -d aegis -tAc \"select count(*) from information_schema.tables where table_schema='public'\" | grep -qv '^0$'"

assert_match "make logs POD=database shows PostgreSQL's log" 'ready to accept connections' "$(mk logs POD=database 2>&1)"

# --- teardown, clean -----------------------------------------------------------------------
out="$(mk status 2>&1)"
assert_match "make status shows the profile and the enabled units" 'profile: local.*aegis-pod-core.service: enabled' "$(tr '\n' ' ' <<<"$out")"
mk teardown >/dev/null 2>&1
assert_eq "make teardown leaves no pod" "" "$(podman_cmd pod ps -q)"
assert_eq "… and no unit or enablement link" "" "$(find "$UNITS" -name 'aegis-pod-*')"
check "… but keeps the volumes" podman_cmd volume exists aegis-postgres-data
mk clean >/dev/null 2>&1
assert_eq "make clean leaves no volume" "" "$(podman_cmd volume ls -q)"
check "… and no network" bash -c "! podman_cmd network exists $NET"
check "… and no deploy state" test ! -e "$SCRATCH/state"
note "duration: $(($(date +%s) - T0)) s"
finish
