#!/usr/bin/env bash
# Start PostgreSQL and Redis for the tests if they are not running; install them from the
# distribution's packages where they are missing and we can (root with apt-get).
set -euo pipefail

PG_HOST=${PGHOST:-127.0.0.1}
PG_PORT=${PGPORT:-5432}
REDIS_PORT=${REDIS_PORT:-6379}

can_install() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; }
apt_updated=0
apt_install() {
  if [ $apt_updated = 0 ]; then apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

pg_up() { (exec 3<>"/dev/tcp/$PG_HOST/$PG_PORT") 2>/dev/null; }
redis_up() {
  if command -v redis-cli >/dev/null; then redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG
  else (exec 3<>"/dev/tcp/127.0.0.1/$REDIS_PORT") 2>/dev/null; fi
}
wait_for() { for _ in $(seq 1 30); do "$1" && return 0; sleep 1; done; return 1; }

if pg_up; then
  echo "PostgreSQL: running on $PG_HOST:$PG_PORT"
else
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    if can_install; then
      echo "PostgreSQL: not installed; installing from Debian's packages"
      apt_install postgresql
      fresh_pg=1
    else
      echo "PostgreSQL is not running and can't be installed here (needs root and apt-get)." >&2
      echo "Start one on $PG_HOST:$PG_PORT, or set SHOPDESK_TEST_DATABASE_URL to a server you have." >&2
      exit 1
    fi
  fi
  echo "PostgreSQL: starting"
  version=$(ls /etc/postgresql | sort -V | tail -n1)
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  wait_for pg_up || { echo "PostgreSQL did not start" >&2; exit 1; }
  if [ "${fresh_pg:-0}" = 1 ]; then
    # A fresh cluster asks for a password over TCP: give the tests' user the one they use.
    su postgres -c "psql -qc \"ALTER USER postgres PASSWORD 'postgres'\""
  fi
fi

if redis_up; then
  echo "Redis: running on 127.0.0.1:$REDIS_PORT"
else
  if ! command -v redis-server >/dev/null; then
    if can_install; then
      echo "Redis: not installed; installing from Debian's packages"
      apt_install redis-server
    else
      echo "Redis is not running and can't be installed here (needs root and apt-get)." >&2
      echo "Start one on 127.0.0.1:$REDIS_PORT, or set SHOPDESK_TEST_REDIS_URL." >&2
      exit 1
    fi
  fi
  echo "Redis: starting"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  wait_for redis_up || { echo "Redis did not start" >&2; exit 1; }
fi
