//! `txn-single`: a strict-serializable transactional store: every node forwards each
//! transaction to `n0`, which holds the one copy and runs transactions one at a time (Gossip
//! Glomers 6a with one node). Serves txn-rw-register and txn-list-append. Unavailable to nodes
//! cut off from `n0`. See `nodes::txn::single`.
//!
//! Flags: none.

fn main() -> std::process::ExitCode {
    nodes::catalog::main("txn-single")
}
