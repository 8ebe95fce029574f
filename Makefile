# The project's commands. `make test-broadcast` and `make test` are the two a newcomer needs.

CARGO ?= cargo
RELEASE := target/release
HARNESS := $(RELEASE)/harness

.PHONY: setup all build build-debug test test-broadcast test-glomers test-lin-kv test-crdt test-txn compare compare-growth \
        compare-frontier compare-byzantine compare-clocks lint fmt bench \
        bench-checker bench-txn bench-runner bench-sim bench-hosts bug-hunt report-check clean

all: build

## setup: install the Debian packages some features use, when missing (root): faketime (clock
## faults on node processes), nftables and iproute2 (the multi-host test)
setup:
	scripts/setup.sh

## build: every binary (the harness and the node programs), optimised
build:
	$(CARGO) build --release --workspace --bins

build-debug:
	$(CARGO) build --workspace --bins

## test-broadcast: every broadcast variant under each kind of fault (30 short runs side by side)
test-broadcast: build
	$(HARNESS) compare --preset faults

## test-glomers: every Gossip Glomers challenge command with this repository's node for it
test-glomers: build
	scripts/test-glomers.sh $(SEED)

## test-lin-kv: the four key-value nodes under partitions: linearizable, or caught and why
test-lin-kv: build
	$(HARNESS) compare --preset lin-kv

## test-crdt: g-set, pn-counter and their broken variants under partitions: valid, or caught and why
test-crdt: build
	scripts/test-crdt.sh

## test-txn: the transactional stores under partitions: valid against the model they claim, or
## caught with the anomaly named
test-txn: build
	scripts/test-txn.sh

## bug-hunt: explore every planted bug under the simulator (found? after how many seeds? the
## shrunk command), then its correct twin on 10,000 seeds (no false alarm)
bug-hunt: build
	scripts/bug-hunt.sh

## compare: the Gossip Glomers broadcast setup, without faults and with partitions; gossip at the
## cheapest setting of its frontier that meets the setup's latency target (make compare-frontier)
GOSSIP_FRONTIER := --interval-ms 600 --anti-entropy-ms 4000
compare: build
	$(HARNESS) compare --preset glomers --args-for "broadcast-gossip=$(GOSSIP_FRONTIER)"

## compare-growth: copies per broadcast against n (5 to 100 nodes), eager and gossip unbatched,
## simulated: eager's n(n-1) against gossip's about n
compare-growth: build
	$(HARNESS) compare --sim --bins broadcast-eager,broadcast-gossip --only "no faults" \
	  --sweep node-count=5,10,25,50,100 --time-limit 5 --rate 10 --seed 20261202 -- --interval-ms 0

## compare-byzantine: one Byzantine node (dropping, corrupting, forging, equivocating): Bracha's
## broadcast valid with n = 4, f = 1; eager and gossip invalid; Bracha at n = 3 (3f) broken
compare-byzantine: build
	$(HARNESS) compare --preset byzantine --sim --seed 20261203

## compare-frontier: gossip's messages per op against visibility latency on the Glomers setup,
## over a grid of batching intervals, fanouts and both peer modes, simulated
compare-frontier: build
	$(HARNESS) compare --preset frontier --sim --seed 20261202

## compare-clocks: last-writer-wins stamped by Lamport clocks and by wall clocks, without faults
## and under clock faults (5 seeds each), simulated: skew loses causally later writes
compare-clocks: build
	$(HARNESS) compare --preset clocks --sim --seed 20261203

## bench: criterion benches of the hot paths (bench/README.md): protocol, routing, checkers
bench:
	$(CARGO) bench -p bench

## bench-runner: the harness's CPU per routed message and wall time of a 25-node run
bench-runner: build
	$(RELEASE)/bench-runner

## bench-sim: the simulator's speed: the Glomers broadcast setup against real time, and
## exploration's seeds per minute
bench-sim: build
	scripts/bench-sim.sh

## bench-hosts: the Glomers broadcast setup across three network namespaces (one agent each,
## real links, nothing leaves the machine) beside the same run on one machine and simulated:
## msgs/op, latencies, measured delays and clock offsets (needs root)
bench-hosts: build
	scripts/bench-hosts.sh $(SEED)

## bench-checker: time and peak memory of the checkers (corpus c50 files, 100k-op broadcast)
bench-checker: build
	$(RELEASE)/bench-checker

## bench-txn: the isolation checker: criterion on 10k and 100k txns, then time and peak
## memory in a fresh process for 10k, 30k, 100k, 300k and 1M txns (the cost curve), a
## 100k history with stale reads and a 100k rw-register history; then the whole `harness check`
## command on 100k and 1M-transaction files
bench-txn: build
	$(CARGO) bench -p bench --bench txn
	$(RELEASE)/bench-checker txn-10k txn-30k txn-100k txn-100k-stale txn-rw-100k txn-300k-stream \
		txn-1m-stream
	$(RELEASE)/bench-txn-check

## report-check: render store/latest/report.html in headless Chromium and check the screenshot
report-check:
	scripts/report-check.sh $(DIR)

## test: every unit, property, integration and end-to-end test
test: build-debug
	$(CARGO) test --workspace

## lint: formatting and clippy, warnings are errors
lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean
	rm -rf store
