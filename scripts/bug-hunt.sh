#!/usr/bin/env bash
# make bug-hunt: explore every planted bug with `harness explore` under the simulator, then
# its correct twin with the same settings.
#
# Per bug: found or not, after how many seeds, the wall time, and the shrunk command that
# replays the failure (its report is in the store). Per correct twin: the seeds explored and
# whether any failed (a false alarm). Exit code 0 only when every bug was found within its
# budget and no correct twin failed.
#
#   BUG_BUDGET=60        seconds of exploration per bug (shrinking not included)
#   CORRECT_SEEDS=10000  seeds per correct twin
#   STORE=store          where the shrunk runs are written
#   ONLY=bug,bug         only these planted bugs (and their twins)
set -u
cd "$(dirname "$0")/.."
HARNESS=${HARNESS:-target/release/harness}
BUDGET=${BUG_BUDGET:-60}
CORRECT_SEEDS=${CORRECT_SEEDS:-10000}
STORE=${STORE:-store}

# bug | its correct twin | the flags both are explored with (the workload, what is checked;
# no shape flag: every seed draws its own)
HUNTS=(
  "kv-stale-reads|lin-kv-tob|-w lin-kv"
  "broadcast-fifo-reorder|broadcast-fifo|-w broadcast --ordering fifo"
  "broadcast-causal-forgets|broadcast-causal|-w broadcast --ordering causal"
  "broadcast-total-tiebreak|broadcast-total-lamport|-w broadcast --ordering total"
  "lin-kv-forgets-on-restart|lin-kv-leader|-w lin-kv"
  "g-counter-double-count|g-counter|-w g-counter --nemesis duplicate"
  "unique-ids-restart|unique-ids|-w unique-ids"
  "pn-counter-double-count|pn-counter|-w pn-counter"
  "g-set-lossy|g-set|-w g-set"
  "kafka-racy-offsets|kafka-lin-kv|-w kafka"
  "txn-dirty-writes|txn-single|-w txn-list-append --consistency-models read-uncommitted"
  "txn-aborted-reads|txn-single|-w txn-list-append --consistency-models read-committed"
  "txn-intermediate-reads|txn-rc|-w txn-rw-register --consistency-models read-committed"
  "txn-lost-updates|txn-single|-w txn-list-append --consistency-models serializable"
  "kv-gossip-wall-clock|kv-gossip|-w lww-register --nemesis clock"
  "failure-detector-one-clock|failure-detector|-w failure-detector"
  "time-sync-once|time-sync|-w time-sync --nemesis clock"
)
if [ -n "${ONLY:-}" ]; then
  chosen=()
  for hunt in "${HUNTS[@]}"; do
    case ",$ONLY," in *",${hunt%%|*},"*) chosen+=("$hunt") ;; esac
  done
  if [ ${#chosen[@]} -eq 0 ]; then
    echo "bug-hunt: ONLY=$ONLY names no planted bug of this script" >&2
    exit 2
  fi
  HUNTS=("${chosen[@]}")
fi

now() { date +%s.%N; }
status=0
printf '%-26s %-6s %7s %8s  %s\n' "planted bug" found seeds "wall s" "shrunk command"
for hunt in "${HUNTS[@]}"; do
  IFS='|' read -r bug twin flags <<<"$hunt"
  start=$(now)
  # shellcheck disable=SC2086
  out=$("$HARNESS" explore $flags --node "$bug" --max-time "$BUDGET" --store "$STORE" 2>/dev/null)
  wall=$(awk -v a="$(now)" -v b="$start" 'BEGIN { print a - b }')
  failure=$(grep -m1 ' fails: ' <<<"$out")
  if [ -n "$failure" ]; then
    seeds=$(sed -E 's/.*seed number ([0-9]+) of this exploration.*/\1/' <<<"$failure")
    shrunk=$(grep -A1 'the smallest failing command:' <<<"$out" | tail -1 | sed 's/^ *//')
    printf '%-26s %-6s %7s %8.1f  %s\n' "$bug" yes "$seeds" "$wall" "$shrunk"
  else
    seeds=$(grep -m1 -oE '^[0-9]+ seeds' <<<"$out" | cut -d' ' -f1)
    printf '%-26s %-6s %7s %8.1f  %s\n' "$bug" NO "${seeds:-0}" "$wall" "(not found within ${BUDGET} s)"
    status=1
  fi
done
echo
printf '%-26s %7s %8s  %s  %s\n' "correct twin" seeds "wall s" verdict "[flags]"
for hunt in "${HUNTS[@]}"; do
  IFS='|' read -r bug twin flags <<<"$hunt"
  start=$(now)
  # shellcheck disable=SC2086
  out=$("$HARNESS" explore $flags --node "$twin" --seeds "$CORRECT_SEEDS" --no-shrink --store "$STORE" 2>/dev/null)
  wall=$(awk -v a="$(now)" -v b="$start" 'BEGIN { print a - b }')
  seeds=$(grep -m1 -oE '^[0-9]+ seeds' <<<"$out" | cut -d' ' -f1)
  failure=$(grep -m1 ' fails: ' <<<"$out")
  if [ -n "$failure" ]; then
    printf '%-26s %7s %8.1f  %s  [%s]\n' "$twin" "${seeds:-?}" "$wall" "FALSE ALARM: $failure" "$flags"
    grep -m1 'replay:' <<<"$out"
    status=1
  else
    unavailable=$(grep -oE '[0-9]+ run\(s\) judged invalid only by the stats rule' <<<"$out" | cut -d' ' -f1)
    printf '%-26s %7s %8.1f  %s  [%s]\n' "$twin" "${seeds:-?}" "$wall" \
      "no failure${unavailable:+ ($unavailable unavailable under faults)}" "$flags"
  fi
done
exit $status
