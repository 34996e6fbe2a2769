#!/usr/bin/env bash
# Make sure the servers the tests talk to answer on loopback: PostgreSQL (5432), Redis (6379),
# RabbitMQ (5672),
# MariaDB (3306). Start one that is installed but down; otherwise say what is missing.
set -u
missing=()

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {  # port seconds
  for _ in $(seq 1 "$2"); do port_open "$1" && return 0; sleep 1; done
  return 1
}

ensure() {  # name port binary debian-package start-command
  local name=$1 port=$2 binary=$3 package=$4 start=$5
  port_open "$port" && return 0
  if ! command -v "$binary" >/dev/null 2>&1; then
    missing+=("$name (Debian package: $package)"); return 0
  fi
  echo "starting $name ..."
  bash -c "$start" >/dev/null 2>&1
  wait_port "$port" 60 || missing+=("$name (installed, but it did not start on port $port)")
}

ensure PostgreSQL 5432 pg_ctlcluster postgresql \
  'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql | head -1) main start'
ensure Redis 6379 redis-server redis-server \
  'mkdir -p /var/lib/redis /var/log/redis; redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log'
ensure RabbitMQ 5672 rabbitmq-server rabbitmq-server 'rabbitmq-server -detached'
ensure MariaDB 3306 mariadbd mariadb-server \
  'start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd'

if [ ${#missing[@]} -gt 0 ]; then
  echo "These servers are needed by the tests and are missing:" >&2
  printf '  - %s\n' "${missing[@]}" >&2
  echo "Install them with apt-get (see README, 'A new machine')." >&2
  exit 1
fi
echo "services: PostgreSQL, Redis, RabbitMQ and MariaDB answer on 127.0.0.1"
