#!/bin/sh
# The postgres image's entry point (pod-database), with the upstream postgres image's
# interface: POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB, PGDATA. The first start makes
# the cluster (scram-sha-256 from anywhere, the pod's exporter and the other pods connect
# over TCP); every start runs postgres as the postgres user.
set -eu
: "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is empty: set it in .env}"
: "${POSTGRES_USER:=postgres}" "${POSTGRES_DB:=$POSTGRES_USER}" "${PGDATA:=/var/lib/postgresql/data}"
mkdir -p "$PGDATA" /var/run/postgresql
chown postgres:postgres "$PGDATA" /var/run/postgresql
chmod 0700 "$PGDATA"
as_pg() { su -s /bin/sh postgres -c "$*"; }
if [ ! -s "$PGDATA/PG_VERSION" ]; then
        pw="$(mktemp)"
        printf '%s\n' "$POSTGRES_PASSWORD" >"$pw"
        chown postgres "$pw"
        as_pg "initdb -D '$PGDATA' -U '$POSTGRES_USER' --pwfile='$pw' --auth-local=trust --auth-host=scram-sha-256 --no-locale -E UTF8" >/dev/null
        rm -f "$pw"
        echo "listen_addresses = '*'" >>"$PGDATA/postgresql.conf"
        echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
        if [ "$POSTGRES_DB" != postgres ]; then
                echo "CREATE DATABASE \"$POSTGRES_DB\" OWNER \"$POSTGRES_USER\";" \
                        | as_pg "postgres --single -D '$PGDATA' postgres" >/dev/null
        fi
fi
exec su -s /bin/sh postgres -c "exec postgres -D '$PGDATA'"
