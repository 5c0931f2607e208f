#!/bin/sh
# Container entrypoint for HousePoints.
#
#   entrypoint.sh              migrate the platform database and every family
#                              database, then serve the app with gunicorn.
#   entrypoint.sh worker       run the background job worker (`flask jobs worker`).
#   entrypoint.sh CMD [ARGS]   run CMD as-is (e.g. `flask jobs tick`).
#
# Any argument replaces the migrate+serve path entirely: only the web
# containers migrate, so one-off commands and the worker never race them.
# SKIP_MIGRATIONS=1 additionally skips the upgrades on the serve path (e.g.
# when migrations are run out of band); the compose worker sets it too so
# the intent is explicit whichever way it is started.
set -eu

cd /app

if [ "$#" -gt 0 ]; then
    if [ "$1" = "worker" ]; then
        shift
        exec flask jobs worker "$@"
    fi
    exec "$@"
fi

if [ "${SKIP_MIGRATIONS:-0}" = "1" ]; then
    echo "entrypoint: SKIP_MIGRATIONS=1, skipping database upgrades"
else
    # Platform chain first: the family upgrade reads the family registry
    # (placement and database location) from the platform database.
    echo "entrypoint: upgrading platform database"
    flask db upgrade
    echo "entrypoint: upgrading every family database"
    flask families upgrade --all
fi

exec gunicorn -c gunicorn.conf.py wsgi:app
