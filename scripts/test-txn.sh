#!/usr/bin/env bash
# The transactional stores, one line each: the correct ones must be valid against the model
# they claim, the broken ones must be caught, with the anomaly the checker named first.
#
#   scripts/test-txn.sh [SEED]          (SEED defaults to 1)
#
# Each node runs as `harness test` on 2 real processes, 2 clients per node, 200 txns/s for
# 10 s, with a partition every 2 s on average and 2 s of recovery; its run folder (with the
# cycle drawn in report.html) is in store/<workload>/. Exits 1 if a correct node is not valid
# or a broken one is not invalid.
#
# HARNESS names the harness binary and BIN the folder of the node programs (default:
# target/release for both).

set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${BIN:-$root/target/release}"
harness="${HARNESS:-$bin/harness}"
seed="${1:-1}"
status=0

# node program, workload, models, the verdict it must get (0 valid, 1 invalid)
while read -r node workload models expect; do
    out="$("$harness" test -w "$workload" --bin "$bin/$node" --node-count 2 --concurrency 2n \
        --time-limit 10 --rate 200 --consistency-models "$models" --nemesis partition \
        --nemesis-interval 2 --recovery-time 2 --seed "$seed" --no-progress 2>&1)"
    code=$?
    verdict="$(grep -m1 -E "^isolation " <<<"$out")"
    first="$(grep -m1 -E "^  (G[0-9A-Za-z-]*|internal|incompatible-order|lost-update|dirty-update|duplicate-elements)[^ ]*: [0-9]+$" <<<"$out")"
    printf '%-23s %-16s exit %d  %s\n' "$node" "$workload" "$code" "${verdict:-no verdict}"
    [ -n "$first" ] && printf '%-23s %s\n' "" "first anomaly type: ${first#  }"
    if [ "$code" != "$expect" ]; then
        echo "test-txn: $node should have exited $expect (0 valid, 1 invalid); its run:" >&2
        echo "$out" >&2
        status=1
    fi
done <<'EOF_NODES'
txn-single txn-list-append strict-serializable 0
txn-single txn-rw-register strict-serializable 0
txn-rc txn-rw-register read-committed 0
txn-rc txn-rw-register serializable 1
txn-dirty-writes txn-list-append read-uncommitted 1
txn-aborted-reads txn-list-append read-committed 1
txn-intermediate-reads txn-rw-register read-committed 1
txn-lost-updates txn-list-append serializable 1
EOF_NODES
exit "$status"
