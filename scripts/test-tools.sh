#!/usr/bin/env bash
# Before `npm test`: the programs the suites run besides the servers. promtool and prometheus check the alert
# rules and prove the Grafana panels; chromium runs the dashboard's browser test. Says in one line what to
# install when one is missing, rather than letting a suite fail on a missing binary halfway through.
set -euo pipefail

declare -A package=([promtool]=prometheus [prometheus]=prometheus [chromium]=chromium)
missing=()
packages=()
for program in promtool prometheus chromium; do
  command -v "$program" >/dev/null 2>&1 && continue
  missing+=("$program")
  [[ " ${packages[*]-} " == *" ${package[$program]} "* ]] || packages+=("${package[$program]}")
done
if ((${#missing[@]} > 0)); then
  printf 'nightshift: npm test needs %s, not found on PATH; on Debian or Ubuntu: sudo apt-get install -y %s\n' "${missing[*]}" "${packages[*]}" >&2
  exit 1
fi
