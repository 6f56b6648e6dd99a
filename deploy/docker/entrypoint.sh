#!/bin/sh
# The image's entry point: the first argument chooses the service, the rest are its flags.
#   worker|beat|alerter|health-api [flags]  ->  node --conditions=nightshift:source services/<name>/src/main.ts [flags]
# The image runs the TypeScript sources, as the repository does: the condition makes every @nightshift package,
# imported by a service or by an app of yours (e.g. /app/user/app.ts, which finds them in /app/node_modules),
# resolve to its sources rather than to a dist/ the image does not build.
# `exec` makes Node PID 1 of the container, so SIGTERM from `docker stop` or Kubernetes reaches the
# service's own handler (the worker's graceful stop) instead of this shell.
set -eu

app_dir=$(CDPATH='' cd -- "$(dirname -- "$0")/../.." && pwd)
default_app=examples/factory/app.ts

if [ "$#" -eq 0 ]; then
  set -- worker
fi

service=$1
case "$service" in
  worker | beat | alerter | health-api)
    shift
    cd "$app_dir"
    # Every service takes --app (the alerter judges its schedule entries); give the example app when none is named.
    has_app=no
    for arg in "$@"; do
      case "$arg" in
        --app | --app=*) has_app=yes ;;
      esac
    done
    if [ "$has_app" = no ]; then
      set -- "$@" --app "$default_app"
    fi
    exec node --conditions=nightshift:source "services/$service/src/main.ts" "$@"
    ;;
  healthcheck)
    shift
    exec node "$app_dir/deploy/docker/healthcheck.ts" "$@"
    ;;
  -*)
    echo "nightshift image: the first argument names the service (worker, beat, alerter, health-api), got $service" >&2
    exit 64
    ;;
  *)
    # Anything else runs as given: `docker run … nightshift node --version`, `… sh`.
    exec "$@"
    ;;
esac
