#!/usr/bin/env bash
# Make sure the servers the tests talk to are up: Redis on 127.0.0.1:6379, PostgreSQL on :5432.
# Starts them with the machine's own packages when they are installed but down; installs them
# with apt when missing and we are root. Prints what it did; exits non-zero if one can't be had.
set -u
ok=0
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }
pg_up() { pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; }

if ! command -v redis-server >/dev/null 2>&1 || ! command -v pg_ctlcluster >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "services: installing redis-server/postgresql with apt" >&2
    (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q redis-server postgresql) >/dev/null 2>&1 || true
  fi
fi

if ! redis_up; then
  echo "services: starting Redis" >&2
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log >/dev/null 2>&1 \
    || redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null 2>&1
  for _ in $(seq 30); do redis_up && break; sleep 0.5; done
fi
redis_up && echo "services: Redis up" >&2 || { echo "services: Redis NOT available" >&2; ok=1; }

if ! pg_up; then
  echo "services: starting PostgreSQL" >&2
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start >/dev/null 2>&1 || true
  fi
  for _ in $(seq 60); do pg_up && break; sleep 0.5; done
fi
pg_up && echo "services: PostgreSQL up" >&2 || { echo "services: PostgreSQL NOT available" >&2; ok=1; }
exit $ok
