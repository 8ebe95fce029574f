//! Differential tests: the fast checkers against slow, obviously faithful ones on small random
//! histories. No false alarms and no missed violations: the verdicts must agree exactly.
//!
//! - Linearizability against a brute-force search over every order of the ops that respects
//!   real time (pending ops may be left out), on a cas-register.
//! - set-full against a direct transcription of Jepsen's reduce: at each ok read, update every
//!   element created so far.

use std::collections::BTreeMap;

use checker::Validity;
use checker::broadcast::BroadcastHistory;
use checker::history::{Event, EventType, Process};
use checker::lin::{LinOptions, ModelKind, check_linearizable};
use checker::set_full::{quantiles, set_full};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

#[derive(Debug, Clone)]
struct RandomOp {
    call: u64,
    ret: Option<u64>,
    outcome: EventType,
    f: &'static str,
    input: Value,
    output: Value,
}

fn to_events(ops: &[RandomOp]) -> Vec<Event> {
    let mut timed = Vec::new();
    for (p, op) in ops.iter().enumerate() {
        let event = |kind, value: &Value| Event {
            index: 0,
            time: 0,
            process: Process::Client(p as u64),
            node: Some(format!("n{}", p % 3)),
            kind,
            f: op.f.to_owned(),
            value: value.clone(),
            error: None,
            is_final: false,
        };
        timed.push((op.call, event(EventType::Invoke, &op.input)));
        if let Some(ret) = op.ret {
            timed.push((ret, event(op.outcome, &op.output)));
        }
    }
    timed.sort_by_key(|(t, _)| *t);
    timed
        .into_iter()
        .enumerate()
        .map(|(i, (t, mut e))| {
            e.index = i as u64;
            e.time = t;
            e
        })
        .collect()
}

/// Random register ops with random results: some linearizable, most not.
fn random_register_ops(seed: u64, n: usize) -> Vec<RandomOp> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|i| {
            let call = (i as u64) * 10 + rng.random_range(0..40) * 10;
            let len = rng.random_range(1..60) * 10 + 5;
            let v = |rng: &mut ChaCha8Rng| json!(rng.random_range(0..3));
            let (f, input, output) = match rng.random_range(0..3) {
                0 => {
                    let out = if rng.random_bool(0.2) {
                        Value::Null
                    } else {
                        v(&mut rng)
                    };
                    ("read", Value::Null, out)
                }
                1 => {
                    let x = v(&mut rng);
                    ("write", x.clone(), x)
                }
                _ => {
                    let x = json!([rng.random_range(0..3), rng.random_range(0..3)]);
                    ("cas", x.clone(), x)
                }
            };
            let outcome = match rng.random_range(0..10) {
                0 => EventType::Info,
                1 if f != "read" => EventType::Fail,
                _ => EventType::Ok,
            };
            let ret = if outcome == EventType::Info && rng.random_bool(0.5) {
                None
            } else {
                Some(call + len)
            };
            RandomOp {
                call,
                ret,
                outcome,
                f,
                input,
                output,
            }
        })
        .collect()
}

/// Is there an order of the ops, respecting real time, that a cas-register starting absent
/// (a null read meaning absent) explains? Failed ops are left out; pending and info ops may
/// be; reads without a value constrain nothing.
fn brute_force(ops: &[RandomOp]) -> bool {
    let live: Vec<&RandomOp> = ops
        .iter()
        .filter(|o| o.outcome != EventType::Fail && !(o.f == "read" && o.outcome != EventType::Ok))
        .collect();
    fn search(ops: &[&RandomOp], done: u32, state: &Value) -> bool {
        let ok = |o: &RandomOp| o.outcome == EventType::Ok;
        if ops
            .iter()
            .enumerate()
            .all(|(i, o)| !ok(o) || done & (1 << i) != 0)
        {
            return true;
        }
        for (i, op) in ops.iter().enumerate() {
            if done & (1 << i) != 0 {
                continue;
            }
            let blocked = ops.iter().enumerate().any(|(j, other)| {
                j != i
                    && done & (1 << j) == 0
                    && ok(other)
                    && other.ret.is_some_and(|r| r < op.call)
            });
            if blocked {
                continue;
            }
            let next = match op.f {
                "read" => (op.output == *state).then(|| state.clone()),
                "write" => Some(op.input.clone()),
                _ => (op.input[0] == *state).then(|| op.input[1].clone()),
            };
            if let Some(next) = next
                && search(ops, done | (1 << i), &next)
            {
                return true;
            }
        }
        false
    }
    search(&live, 0, &Value::Null)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn linearizability_agrees_with_brute_force(seed in any::<u64>(), n in 1usize..8) {
        let ops = random_register_ops(seed, n);
        let events = to_events(&ops);
        let mut opts = LinOptions::new(ModelKind::CasRegister);
        opts.threads = 1;
        let result = check_linearizable(&events, &opts).unwrap();
        let expected = if brute_force(&ops) { Validity::Valid } else { Validity::Invalid };
        prop_assert_eq!(result.valid, expected, "{:#?}\n{}", ops, result);
    }
}

