#!/bin/sh
# Interleaved A/B of one scenario: runs the bench alternately against checkout A and checkout B
# (--server-root), N rounds, and prints each run's summary with the load average at its start.
# On a shared or small machine only interleaved, repeated runs say anything (bench/README.md).
#   bench/ab.sh /path/to/A /path/to/B 3 --scenarios connect --connections 5000 [--runtime bun]
set -e
A=$1; B=$2; N=$3; shift 3
BUN=$(dirname "$0")/../node_modules/.bin/bun
for root in "$A" "$B"; do (cd "$root" && npm run build --silent >/dev/null); done
i=0
while [ "$i" -lt "$N" ]; do
  for root in "$A" "$B"; do
    load=$(cut -d' ' -f1 /proc/loadavg)
    out=$("$BUN" "$(dirname "$0")/run.ts" --no-build --server-root "$root" --out /tmp/ab-last.json "$@" 2>/dev/null | grep '^| [a-z!]' | grep -v '^| scenario' || true)
    echo "$(basename "$root") load $load $out"
  done
  i=$((i + 1))
done
