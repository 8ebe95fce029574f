#!/usr/bin/env bash
# make bench-sim: how fast the simulator is, in the two figures the README quotes.
#
# 1. The Gossip Glomers broadcast setup (25 nodes, --latency 100, --rate 100, --time-limit
#    20, --recovery-time 10: 30 s of run time) under --sim with broadcast-gossip: the median
#    wall time of RUNS runs (the whole command: start, run, checks, files) and how many times
#    faster than real time that is.
# 2. `harness explore` on a 5-node, 10 s broadcast run with partitions and kills (no swarm,
#    so every seed has that shape): seeds per minute on every core.
#
#   RUNS=5 SEEDS=3000 STORE=<temporary folder>
set -eu
cd "$(dirname "$0")/.."
HARNESS=${HARNESS:-target/release/harness}
RUNS=${RUNS:-5}
SEEDS=${SEEDS:-3000}
STORE=${STORE:-$(mktemp -d)}
trap 'rm -rf "$STORE"' EXIT

now() { date +%s.%N; }
times=()
for i in $(seq 1 "$RUNS"); do
  start=$(now)
  "$HARNESS" test --sim --node broadcast-gossip -w broadcast --node-count 25 --time-limit 20 \
    --rate 100 --latency 100 --recovery-time 10 --seed "$i" --store "$STORE" --no-progress \
    >/dev/null
  times+=("$(awk -v a="$(now)" -v b="$start" 'BEGIN { print a - b }')")
done
median=$(printf '%s\n' "${times[@]}" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
echo "glomers broadcast setup (25 nodes, 30 s of run time), broadcast-gossip, --sim, $RUNS runs:"
echo "  wall s: $(printf '%s ' "${times[@]}")"
awk -v m="$median" 'BEGIN { printf "  median %.3f s: %.0f times faster than real time\n", m, 30 / m }'

start=$(now)
out=$("$HARNESS" explore -w broadcast --node broadcast-gossip --node-count 5 --time-limit 10 \
  --nemesis partition,kill --no-swarm --seeds "$SEEDS" --store "$STORE" 2>/dev/null)
wall=$(awk -v a="$(now)" -v b="$start" 'BEGIN { print a - b }')
echo "explore: 5 nodes, 10 s, partition,kill, no swarm, $SEEDS seeds, $(nproc) cores:"
echo "  $(grep -m1 ' seeds in ' <<<"$out")"
awk -v s="$SEEDS" -v w="$wall" 'BEGIN { printf "  %.0f seeds per minute (whole command, %.1f s)\n", s * 60 / w, w }'