/// Random broadcasts and reads: reads return random subsets, in random order, of values that
/// were or were not broadcast, so every set-full outcome occurs.
fn random_broadcast_ops(seed: u64, n: usize) -> Vec<RandomOp> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut next_value = 0;
    (0..n)
        .map(|i| {
            let call = (i as u64) * 1_000_000 + rng.random_range(0..5) * 1_000_000;
            let len = rng.random_range(1..8) * 1_000_000 + 1;
            if rng.random_bool(0.4) {
                // Mostly new values; sometimes one broadcast again (Jepsen then tracks the
                // element from its last invocation).
                let x = if next_value > 0 && rng.random_bool(0.15) {
                    json!(rng.random_range(0..next_value))
                } else {
                    next_value += 1;
                    json!(next_value - 1)
                };
                let outcome = [
                    EventType::Ok,
                    EventType::Ok,
                    EventType::Info,
                    EventType::Fail,
                ][rng.random_range(0..4)];
                RandomOp {
                    call,
                    ret: Some(call + len),
                    outcome,
                    f: "broadcast",
                    input: x.clone(),
                    output: x,
                }
            } else {
                let mut seen: Vec<Value> = (0..next_value + 2)
                    .filter(|_| rng.random_bool(0.7))
                    .map(|v| json!(v))
                    .collect();
                if rng.random_bool(0.3) {
                    seen.reverse();
                }
                let outcome = if rng.random_bool(0.9) {
                    EventType::Ok
                } else {
                    EventType::Fail
                };
                RandomOp {
                    call,
                    ret: Some(call + len),
                    outcome,
                    f: "read",
                    input: Value::Null,
                    output: Value::Array(seen),
                }
            }
        })
        .collect()
}

#[derive(Default, Clone)]
struct Element {
    known: Option<usize>,
    last_present: Option<usize>,
    last_absent: Option<usize>,
}

/// Jepsen's set-full, transcribed: (lost, never read, stale, stable latencies, lost latencies).
type Summary = (Vec<Value>, Vec<Value>, Vec<Value>, Vec<u64>, Vec<u64>);

fn jepsen_set_full(events: &[Event]) -> Summary {
    let mut elements: BTreeMap<i64, Element> = BTreeMap::new();
    let mut invocations: BTreeMap<u64, usize> = BTreeMap::new();
    for (i, e) in events.iter().enumerate() {
        let Process::Client(p) = e.process else {
            continue;
        };
        match (e.f.as_str(), e.kind) {
            ("broadcast", EventType::Invoke) => {
                elements.insert(e.value.as_i64().unwrap(), Element::default());
            }
            ("broadcast", EventType::Ok) => {
                if let Some(el) = elements.get_mut(&e.value.as_i64().unwrap()) {
                    el.known.get_or_insert(i);
                }
            }
            ("read", EventType::Invoke) => {
                invocations.insert(p, i);
            }
            ("read", EventType::Ok) => {
                let inv = invocations[&p];
                let seen: Vec<i64> = e
                    .value
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_i64().unwrap())
                    .collect();
                for (v, el) in elements.iter_mut() {
                    if seen.contains(v) {
                        el.known.get_or_insert(i);
                        if el.last_present.is_none_or(|lp| lp < inv) {
                            el.last_present = Some(inv);
                        }
                    } else if el.last_absent.is_none_or(|la| la < inv) {
                        el.last_absent = Some(inv);
                    }
                }
            }
            _ => {}
        }
    }
    let (mut lost, mut never, mut stale, mut stable_l, mut lost_l) =
        (vec![], vec![], vec![], vec![], vec![]);
    let idx = |x: Option<usize>| x.map_or(-1, |x| x as i64);
    for (v, el) in &elements {
        let stable = el.last_present.is_some() && idx(el.last_absent) < idx(el.last_present);
        let is_lost = el.known.is_some()
            && el.last_absent.is_some()
            && idx(el.last_present) < idx(el.last_absent)
            && idx(el.known) < idx(el.last_absent);
        let known_time = el.known.map_or(0, |k| events[k].time);
        if stable {
            let t = el.last_absent.map_or(0, |a| events[a].time + 1);
            let l = t.saturating_sub(known_time) / 1_000_000;
            stable_l.push(l);
            if l > 0 {
                stale.push(json!(v));
            }
        } else if is_lost {
            lost.push(json!(v));
            let t = el.last_present.map_or(0, |p| events[p].time + 1);
            lost_l.push(t.saturating_sub(known_time) / 1_000_000);
        } else {
            never.push(json!(v));
        }
    }
    (lost, never, stale, stable_l, lost_l)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn set_full_agrees_with_jepsens_definition(seed in any::<u64>(), n in 1usize..30) {
        let events = to_events(&random_broadcast_ops(seed, n));
        let (lost, never, stale, mut stable_l, mut lost_l) = jepsen_set_full(&events);
        let r = set_full(&BroadcastHistory::new(&events).unwrap(), false);
        prop_assert_eq!(&r.lost, &lost);
        prop_assert_eq!(&r.never_read, &never);
        prop_assert_eq!(&r.stale, &stale);
        prop_assert_eq!(r.stable_latencies, quantiles(&mut stable_l));
        prop_assert_eq!(r.lost_latencies, quantiles(&mut lost_l));
        prop_assert_eq!(r.attempt_count, lost.len() + never.len() + r.stable_count);
    }
}

