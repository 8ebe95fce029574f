//! `txn-aborted-reads` (planted bug): `txn-single`, but `n0` answers every N-th transaction that
//! writes with error 30 (txn-conflict) after its writes took effect, and does not undo them.
//! Later reads observe the aborted writes: **G1a** (aborted read), caught under
//! `read-committed` and every stronger model; `read-uncommitted` (which forbids only G0)
//! allows it. Both workloads. See `nodes::txn::aborted_reads`.
//!
//! Flags: `--abort-every N` (default 3).

fn main() -> std::process::ExitCode {
    nodes::catalog::main("txn-aborted-reads")
}
