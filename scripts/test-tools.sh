#!/usr/bin/env bash
# Before `npm test` and `npm run demo`: the programs they run besides the servers. promtool and prometheus
# check the alert rules, prove the Grafana panels and show the demo's outage; chromium runs the dashboard's
# browser test; docker-compose checks the compose file (the Docker CLI's compose plugin does as well). As root on a machine with apt-get (a fresh Debian or Ubuntu, a CI container) the missing
# ones are installed, as .ci/run does; elsewhere one line says what to run, rather than letting a suite fail
# on a missing binary halfway through.
#   scripts/test-tools.sh [PROGRAM…]   the programs needed (default: promtool prometheus chromium docker-compose)
set -euo pipefail

declare -A package=([promtool]=prometheus [prometheus]=prometheus [chromium]=chromium [docker-compose]=docker-compose)
wanted=("$@")
((${#wanted[@]} > 0)) || wanted=(promtool prometheus chromium docker-compose)
purpose="npm ${npm_lifecycle_event:-test}"
purpose=${purpose/npm pre/npm run }
[[ $purpose == 'npm run test' ]] && purpose='npm test'

missing=()
packages=()
for program in "${wanted[@]}"; do
  [[ -n ${package[$program]-} ]] || { printf 'test-tools.sh: unknown program %s (known: %s)\n' "$program" "${!package[*]}" >&2; exit 2; }
  command -v "$program" >/dev/null 2>&1 && continue
  [[ $program == docker-compose ]] && docker compose version >/dev/null 2>&1 && continue
  missing+=("$program")
  [[ " ${packages[*]-} " == *" ${package[$program]} "* ]] || packages+=("${package[$program]}")
done
((${#missing[@]} == 0)) && exit 0

if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
  printf 'nightshift: %s needs %s; installing %s with apt-get (about a minute, once)\n' "$purpose" "${missing[*]}" "${packages[*]}"
  if ! output=$({ apt-get -qq update && DEBIAN_FRONTEND=noninteractive apt-get -qq install -y "${packages[@]}"; } 2>&1); then
    printf '%s\n' "$output" >&2
    printf 'nightshift: apt-get could not install %s (see above); install it, then run %s again\n' "${packages[*]}" "$purpose" >&2
    exit 1
  fi
  still=()
  for program in "${missing[@]}"; do command -v "$program" >/dev/null 2>&1 || still+=("$program"); done
  if ((${#still[@]} > 0)); then
    printf 'nightshift: installed %s, but %s is still not on PATH\n' "${packages[*]}" "${still[*]}" >&2
    exit 1
  fi
  printf 'nightshift: installed %s\n' "${packages[*]}"
  exit 0
fi

printf 'nightshift: %s needs %s, not found on PATH; on Debian or Ubuntu: sudo apt-get install -y %s\n' "$purpose" "${missing[*]}" "${packages[*]}" >&2
exit 1
