#!/usr/bin/env bash
# The CRDT nodes under partitions, one line each: g-set and pn-counter must be valid, their
# broken variants must be caught, with the checker's reading of what went wrong.
#
#   scripts/test-crdt.sh [SEED]          (SEED defaults to 1)
#
# Each node runs as `harness test` on 3 nodes, 50 ops/s for 10 s, a partition every 2 s on
# average, 2 s of recovery; its run folder is in store/<workload>/. Exits 1 if a correct node
# is not valid or a broken one is not invalid.
#
# HARNESS names the harness binary and BIN the folder of the node programs (default:
# target/release for both).

set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${BIN:-$root/target/release}"
harness="${HARNESS:-$bin/harness}"
seed="${1:-1}"
status=0

# workload, node program, the verdict it must get (0 valid, 1 invalid)
while read -r workload node expect; do
    out="$("$harness" test -w "$workload" --bin "$bin/$node" --node-count 3 --time-limit 10 \
        --rate 50 --nemesis partition --nemesis-interval 2 --recovery-time 2 --seed "$seed" \
        --no-progress 2>&1)"
    code=$?
    verdict="$(grep -m1 -E "^(set-full|$workload): " <<<"$out")"
    reading="$(grep -m1 -E "^  (lost: |final read at )" <<<"$out")"
    printf '%-24s %-11s exit %d  %s\n' "$node" "$workload" "$code" "${verdict:-no verdict}"
    [ -n "$reading" ] && printf '%-24s %s\n' "" "${reading#  }"
    if [ "$code" != "$expect" ]; then
        echo "test-crdt: $node should have exited $expect (0 valid, 1 invalid); its run:" >&2
        echo "$out" >&2
        status=1
    fi
done <<'EOF'
g-set g-set 0
g-set g-set-lossy 1
pn-counter pn-counter 0
pn-counter pn-counter-double-count 1
EOF
exit "$status"
