#!/bin/sh
# Interleaved A/B(/C…) runs of the bench: N rounds, each running the same scenarios against every
# checkout in turn (--server-root), printing each run's rows with the load average at its start.
# On a shared or small machine only interleaved, repeated runs say anything (bench/README.md).
#   bench/ab.sh 3 /path/to/A /path/to/B -- --scenarios connect --connections 5000 [--runtime bun]
set -e
N=$1; shift
ROOTS=""
# Absolute paths: the scenarios that spawn their own servers take --server-root as given.
while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do ROOTS="$ROOTS $(cd "$1" && pwd)"; shift; done
[ "$1" = "--" ] && shift
BUN=$(dirname "$0")/../node_modules/.bin/bun
for root in $ROOTS; do (cd "$root" && npm run build --silent >/dev/null); done
i=0
while [ "$i" -lt "$N" ]; do
  for root in $ROOTS; do
    load=$(cut -d' ' -f1 /proc/loadavg)
    "$BUN" "$(dirname "$0")/run.ts" --no-build --server-root "$root" --out /tmp/ab-last.json "$@" 2>/dev/null |
      grep '^| [a-z!]' | grep -v '^| scenario' | sed "s|^|$(basename "$root") load $load |" || true
  done
  i=$((i + 1))
done
