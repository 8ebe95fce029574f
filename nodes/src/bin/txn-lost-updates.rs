//! `txn-lost-updates` (planted bug): `txn-single`, but `n0` runs a transaction's reads when it
//! arrives and applies its writes `--commit-delay-ms` later, without checking what changed in
//! between. Concurrent read-modify-write transactions lose updates: **G-single** (lost update),
//! caught under `serializable` (and snapshot isolation), allowed by `read-committed`. Both
//! workloads. See `nodes::txn::lost_updates`.
//!
//! Flags: `--commit-delay-ms N` (default 100).

fn main() -> std::process::ExitCode {
    nodes::catalog::main("txn-lost-updates")
}
