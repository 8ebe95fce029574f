#!/usr/bin/env bash
# The Gossip Glomers broadcast setup (broadcast-gossip, 25 nodes, 100 ops/s, 100 ms latency,
# grid topology, 20 s, one seed) three ways, side by side: across three "hosts" (network
# namespaces made by scripts/netns.sh, one `harness agent` in each, the controller in a fourth;
# nothing leaves the machine), on one machine (the process backend), and simulated (--sim).
# Prints messages per op and latencies from each run's results.json, and for the run across
# hosts the measured one-way delays and clock offsets. Needs root and iproute2.
#
#   scripts/bench-hosts.sh [SEED]
set -euo pipefail
cd "$(dirname "$0")/.."
seed=${1:-20261202}
harness=target/release/harness
node=$PWD/target/release/broadcast-gossip
if [ "$(id -u)" != 0 ]; then
    echo "bench-hosts: needs root (it makes network namespaces)" >&2
    exit 2
fi
prefix=hxb$$
net=10.214.$(($$ % 200 + 20))
work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    scripts/netns.sh down "$prefix" 3 "$net"
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
scripts/netns.sh up "$prefix" 3 "$net"
"$harness" agent --new-key "$work/key" >/dev/null
hosts=""
for i in 0 1 2; do
    ip netns exec "$prefix-$i" "$harness" agent --listen "$net.$((10 + i)):7077" \
        --key-file "$work/key" --allow "$node" --dir "$work/agent$i" >"$work/agent$i.log" 2>&1 &
    pids+=($!)
    hosts+="${hosts:+,}$net.$((10 + i)):7077"
done
sleep 1
common=(-w broadcast --node-count 25 --time-limit 20 --rate 100 --latency 100
    --latency-dist constant --topology grid --seed "$seed" --no-progress)
echo "across three namespaces (--hosts $hosts):"
ip netns exec "$prefix-c" "$harness" test --bin "$node" "${common[@]}" --hosts "$hosts" \
    --key-file "$work/key" --store "$work/hosts" | grep -E '^(hosts:|  [^ ].*(clock|delay))|^valid'
echo "on one machine (process backend):"
"$harness" test --bin "$node" "${common[@]}" --store "$work/local" | grep -E '^valid'
echo "simulated (--sim):"
"$harness" test --sim --node broadcast-gossip "${common[@]}" --store "$work/sim" | grep -E '^valid'
echo
python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
rows = [("across 3 namespaces", "hosts"), ("one machine", "local"), ("simulated", "sim")]
print(f"{'run':<22}{'msgs/op':>9}{'msgs/bcast':>11}{'bcast p50':>11}{'bcast max':>11}"
      f"{'visible p50':>13}{'visible max':>13}  valid")
for name, store in rows:
    r = json.load(open(f"{work}/{store}/broadcast/latest/results.json"))
    servers = r["net"]["servers"]
    w = r["workload"]
    b, v = w["broadcast_latencies"], w["visibility_latencies"]
    print(f"{name:<22}{servers['msgs_per_op']:>9.2f}{servers['msgs_per_broadcast']:>11.2f}"
          f"{b['0.5']:>9} ms{b['1']:>8} ms{v['0.5']:>10} ms{v['1']:>10} ms  {r['valid']}")
PY
