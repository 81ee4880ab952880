#!/bin/sh
# Entrypoint of the sessionerror/postgres test image (built by docker/build-postgres-image.sh).
#
# Honours the official postgres image's variables: POSTGRES_PASSWORD (required), POSTGRES_USER
# (default postgres), POSTGRES_DB (default $POSTGRES_USER), PGDATA. On first start it runs initdb
# as the postgres user with password (scram-sha-256) auth for TCP and trust on the local socket,
# then runs the server on 0.0.0.0:5432 in the foreground. Arguments starting with "-" are passed
# to postgres (e.g. -c fsync=on). A throwaway test server: durability is off.
set -eu

bindir=/usr/lib/postgresql/15/bin
PGDATA=${PGDATA:-/var/lib/postgresql/data}
POSTGRES_USER=${POSTGRES_USER:-postgres}
POSTGRES_DB=${POSTGRES_DB:-$POSTGRES_USER}
export PGDATA

as_postgres() {
    setpriv --reuid=postgres --regid=postgres --init-groups "$@"
}

if [ "${1:-}" != "" ] && [ "${1#-}" = "$1" ]; then
    exec "$@"  # not an option: run the given command instead (e.g. psql, bash)
fi

if [ -z "${POSTGRES_PASSWORD:-}" ]; then
    echo "postgres-entrypoint: POSTGRES_PASSWORD is not set: pass -e POSTGRES_PASSWORD=..." >&2
    exit 1
fi

mkdir -p "$PGDATA" /var/run/postgresql
chown postgres:postgres "$PGDATA" /var/run/postgresql
chmod 700 "$PGDATA"
chmod 2775 /var/run/postgresql

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    pwfile=$(mktemp)
    printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
    chown postgres "$pwfile"
    as_postgres "$bindir/initdb" -D "$PGDATA" --username="$POSTGRES_USER" --pwfile="$pwfile" \
        --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C --no-sync \
        >/dev/null
    rm -f "$pwfile"
    # initdb's pg_hba.conf covers loopback only; the published port arrives from outside.
    printf 'host all all 0.0.0.0/0 scram-sha-256\nhost all all ::/0 scram-sha-256\n' \
        >>"$PGDATA/pg_hba.conf"
    cat >>"$PGDATA/postgresql.conf" <<CONF
# added by postgres-entrypoint.sh: a throwaway test server
listen_addresses = '*'
port = 5432
fsync = off
synchronous_commit = off
full_page_writes = off
CONF
    if [ "$POSTGRES_DB" != "postgres" ]; then
        # Single-user mode: no socket, no second start; the name is quoted as an identifier.
        quoted=$(printf '%s' "$POSTGRES_DB" | sed 's/"/""/g')
        echo "CREATE DATABASE \"$quoted\"" | as_postgres "$bindir/postgres" --single \
            -D "$PGDATA" postgres >/dev/null
    fi
    echo "postgres-entrypoint: initialised $PGDATA (user $POSTGRES_USER, database $POSTGRES_DB)"
fi

exec setpriv --reuid=postgres --regid=postgres --init-groups "$bindir/postgres" -D "$PGDATA" "$@"
