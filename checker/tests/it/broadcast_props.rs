//! Property tests of the broadcast checkers: delivery logs from a correct order pass set-full
//! and every ordering; one swap, drop or duplicate of a delivery fails with the right
//! violation, at the right place.

use checker::Validity;
use checker::broadcast::BroadcastHistory;
use checker::history::Event;
use checker::ordering::{OrderingMode, OrderingResult, ViolationKind, check_ordering};
use checker::set_full::set_full;
use checker::synth::{BroadcastShape, broadcast_history};
use proptest::prelude::*;
use serde_json::{Value, json};

fn shape(nodes: usize, clients: usize, ops: usize) -> BroadcastShape {
    BroadcastShape {
        nodes,
        clients,
        ops,
        read_fraction: 0.4,
        catch_up: 3,
    }
}

fn ordering(events: &[Event], mode: OrderingMode) -> OrderingResult {
    check_ordering(&BroadcastHistory::new(events).unwrap(), mode)
}

/// The position in `events` of the last final read (the latest invoked).
fn last_final_read(events: &[Event]) -> usize {
    events
        .iter()
        .rposition(|e| e.is_final && e.kind == checker::EventType::Ok)
        .unwrap()
}

fn messages(e: &Event) -> Vec<Value> {
    e.value.as_array().cloned().unwrap_or_default()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn correct_delivery_logs_pass(seed in any::<u64>(), nodes in 1usize..5, clients in 1usize..6, ops in 1usize..120) {
        let events = broadcast_history(seed, shape(nodes, clients, ops));
        let h = BroadcastHistory::new(&events).unwrap();
        let sf = set_full(&h, false);
        prop_assert_eq!(sf.lost_count + sf.duplicated_count + sf.unexpected_count, 0);
        prop_assert!(sf.valid != Validity::Invalid);
        for mode in [OrderingMode::Fifo, OrderingMode::Causal, OrderingMode::Total] {
            let r = check_ordering(&h, mode);
            prop_assert_eq!(r.valid, Validity::Valid, "{}", r);
        }
    }

    #[test]
    fn a_swap_breaks_total_order_where_it_happens(seed in any::<u64>(), nodes in 2usize..5, ops in 10usize..120, pick in any::<prop::sample::Index>()) {
        let mut events = broadcast_history(seed, shape(nodes, 4, ops));
        let at = last_final_read(&events);
        let mut list = messages(&events[at]);
        prop_assume!(list.len() >= 2);
        let k = pick.index(list.len() - 1);
        list.swap(k, k + 1);
        let (a, b) = (list[k].clone(), list[k + 1].clone());
        events[at].value = Value::Array(list);
        let r = ordering(&events, OrderingMode::Total);
        prop_assert_eq!(r.valid, Validity::Invalid);
        let found = r.violations.iter().any(|v| {
            v.kind == ViolationKind::Total
                && v.later_position == k
                && ((v.earlier == a && v.later == b) || (v.earlier == b && v.later == a))
        });
        prop_assert!(found, "{}", r);
    }

    #[test]
    fn a_same_origin_swap_breaks_fifo(seed in any::<u64>(), nodes in 1usize..4, ops in 10usize..150) {
        let mut events = broadcast_history(seed, shape(nodes, 3, ops));
        let h = BroadcastHistory::new(&events).unwrap();
        // A pair in the last final read: same origin, the first acknowledged before the
        // second was invoked.
        let at = last_final_read(&events);
        let list = messages(&events[at]);
        let id = |v: &Value| h.values.iter().position(|x| x == v).unwrap();
        let mut pair = None;
        'search: for i in 0..list.len() {
            for j in i + 1..list.len() {
                let (mi, mj) = (&h.messages[id(&list[i])], &h.messages[id(&list[j])]);
                if mi.origin == mj.origin && mi.first_ok.zip(mj.first_invoke).is_some_and(|(ok, inv)| ok < inv) {
                    pair = Some((i, j));
                    break 'search;
                }
            }
        }
        prop_assume!(pair.is_some());
        let (i, j) = pair.unwrap();
        let mut swapped = list.clone();
        swapped.swap(i, j);
        events[at].value = Value::Array(swapped);
        for mode in [OrderingMode::Fifo, OrderingMode::Causal] {
            let r = ordering(&events, mode);
            let kind = if mode == OrderingMode::Fifo { ViolationKind::Fifo } else { ViolationKind::Causal };
            let found = r.violations.iter().any(|v| v.kind == kind && v.later_position == i && v.later == list[j] && !v.chain.is_empty());
            prop_assert!(found, "{}", r);
        }
    }

    #[test]
    fn a_dropped_delivery_is_lost_and_breaks_total_order(seed in any::<u64>(), nodes in 2usize..5, ops in 10usize..120, pick in any::<prop::sample::Index>()) {
        let mut events = broadcast_history(seed, shape(nodes, 4, ops));
        let at = last_final_read(&events);
        let mut list = messages(&events[at]);
        prop_assume!(list.len() >= 2);
        let k = pick.index(list.len() - 1);
        let dropped = list.remove(k);
        events[at].value = Value::Array(list);
        let h = BroadcastHistory::new(&events).unwrap();
        let sf = set_full(&h, false);
        prop_assert_eq!(sf.valid, Validity::Invalid);
        prop_assert_eq!(&sf.lost, &vec![dropped.clone()]);
        prop_assert_eq!(&sf.lost_witnesses[0].element, &dropped);
        let r = check_ordering(&h, OrderingMode::Total);
        let found = r.violations.iter().any(|v| v.kind == ViolationKind::Total && v.later_position == k && v.earlier == dropped);
        prop_assert!(found, "{}", r);
    }

    #[test]
    fn a_duplicated_delivery_is_counted(seed in any::<u64>(), nodes in 1usize..5, ops in 5usize..120, pick in any::<prop::sample::Index>()) {
        let mut events = broadcast_history(seed, shape(nodes, 4, ops));
        let at = last_final_read(&events);
        let mut list = messages(&events[at]);
        prop_assume!(!list.is_empty());
        let k = pick.index(list.len());
        let copy = list[k].clone();
        list.push(copy.clone());
        events[at].value = Value::Array(list.clone());
        let h = BroadcastHistory::new(&events).unwrap();
        let sf = set_full(&h, false);
        prop_assert_eq!(sf.valid, Validity::Invalid);
        prop_assert_eq!(sf.duplicated_count, 1);
        prop_assert_eq!(&sf.duplicated[0].element, &copy);
        prop_assert_eq!(sf.duplicated[0].count, 2);
        for mode in [OrderingMode::Fifo, OrderingMode::Causal, OrderingMode::Total] {
            let r = check_ordering(&h, mode);
            let found = r.violations.iter().any(|v| {
                v.kind == ViolationKind::Duplicate && v.earlier_position == Some(k) && v.later_position == list.len() - 1 && v.later == copy
            });
            prop_assert!(found, "{}", r);
        }
    }
}

#[test]
fn a_value_never_broadcast_is_unexpected() {
    let mut events = broadcast_history(3, shape(2, 2, 30));
    let at = last_final_read(&events);
    let mut list = messages(&events[at]);
    list.push(json!("ghost"));
    events[at].value = Value::Array(list);
    let sf = set_full(&BroadcastHistory::new(&events).unwrap(), false);
    assert_eq!(sf.valid, Validity::Invalid);
    assert_eq!(sf.unexpected_count, 1);
    assert_eq!(sf.unexpected[0].element, json!("ghost"));
}
