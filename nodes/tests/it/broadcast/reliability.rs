//! Eager and gossip broadcast in simulated clusters: whatever the faults, once they heal every
//! acknowledged value reaches every node, each at most once, and no node forgets what it
//! delivered.

use nodes::broadcast::eager::Eager;
use nodes::broadcast::gossip::{GossipConfig, GossipNode, Peers};
use proptest::prelude::*;

use super::workload::{
    Faults, Scenario, check_complete, check_never_goes_back, check_no_duplicates, run,
};

fn faults() -> impl Strategy<Value = Faults> {
    (
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(loss, partition, crash, chaos, crash_any, crash_all)| Faults {
                loss: if loss { 0.15 } else { 0.0 },
                partition,
                crash,
                chaos,
                crash_any,
                crash_all,
            },
        )
}

proptest! {
    #![proptest_config(super::ordering::config())]

    #[test]
    fn eager_delivers_every_acknowledged_value_everywhere(seed in any::<u64>(), nodes in 2usize..=6, faults in faults()) {
        let o = run(Scenario::new(nodes, seed).with_faults(faults), Eager::default);
        prop_assert_eq!(check_no_duplicates(&o), Ok(()));
        prop_assert_eq!(check_complete(&o), Ok(()));
        prop_assert_eq!(check_never_goes_back(&o), Ok(()));
    }

    #[test]
    fn gossip_delivers_every_acknowledged_value_everywhere(seed in any::<u64>(), nodes in 2usize..=7, fanout in 1usize..=3, random in any::<bool>(), faults in faults()) {
        let peers = if random { Peers::Random } else { Peers::Tree };
        let config = GossipConfig { peers, fanout, ..GossipConfig::default() };
        let o = run(Scenario::new(nodes, seed).with_faults(faults), move || GossipNode::new(config));
        prop_assert_eq!(check_no_duplicates(&o), Ok(()));
        prop_assert_eq!(check_complete(&o), Ok(()));
        prop_assert_eq!(check_never_goes_back(&o), Ok(()));
    }
}

/// Without faults nearly every broadcast is acknowledged, so the properties above are not
/// checked on empty histories.
#[test]
fn without_faults_broadcasts_are_acknowledged() {
    let eager = run(Scenario::new(4, 1), Eager::default);
    let gossip = run(Scenario::new(4, 1), GossipNode::default);
    for (name, o) in [("eager", eager), ("gossip", gossip)] {
        let acked = o.history.ops.iter().filter(|op| op.acked.is_some()).count();
        assert!(
            acked >= 10 && acked * 10 >= o.history.ops.len() * 8,
            "{name}: {acked} of {}",
            o.history.ops.len()
        );
        assert_eq!(check_complete(&o), Ok(()));
    }
}
