//! `txn-dirty-writes` (planted bug): `txn-rc` that replicates each write micro-op in its own
//! message, without timestamps, and applies replicated writes in arrival order. Two
//! transactions writing the same two keys can leave them in opposite orders: **G0** (write
//! cycle), forbidden under every model, `read-uncommitted` included; plainest with
//! txn-list-append. See `nodes::txn::dirty_writes`.
//!
//! Flags: `--retry-ms N` (default 200).

fn main() -> std::process::ExitCode {
    nodes::catalog::main("txn-dirty-writes")
}
