#!/usr/bin/env bash
# Stand up (or tear down) "hosts" for a multi-machine run on one Linux machine: network
# namespaces joined by veth pairs to a bridge, with no route out.
#
#   scripts/netns.sh up   PREFIX HOSTS NET    e.g. up hx42 3 10.213.42
#   scripts/netns.sh down PREFIX HOSTS NET
#
# `up` makes PREFIX-c (the controller's namespace, holding the bridge, address NET.1) and
# PREFIX-0 .. PREFIX-(HOSTS-1) (the hosts, addresses NET.10, NET.11, ...), each joined to the
# bridge by a veth pair. Before anything else it installs an `unreachable` route for NET.0/24
# in the machine's own namespace, so no packet for the test subnet can leave this machine
# whatever happens to the namespaces. `down` removes the namespaces (their links go with them)
# and that route; it is safe to run on a half-built or already removed setup. Needs root and
# iproute2.
set -euo pipefail

cmd=${1:?usage: netns.sh up|down PREFIX HOSTS NET}
prefix=${2:?PREFIX}
hosts=${3:?HOSTS}
net=${4:?NET (three octets, like 10.213.42)}

down() {
    for ((i = 0; i < hosts; i++)); do
        ip netns del "$prefix-$i" 2>/dev/null || true
    done
    ip netns del "$prefix-c" 2>/dev/null || true
    ip route del unreachable "$net.0/24" 2>/dev/null || true
}

up() {
    if ip route show "$net.0/24" | grep -q .; then
        echo "netns.sh: $net.0/24 is already routed on this machine; pick another subnet" >&2
        exit 1
    fi
    # First: nothing for the test subnet leaves this machine.
    ip route add unreachable "$net.0/24"
    trap 'down' ERR
    ip netns add "$prefix-c"
    ip -n "$prefix-c" link set lo up
    ip -n "$prefix-c" link add br0 type bridge
    ip -n "$prefix-c" addr add "$net.1/24" dev br0
    ip -n "$prefix-c" link set br0 up
    for ((i = 0; i < hosts; i++)); do
        local ns="$prefix-$i"
        ip netns add "$ns"
        ip -n "$ns" link set lo up
        ip -n "$prefix-c" link add "veth$i" type veth peer name eth0 netns "$ns"
        ip -n "$prefix-c" link set "veth$i" master br0 up
        ip -n "$ns" addr add "$net.$((10 + i))/24" dev eth0
        ip -n "$ns" link set eth0 up
    done
    trap - ERR
}

case "$cmd" in
up) up ;;
down) down ;;
*)
    echo "usage: netns.sh up|down PREFIX HOSTS NET" >&2
    exit 2
    ;;
esac
