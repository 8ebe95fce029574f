//! `txn-intermediate-reads` (planted bug): `txn-rc` that replicates every write micro-op to its
//! peers as soon as it runs, not just each key's final write at commit. A transaction that
//! writes a key twice exposes the intermediate value at other nodes: **G1b** (intermediate
//! read), caught under `read-committed` and stronger, allowed by `read-uncommitted`.
//! txn-rw-register only. See `nodes::txn::intermediate_reads`.
//!
//! Flags: `--retry-ms N` (default 200).

fn main() -> std::process::ExitCode {
    nodes::catalog::main("txn-intermediate-reads")
}
