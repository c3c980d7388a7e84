#!/usr/bin/env bash
# Makes sure a PostgreSQL answers on 127.0.0.1:5432 (or $LIVEDESK_PG_PORT)
# and lets user `postgres` in without a password.
#
# Uses the server already there when one answers. Otherwise installs
# PostgreSQL from Debian packages if it is missing, and starts a private
# cluster (trust auth, data in $LIVEDESK_PGDATA, default /var/tmp/livedesk-pgdata).
set -euo pipefail

port=${LIVEDESK_PG_PORT:-5432}
data=${LIVEDESK_PGDATA:-/var/tmp/livedesk-pgdata}

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

if answers; then
  echo "postgres.sh: using the PostgreSQL on 127.0.0.1:$port"
  exit 0
fi

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "postgres.sh: installing PostgreSQL from Debian packages"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq postgresql >/dev/null
fi
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)

if [ ! -f "$data/PG_VERSION" ]; then
  echo "postgres.sh: creating a private cluster in $data"
  as_root mkdir -p "$data"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$data"
  as_postgres "$bin/initdb" -D "$data" -U postgres --auth=trust >/dev/null
fi

echo "postgres.sh: starting the private cluster on 127.0.0.1:$port"
as_postgres "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 \
  -o "-p $port -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
for _ in $(seq 1 60); do answers && exit 0; sleep 1; done
echo "postgres.sh: PostgreSQL did not start; see $data/server.log" >&2
exit 1
