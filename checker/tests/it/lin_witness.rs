//! Every invalid register verdict comes with a witness a person can check by hand, or, when
//! no few ops prove it, with the reason each state the object could have been in is excluded.

use std::collections::BTreeMap;

use checker::Validity;
use checker::history::Event;
use checker::lin::{LinFailure, LinOptions, ModelKind, check_linearizable};
use checker::synth::{RegisterShape, register_history};
use serde_json::json;

fn check(events: &[Event], cas: bool) -> Option<LinFailure> {
    let mut opts = LinOptions::new(if cas {
        ModelKind::CasRegister
    } else {
        ModelKind::Register
    });
    opts.initial = Some(json!(0));
    opts.threads = 1;
    let result = check_linearizable(events, &opts).unwrap();
    assert_ne!(result.valid, Validity::Unknown);
    result.failure
}

/// The generator's small register histories (2 to 4 processes of 2 to 5 ops, 1 to 3 values,
/// with or without cas, broken once or twice): every invalid one is explained by a witness of
/// a few ops, or, failing that, by the reason each state the object could have been in is
/// excluded. Before the witness kinds `unwritten` from the initial value, `consumed`,
/// `consumed-twice`, `went-back` and `disagree`, 147 of the 797 invalid ones had no witness,
/// and their sentence gave one state's reason at most.
#[test]
fn every_invalid_random_register_history_has_a_witness_or_a_reason() {
    const HISTORIES: u64 = 2000;
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    let mut invalid = 0;
    for seed in 0..HISTORIES {
        let shape = RegisterShape::small(seed);
        let events = register_history(seed, shape);
        let Some(failure) = check(&events, shape.cas) else {
            continue;
        };
        invalid += 1;
        match &failure.witness {
            Some(w) => {
                *kinds.entry(w.kind).or_default() += 1;
                assert!(
                    !failure.explanation.is_empty() && !w.could_return.is_empty(),
                    "seed {seed}: {failure}"
                );
            }
            None => {
                *kinds.entry("none (a reason)").or_default() += 1;
                // The reason: every state it could have seen, each with why it is excluded,
                // in the sentence.
                assert!(!failure.states.is_empty(), "seed {seed}: {failure}");
                for s in failure.states.iter().take(4) {
                    assert!(
                        !s.why.is_empty() && failure.explanation.contains(&s.why),
                        "seed {seed}: {failure}"
                    );
                }
            }
        }
    }
    println!("{invalid} invalid histories of {HISTORIES}; by witness kind: {kinds:?}");
    assert!(invalid > HISTORIES as usize / 4, "{invalid}");
    for kind in [
        "stale",
        "unwritten",
        "consumed",
        "consumed-twice",
        "went-back",
        "disagree",
    ] {
        assert!(kinds.contains_key(kind), "no {kind} witness: {kinds:?}");
    }
    let without = kinds.get("none (a reason)").copied().unwrap_or(0);
    assert!(
        without * 100 <= invalid,
        "{without} of {invalid} invalid histories without a witness"
    );
}
