#!/usr/bin/env bash
# Bring up what `make test` needs: Chromium, PostgreSQL, Redis, Pushpin, and the test role and databases.
# Installs missing Debian packages when running as root with apt; otherwise says exactly what to install.
set -euo pipefail

say() { printf '[services] %s\n' "$*"; }
die() { printf '[services] ERROR: %s\n' "$*" >&2; exit 1; }

can_apt() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; }
apt_updated=0
apt_install() {
  can_apt || die "missing $*; install it (Debian: apt-get install -y $*) and run again"
  if [ "$apt_updated" = 0 ]; then say "apt-get update"; apt-get update -qq; apt_updated=1; fi
  say "installing $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

command -v chromium >/dev/null 2>&1 || apt_install chromium
command -v pg_isready >/dev/null 2>&1 || apt_install postgresql
command -v redis-server >/dev/null 2>&1 || apt_install redis-server
# Pushpin holds live-update streams in production; tests/live/test_push.py runs a real one (skipped without it).
command -v pushpin >/dev/null 2>&1 || apt_install pushpin
# Optional: an emoji font, so avatars and chore icons render in the e2e screenshots (tests do not depend on it).
if ! dpkg -s fonts-noto-color-emoji >/dev/null 2>&1 && can_apt; then
  apt_install fonts-noto-color-emoji || say "no emoji font; screenshots will show boxes for emoji"
fi

# PostgreSQL may be up, down, or still starting: a machine that has just booted (or stopped without a clean shutdown)
# runs crash recovery first, and pg_isready says "rejecting connections" meanwhile. Wait for a starting server rather
# than starting a second one; start one only when none is running.
pg_version() { ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1; }
pg_ready() { pg_isready -q -h 127.0.0.1 -p 5432; }
pg_wait() {
  for _ in $(seq 1 "$1"); do pg_ready && return 0; sleep 1; done
  pg_ready && return 0
  local log; log=$(ls -t /var/log/postgresql/postgresql-*-main.log 2>/dev/null | head -n 1 || true)
  [ -z "$log" ] || { printf '[services] the end of %s:\n' "$log" >&2; tail -n 20 "$log" >&2 || true; }
  return 1
}
if ! pg_ready; then
  version=$(pg_version)
  [ -n "$version" ] || die "PostgreSQL is installed but has no cluster in /etc/postgresql"
  if pg_ctlcluster --skip-systemctl-redirect "$version" main status >/dev/null 2>&1; then
    say "PostgreSQL $version is running but not accepting connections yet (starting or recovering); waiting"
  else
    say "starting PostgreSQL $version"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start \
      || pg_ctlcluster --skip-systemctl-redirect "$version" main status >/dev/null 2>&1 \
      || die "could not start PostgreSQL $version"
  fi
  pg_wait 300 || die "PostgreSQL did not accept connections on 127.0.0.1:5432 within 5 minutes"
fi

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  say "starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no >/dev/null
  for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 1; done
  redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || die "Redis did not come up on 127.0.0.1:6379"
fi

# A superuser shell for role and database setup: the postgres role over the socket, or the postgres OS user.
psql_super() {
  if psql -U postgres -d postgres -Atqc 'select 1' >/dev/null 2>&1; then
    psql -v ON_ERROR_STOP=1 -U postgres -d postgres -Atq "$@"
  elif [ "$(id -u)" = 0 ] && command -v runuser >/dev/null 2>&1; then
    runuser -u postgres -- psql -v ON_ERROR_STOP=1 -d postgres -Atq "$@"
  else
    die "cannot reach PostgreSQL as a superuser to create the test role (try running as root)"
  fi
}

# Each test run opens its own engines (platform, pooled, some dedicated families, race tests' threads): give the
# server room for a run plus the e2e server. Raising max_connections needs a restart, done once.
max_conn=$(psql_super -c "SHOW max_connections")
if [ "${max_conn:-0}" -lt 300 ]; then
  say "raising PostgreSQL max_connections from $max_conn to 300 (restart)"
  psql_super -c "ALTER SYSTEM SET max_connections = 300"
  pg_ctlcluster --skip-systemctl-redirect "$(pg_version)" main restart || die "could not restart PostgreSQL"
  pg_wait 300 || die "PostgreSQL did not come back after the restart"
fi

# Two roles, so the app cannot switch its own walls off. hp_owner owns every table and database: migrations and
# provisioning (CREATE DATABASE) connect as it. hp_app, the app's runtime role, owns nothing and is only granted
# SELECT/INSERT/UPDATE/DELETE (ledger: SELECT/INSERT): it cannot ALTER, DISABLE TRIGGER, NO FORCE ROW LEVEL SECURITY,
# TRUNCATE or DROP. Neither is a superuser nor BYPASSRLS, so row-level security applies to both.
psql_super -c "DO \$\$BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'hp_app') THEN
    CREATE ROLE hp_app LOGIN PASSWORD 'hp_app' CREATEDB NOSUPERUSER NOBYPASSRLS;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'hp_owner') THEN
    CREATE ROLE hp_owner LOGIN PASSWORD 'hp_owner' CREATEDB NOSUPERUSER NOBYPASSRLS NOCREATEROLE;
  END IF;
END\$\$;"
# The owner administers the app role's sessions: DROP DATABASE … WITH (FORCE) ends hp_app's connections, and test
# databases made by older runs (owned by hp_app) can still be dropped. hp_app is never a member of hp_owner.
psql_super -c "GRANT hp_app TO hp_owner"
for db in hp_test_platform hp_test_family; do
  exists=$(psql_super -c "SELECT 1 FROM pg_database WHERE datname = '$db'")
  [ "$exists" = 1 ] || psql_super -c "CREATE DATABASE $db OWNER hp_owner"
  psql_super -c "ALTER DATABASE $db OWNER TO hp_owner"
done
for role in hp_app hp_owner; do
  PGPASSWORD=$role psql -h 127.0.0.1 -U $role -d hp_test_platform -Atqc 'select 1' >/dev/null \
    || die "the $role role cannot log in over TCP (check pg_hba.conf allows md5/scram/trust on 127.0.0.1)"
done
say "ready: chromium, PostgreSQL (hp_owner, hp_app), Redis, pushpin"
