#!/usr/bin/env bash
# Run Pushpin in front of gunicorn: renders deploy/pushpin/pushpin.conf.in into $PUSHPIN_DIR, then execs Pushpin
# (so this process becomes Pushpin's runner: SIGTERM stops it and its services).
#   PUSHPIN_ORIGIN=127.0.0.1:8000   where gunicorn listens (every request is routed there)
#   PUSHPIN_BIND=127.0.0.1:7999     where browsers connect ([addr:]port; 0.0.0.0:7999 in a container)
#   PUSHPIN_PORT_OFFSET=0           control ports 5560-5563 + offset (publish endpoint: http://127.0.0.1:5561+offset)
#   PUSHPIN_PUBLISH_ADDR=127.0.0.1  the publish endpoint's address (never public)
#   GRIP_SIG_KEY=...                the key Pushpin signs proxied requests with (the app's GRIP_SIG_KEY)
#   PUSHPIN_DIR=$(mktemp -d)        config, ZeroMQ sockets and logs
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
command -v pushpin >/dev/null 2>&1 || { echo "pushpin is required (Debian: apt-get install -y pushpin)" >&2; exit 1; }
dir=${PUSHPIN_DIR:-$(mktemp -d -t housepoints-pushpin.XXXXXX)}
mkdir -p "$dir"
key=${GRIP_SIG_KEY:?GRIP_SIG_KEY must be set (the app checks the Grip-Sig header with it)}
case "$key" in *[![:alnum:]_-]*) echo "GRIP_SIG_KEY: use letters, digits, - and _ only" >&2; exit 1;; esac
sed -e "s|@RUNDIR@|$dir|g" -e "s|@PORT_OFFSET@|${PUSHPIN_PORT_OFFSET:-0}|g" \
    -e "s|@HTTP_PORT@|${PUSHPIN_BIND:-127.0.0.1:7999}|g" -e "s|@SIG_KEY@|$key|g" \
    -e "s|@PUBLISH_ADDR@|${PUSHPIN_PUBLISH_ADDR:-127.0.0.1}|g" \
    "$here/deploy/pushpin/pushpin.conf.in" > "$dir/pushpin.conf"
echo "* ${PUSHPIN_ORIGIN:-127.0.0.1:8000}" > "$dir/routes"
exec pushpin --config "$dir/pushpin.conf" --merge-output
