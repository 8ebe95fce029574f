//! `pn-counter-double-count`: the PN-counter whose merge adds the sender's own
//! counts; its reads go out of range. See `nodes::crdt::pn_counter_double_count`.
//!
//! Flags: `--interval-ms N` (how often each node gossips its state, default 200).

fn main() -> std::process::ExitCode {
    nodes::catalog::main("pn-counter-double-count")
}
