//! The course's fail-recovery model: a crash loses a node's memory, not its stable storage.
//! With what they persist, every broadcast algorithm survives any kill pattern: one node, a
//! majority, every node at once, again and again, and kills during recovery. After the heal,
//! every acknowledged value is delivered everywhere, each algorithm's order holds in every
//! incarnation's log, and no node ever forgets what it delivered (its reads never go back).

use nodes::broadcast::causal::Causal;
use nodes::broadcast::eager::Eager;
use nodes::broadcast::fifo::Fifo;
use nodes::broadcast::gossip::GossipNode;
use nodes::broadcast::total_lamport::TotalLamport;
use nodes::broadcast::total_leader::TotalLeader;
use proptest::prelude::*;

use super::workload::{
    Faults, Outcome, Scenario, check_causal, check_complete, check_fifo, check_never_goes_back,
    check_no_duplicates, check_total, run,
};

/// Which order each algorithm promises, checked on top of the common properties.
#[derive(Debug, Clone, Copy)]
enum Promise {
    Reliable,
    Fifo,
    Causal,
    Total,
}

fn check(o: &Outcome, promise: Promise) -> Result<(), String> {
    check_no_duplicates(o)?;
    check_complete(o)?;
    check_never_goes_back(o)?;
    match promise {
        Promise::Reliable => Ok(()),
        Promise::Fifo => check_fifo(o),
        Promise::Causal => check_causal(o),
        Promise::Total => check_total(o),
    }
}

/// Run algorithm `name` through `scenario` and check it. With `busy`, some broadcast must have
/// been acknowledged, so the checks had work (under chaos the ordered algorithms are rightly
/// unavailable much of the time: the Lamport one whenever any node is down).
fn run_one(name: &str, scenario: Scenario, busy: bool) -> Result<(), String> {
    let go = |o: Outcome, promise: Promise| {
        let acked = o.history.ops.iter().filter(|op| op.acked.is_some()).count();
        if busy && acked == 0 {
            return Err("nothing was acknowledged: the check had no work".into());
        }
        check(&o, promise)
    };
    match name {
        "eager" => go(run(scenario, Eager::default), Promise::Reliable),
        "gossip" => go(run(scenario, GossipNode::default), Promise::Reliable),
        "fifo" => go(run(scenario, Fifo::default), Promise::Fifo),
        "causal" => go(run(scenario, Causal::default), Promise::Causal),
        "total-leader" => go(run(scenario, TotalLeader::default), Promise::Total),
        "total-lamport" => go(run(scenario, TotalLamport::default), Promise::Total),
        other => Err(format!("unknown algorithm {other}")),
    }
}

const ALGORITHMS: [&str; 6] = [
    "eager",
    "gossip",
    "fifo",
    "causal",
    "total-leader",
    "total-lamport",
];

/// Every node killed at once in the middle of the run, then restarted: without stable storage
/// every value acknowledged before the kill would be gone; with it nothing is.
#[test]
fn every_algorithm_survives_the_kill_of_every_node_at_once() {
    let faults = Faults {
        crash_all: true,
        ..Faults::default()
    };
    for name in ALGORITHMS {
        for seed in 0..3 {
            let scenario = Scenario::new(5, seed).with_faults(faults);
            if let Err(why) = run_one(name, scenario, true) {
                panic!("{name}, seed {seed}: {why}");
            }
        }
    }
}

proptest! {
    #![proptest_config(super::ordering::config())]

    /// Chaos that kills any number of nodes at once, up to all of them, while others are still
    /// recovering from the previous kill, with partitions and heals in between.
    #[test]
    fn every_algorithm_survives_repeated_kills_of_any_nodes(seed in any::<u64>(), nodes in 3usize..=5, which in 0usize..6) {
        let faults = Faults {
            chaos: true,
            crash_any: true,
            ..Faults::default()
        };
        let mut scenario = Scenario::new(nodes, seed).with_faults(faults);
        scenario.recovery = std::time::Duration::from_secs(8);
        let result = run_one(ALGORITHMS[which], scenario, false);
        prop_assert!(result.is_ok(), "{}: {:?}", ALGORITHMS[which], result);
    }
}
