#!/usr/bin/env bash
# Runs one stage of `make test` and records how long it took; `stage.sh --summary` prints the
# table. Times go to target/test-stages.txt (a fresh run starts a fresh file at its first stage).
set -euo pipefail
log=target/test-stages.txt
mkdir -p target
if [ "${1:-}" = --summary ]; then
  echo "make test: time per stage"
  awk '{ printf "  %-14s %5d s\n", $1, $2; total += $2 } END { printf "  %-14s %5d s\n", "total", total }' "$log"
  exit 0
fi
name=$1; shift
[ "$name" = deps ] && : > "$log"
echo "==> stage $name"
start=$(date +%s)
"$@"
echo "$name $(( $(date +%s) - start ))" >> "$log"
