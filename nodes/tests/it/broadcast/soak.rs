//! An on-demand soak test of the ordered broadcasts: many seeds, cluster sizes 3 to 5, every
//! kind of fault including chaos, all four algorithms, every property. Not part of the normal
//! suite (it runs for minutes); run it with
//!
//! ```text
//! SOAK_SEEDS=200 SOAK_FIRST=0 cargo test --release -p nodes --test it soak -- --ignored
//! ```
//!
//! and print a failing seed's fault and acknowledgement events with `WORKLOAD_TRACE=1`.

use std::time::Duration;

use nodes::broadcast::causal::Causal;
use nodes::broadcast::fifo::Fifo;
use nodes::broadcast::total_lamport::TotalLamport;
use nodes::broadcast::total_leader::TotalLeader;

use super::workload::{
    Faults, Outcome, Scenario, check_causal, check_complete, check_fifo, check_no_duplicates,
    check_total, run,
};

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn safe(o: &Outcome) -> Result<(), String> {
    check_no_duplicates(o)?;
    check_complete(o)
}

#[test]
#[ignore]
fn ordered_broadcasts_survive_every_fault_on_many_seeds() {
    let first = env("SOAK_FIRST", 0);
    let seeds = env("SOAK_SEEDS", 50);
    let mut failures = Vec::new();
    for seed in first..first + seeds {
        let nodes = 3 + (seed % 3) as usize;
        let f = Faults::of_kind(seed / 3);
        let mut scenario = Scenario::new(nodes, seed).with_faults(f);
        scenario.duration = Duration::from_secs(4);
        scenario.recovery = Duration::from_secs(8);
        let results = [
            ("fifo", {
                let o = run(scenario, Fifo::default);
                safe(&o).and(check_fifo(&o))
            }),
            ("causal", {
                let o = run(scenario, Causal::default);
                safe(&o).and(check_causal(&o))
            }),
            ("total-leader", {
                let o = run(scenario, TotalLeader::default);
                safe(&o).and(check_total(&o))
            }),
            ("total-lamport", {
                let o = run(scenario, TotalLamport::default);
                safe(&o).and(check_total(&o))
            }),
        ];
        for (name, result) in results {
            if let Err(e) = result {
                failures.push(format!("seed {seed}, {nodes} nodes, {f:?}, {name}: {e}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
