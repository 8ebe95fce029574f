#!/usr/bin/env bash
# Runs every Gossip Glomers challenge command (README, "Gossip Glomers") with this
# repository's node for it, one line per run, and fails if any run is not valid.
# Usage: scripts/test-glomers.sh [SEED]   (default: a seed per run, drawn by the harness)
set -uo pipefail
cd "$(dirname "$0")/.."
bin=target/release
seed=()
if [[ $# -ge 1 ]]; then seed=(--seed "$1"); fi

failed=0
run() {
    local challenge=$1 node=$2
    shift 2
    local out
    out=$(mktemp)
    "$bin/harness" test --bin "$bin/$node" "${seed[@]}" "$@" >"$out" 2>&1
    local rc=$?
    local verdict msgs ops
    verdict=$(grep -E '^valid:' "$out" | tail -1)
    verdict=${verdict#valid: }
    msgs=$(grep -oE '[0-9.]+ msgs per op' "$out" | tail -1)
    ops=$(grep -E '^ops:' "$out" | head -1 | sed -E 's/^ops: ([0-9]+) \(([0-9]+) ok.*/\2 of \1 ops ok/')
    printf '%-4s %-17s %-32s %-22s %s\n' "$challenge" "$node" "${verdict:-no verdict (exit $rc)}" "$ops" "$msgs"
    if [[ $rc -ne 0 ]]; then
        failed=1
        sed 's/^/     | /' "$out" | tail -15
    fi
    rm -f "$out"
}

run 1 echo -w echo --node-count 1 --time-limit 10
run 2 unique-ids -w unique-ids --time-limit 30 --rate 1000 --node-count 3 --availability total --nemesis partition
run 3a broadcast-gossip -w broadcast --node-count 1 --time-limit 20 --rate 10
run 3b broadcast-gossip -w broadcast --node-count 5 --time-limit 20 --rate 10
run 3c broadcast-gossip -w broadcast --node-count 5 --time-limit 20 --rate 10 --nemesis partition
run 3d broadcast-gossip -w broadcast --node-count 25 --time-limit 20 --rate 100 --latency 100
run 3d broadcast-gossip -w broadcast --node-count 25 --time-limit 20 --rate 100 --latency 100 --nemesis partition
run 4 g-counter -w g-counter --node-count 3 --rate 100 --time-limit 20 --nemesis partition
run 5a kafka-replicated -w kafka --node-count 1 --concurrency 2n --time-limit 20 --rate 1000
run 5b kafka-lin-kv -w kafka --node-count 2 --concurrency 2n --time-limit 20 --rate 1000
run 5b kafka-lin-kv -w kafka --node-count 2 --concurrency 2n --time-limit 20 --rate 1000 --nemesis partition
run 5b kafka-replicated -w kafka --node-count 2 --concurrency 2n --time-limit 20 --rate 1000
run 5b kafka-replicated -w kafka --node-count 2 --concurrency 2n --time-limit 20 --rate 1000 --nemesis partition
run 6a txn-single -w txn-rw-register --node-count 1 --time-limit 20 --rate 1000 --concurrency 2n --consistency-models read-uncommitted --availability total
run 6b txn-rc -w txn-rw-register --node-count 2 --concurrency 2n --time-limit 20 --rate 1000 --consistency-models read-uncommitted
run 6b txn-rc -w txn-rw-register --node-count 2 --concurrency 2n --time-limit 20 --rate 1000 --consistency-models read-uncommitted --availability total --nemesis partition
run 6c txn-rc -w txn-rw-register --node-count 2 --concurrency 2n --time-limit 20 --rate 1000 --consistency-models read-committed --availability total --nemesis partition
exit $failed
