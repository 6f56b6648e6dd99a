#!/usr/bin/env bash
# Makes sure RabbitMQ, Redis and PostgreSQL answer on loopback, starting any that is installed here but
# not running, then waits for them. Used by `npm start`, `npm test` (their pre-scripts) and `.ci/run`.
#   --required   fail when a server does not answer in the end (CI); otherwise leave the verdict to the
#                test helper, which can start it with Docker or says in one line how to start it.
# NIGHTSHIFT_SERVICE_WAIT (seconds, default 90) bounds the wait. A URL in NIGHTSHIFT_*_URL that is not
# on loopback is someone else's server: it is not started from here.
set -euo pipefail

required=false
[[ ${1:-} == --required ]] && required=true
readonly wait_seconds=${NIGHTSHIFT_SERVICE_WAIT:-90}

is_local() { [[ -z ${1:-} || $1 == *@127.0.0.1* || $1 == *//127.0.0.1* || $1 == *localhost* ]]; }

rabbitmq_answers() { rabbitmqctl -q await_startup --timeout 5 >/dev/null 2>&1; }
redis_answers() { [[ $(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null) == PONG ]]; }
postgres_answers() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }

start_rabbitmq() { rabbitmq-server -detached; }
start_redis() { redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log; }
# shellcheck disable=SC2046 # one cluster version is installed; its name is the word we want
start_postgres() { pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start; }

declare -A url=([rabbitmq]=${NIGHTSHIFT_AMQP_URL:-} [redis]=${NIGHTSHIFT_REDIS_URL:-} [postgres]=${NIGHTSHIFT_DATABASE_URL:-})
declare -A tool=([rabbitmq]=rabbitmq-server [redis]=redis-server [postgres]=pg_ctlcluster)

pending=()
for name in rabbitmq redis postgres; do
  is_local "${url[$name]}" || continue
  command -v "${tool[$name]}" >/dev/null 2>&1 || continue
  "${name}_answers" && continue
  printf 'nightshift: %s does not answer; starting it\n' "$name"
  "start_${name}" || printf 'nightshift: warning: starting %s exited with %s; waiting for it anyway\n' "$name" "$?" >&2
  pending+=("$name")
done

deadline=$((SECONDS + wait_seconds))
while ((${#pending[@]} > 0)); do
  still=()
  for name in "${pending[@]}"; do
    if "${name}_answers"; then printf 'nightshift: %s answers\n' "$name"; else still+=("$name"); fi
  done
  pending=("${still[@]+"${still[@]}"}")
  ((${#pending[@]} == 0)) && break
  if ((SECONDS >= deadline)); then
    printf 'nightshift: still not answering after %ss: %s (logs: /var/log/rabbitmq, /var/log/redis/ci.log, /var/log/postgresql)\n' "$wait_seconds" "${pending[*]}" >&2
    exit 1
  fi
  sleep 1
done

# The management API (queue rates in the health-api) and the Prometheus endpoint (the RabbitMQ alert
# rules and panels) come from plugins a Debian install has but does not enable. Enabling is online.
if is_local "${url[rabbitmq]}" && command -v rabbitmq-plugins >/dev/null 2>&1 && rabbitmq_answers \
  && ! rabbitmq-plugins -q is_enabled rabbitmq_management rabbitmq_prometheus >/dev/null 2>&1; then
  printf 'nightshift: enabling the RabbitMQ management and prometheus plugins\n'
  rabbitmq-plugins -q enable rabbitmq_management rabbitmq_prometheus >/dev/null \
    || printf 'nightshift: warning: could not enable the RabbitMQ plugins; queue rates are estimated and the RabbitMQ rules go unproven\n' >&2
fi

if $required; then
  for name in rabbitmq redis postgres; do
    "${name}_answers" || { printf 'nightshift: %s does not answer and cannot be started here\n' "$name" >&2; exit 1; }
  done
fi
exit 0