#[test]
fn the_random_histories_cover_every_outcome() {
    let (mut valid, mut invalid) = (0, 0);
    for seed in 0..300 {
        let ops = random_register_ops(seed, 6);
        if brute_force(&ops) {
            valid += 1;
        } else {
            invalid += 1;
        }
    }
    assert!(
        valid >= 30 && invalid >= 30,
        "{valid} linearizable, {invalid} not"
    );
    let (mut lost, mut never, mut stale) = (0, 0, 0);
    for seed in 0..300 {
        let (l, n, s, _, _) = jepsen_set_full(&to_events(&random_broadcast_ops(seed, 20)));
        lost += l.len();
        never += n.len();
        stale += s.len();
    }
    assert!(
        lost >= 30 && never >= 30 && stale >= 30,
        "{lost} lost, {never} never read, {stale} stale"
    );
}

/// FIFO / causal by brute force: the happens-before relation closed transitively over all
/// pairs, then every read checked against every pair. Returns the `index` of the completion
/// of every read that breaks it.
fn naive_precedence(events: &[Event], causal: bool) -> Vec<u64> {
    let h = BroadcastHistory::new(events).unwrap();
    let n = h.values.len();
    let mut before = vec![vec![false; n]; n];
    for (a, ma) in h.messages.iter().enumerate() {
        for (b, mb) in h.messages.iter().enumerate() {
            if let (Some(oa), Some(ob), Some(ok), Some(inv)) =
                (ma.origin, mb.origin, ma.first_ok, mb.first_invoke)
                && oa == ob
                && ok < inv
                && a != b
            {
                before[a][b] = true;
            }
        }
    }
    if causal {
        for read in &h.reads {
            for (b, mb) in h.messages.iter().enumerate() {
                if let (Some(origin), Some(inv)) = (mb.origin, mb.first_invoke)
                    && read.node == Some(origin)
                    && read.complete_pos < inv
                {
                    for &a in &read.messages {
                        if a as usize != b {
                            before[a as usize][b] = true;
                        }
                    }
                }
            }
        }
    }
    for k in 0..n {
        for i in 0..n {
            for j in 0..n {
                if before[i][k] && before[k][j] {
                    before[i][j] = true;
                }
            }
        }
    }
    let mut violating = Vec::new();
    for read in &h.reads {
        let s = &read.messages;
        let first = |m: usize| s.iter().position(|&x| x as usize == m);
        let broken = s.iter().enumerate().any(|(j, &m2)| {
            first(m2 as usize) == Some(j)
                && (0..n).any(|m1| {
                    m1 != m2 as usize && before[m1][m2 as usize] && first(m1).is_none_or(|p| p > j)
                })
        });
        if broken {
            violating.push(h.events[read.complete_pos].index);
        }
    }
    violating.sort_unstable();
    violating
}

/// Random broadcasts at three nodes and reads returning random sequences.
fn random_delivery_ops(seed: u64, n: usize) -> Vec<RandomOp> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut next_value = 0;
    (0..n)
        .map(|i| {
            let call = (i as u64) * 10 + rng.random_range(0..3) * 10;
            let ret = Some(call + rng.random_range(1..4) * 10 + 5);
            if rng.random_bool(0.5) {
                next_value += 1;
                let x = json!(next_value - 1);
                let outcome = if rng.random_bool(0.8) {
                    EventType::Ok
                } else {
                    EventType::Info
                };
                RandomOp {
                    call,
                    ret,
                    outcome,
                    f: "broadcast",
                    input: x.clone(),
                    output: x,
                }
            } else {
                let mut seen: Vec<i64> = (0..next_value + 1)
                    .filter(|_| rng.random_bool(0.8))
                    .collect();
                for k in (1..seen.len()).rev() {
                    if rng.random_bool(0.2) {
                        seen.swap(k, rng.random_range(0..=k));
                    }
                }
                let out = Value::Array(seen.into_iter().map(|v| json!(v)).collect());
                RandomOp {
                    call,
                    ret,
                    outcome: EventType::Ok,
                    f: "read",
                    input: Value::Null,
                    output: out,
                }
            }
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn fifo_and_causal_agree_with_the_transitive_closure(seed in any::<u64>(), n in 1usize..24) {
        use checker::ordering::{OrderingMode, ViolationKind, check_ordering};
        let events = to_events(&random_delivery_ops(seed, n));
        let h = BroadcastHistory::new(&events).unwrap();
        for (mode, kind) in [(OrderingMode::Fifo, ViolationKind::Fifo), (OrderingMode::Causal, ViolationKind::Causal)] {
            let r = check_ordering(&h, mode);
            let mut found: Vec<u64> = r.violations.iter().filter(|v| v.kind == kind).map(|v| v.read.complete_index).collect();
            found.sort_unstable();
            let expected = naive_precedence(&events, mode == OrderingMode::Causal);
            prop_assert_eq!(found, expected, "{}", r);
        }
    }
}
