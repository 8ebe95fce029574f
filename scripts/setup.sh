#!/usr/bin/env bash
# The Debian packages some tests and features use, installed when missing (needs root):
#   faketime   libfaketime, which bends node processes' wall clocks (--nemesis clock, time-sync)
#   nftables   real partitions between agents' hosts (--hosts), the namespace test
#   iproute2   network namespaces for that test
# Without root, or without a package registry, it says what is missing; the tests that need a
# package then say what they skipped.
set -uo pipefail
missing=()
command -v faketime >/dev/null || missing+=(faketime)
command -v nft >/dev/null || missing+=(nftables)
command -v ip >/dev/null || missing+=(iproute2)
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "setup: not root, so not installing: ${missing[*]} (tests that need them will say so)"
    exit 0
fi
apt-get update -qq >/dev/null 2>&1 || true
if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1; then
    echo "setup: could not install ${missing[*]}; tests that need them will say what they skipped"
fi
exit 0
