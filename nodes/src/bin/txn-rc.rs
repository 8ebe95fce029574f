//! `txn-rc`: a totally available transactional store that meets read committed (Gossip
//! Glomers 6c): local transactions, writes buffered until commit, replicated to every peer with
//! the transaction's Lamport timestamp, last writer wins. txn-rw-register only (appends get error
//! 10). Not serializable: G-single and G2-item show under `--consistency-models serializable`.
//! See `nodes::txn::replicated`.
//!
//! Flags: `--retry-ms N` (an unacknowledged replication is sent again after this long, default
//! 200).

fn main() -> std::process::ExitCode {
    nodes::catalog::main("txn-rc")
}
