//! Property tests of the linearizability checker: a random sequential execution of a
//! cas-register, stretched into random overlapping intervals, is linearizable; the same with
//! one read changed to a value never written is not, and the failure names that read.

use checker::Validity;
use checker::history::{Event, EventType};
use checker::lin::{LinOptions, ModelKind, check_linearizable};
use checker::synth::{KvShape, kv_history};
use proptest::prelude::*;
use serde_json::json;

/// A history of `processes` clients and about `ops` ops on two keys (lin-kv values), every op
/// taking effect at a random instant within its interval; some writes end indefinite.
fn history(seed: u64, processes: usize, ops: usize) -> Vec<Event> {
    kv_history(
        seed,
        KvShape {
            clients: processes,
            ops_per_client: ops / processes + 1,
            keys: 2,
            values: 4,
            indefinite_writes: 0.15,
        },
    )
}

fn kv() -> LinOptions {
    let mut opts = LinOptions::new(ModelKind::Kv);
    opts.threads = 2;
    opts
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn stretched_sequential_executions_are_linearizable(seed in any::<u64>(), processes in 1usize..6, ops in 1usize..40) {
        let events = history(seed, processes, ops);
        let result = check_linearizable(&events, &kv()).unwrap();
        prop_assert_eq!(result.valid, Validity::Valid, "{}", result);
    }

    #[test]
    fn a_read_of_a_value_never_written_is_caught(seed in any::<u64>(), processes in 1usize..6, ops in 1usize..40, pick in any::<prop::sample::Index>()) {
        let mut events = history(seed, processes, ops);
        let reads: Vec<usize> = events
            .iter()
            .enumerate()
            .filter(|(_, e)| e.f == "read" && e.kind == EventType::Ok)
            .map(|(i, _)| i)
            .collect();
        prop_assume!(!reads.is_empty());
        let at = reads[pick.index(reads.len())];
        let key = events[at].value[0].clone();
        events[at].value = json!([key, 99]);
        let result = check_linearizable(&events, &kv()).unwrap();
        prop_assert_eq!(result.valid, Validity::Invalid, "{}", result);
        let failure = result.failure.unwrap();
        prop_assert_eq!(failure.op.complete_index, Some(at as u64));
        prop_assert!(failure.states.iter().all(|s| s.state != json!(99)));
        prop_assert!(!failure.states.is_empty());
    }
}
