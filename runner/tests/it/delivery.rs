//! `messages.jsonl` calls a message delivered to a node only once the node's stdin pipe has
//! taken its whole line: not while the node is paused, not when it sits in the harness's queue
//! for a node that stopped reading (then it is dropped as `queued`). The network counts of
//! `results.json` agree with the journal.

use std::collections::{BTreeMap, BTreeSet};

use checker::{NetEvent, NetEventKind};
use serde_json::Value;

use crate::harness::{Run, harness_test, node_bin, test_node};

fn journal(run: &Run) -> Vec<NetEvent> {
    let lines = checker::read_journal_file(&run.dir.join("messages.jsonl")).unwrap();
    assert!(lines.cut.is_none());
    lines.items
}

/// The counts of `results.json`'s `net.all` equal the journal's.
fn assert_counts_match(run: &Run, events: &[NetEvent]) {
    let count = |kind| events.iter().filter(|e| e.event == kind).count() as u64;
    let all = &run.results["net"]["all"];
    for (key, kind) in [
        ("send_count", NetEventKind::Send),
        ("deliver_count", NetEventKind::Deliver),
        ("drop_count", NetEventKind::Drop),
    ] {
        assert_eq!(all[key].as_u64(), Some(count(kind)), "net.all.{key}");
    }
}

#[test]
fn a_paused_node_is_handed_no_message_until_it_resumes() {
    let bin = node_bin("broadcast-eager");
    let run = harness_test(&[
        "-w",
        "broadcast",
        "--bin",
        bin.to_str().unwrap(),
        "--node-count",
        "3",
        "--time-limit",
        "4",
        "--rate",
        "50",
        "--nemesis",
        "pause",
        "--nemesis-interval",
        "1",
        "--recovery-time",
        "1",
        "--seed",
        "3",
    ]);
    assert!(run.code <= 2, "{}\n{}", run.stdout, run.stderr);
    // Each node's pauses, from the history: (paused at, resumed at or never).
    let mut pauses: BTreeMap<String, Vec<(u64, u64)>> = BTreeMap::new();
    for event in run.history.iter().filter(|e| e.process.is_nemesis()) {
        let nodes = event
            .value
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str);
        for node in nodes {
            let intervals = pauses.entry(node.to_owned()).or_default();
            match event.f.as_str() {
                "pause" => intervals.push((event.time, u64::MAX)),
                "resume" => {
                    if let Some(last) = intervals.last_mut() {
                        last.1 = event.time;
                    }
                }
                _ => {}
            }
        }
    }
    assert!(
        !pauses.is_empty(),
        "seed 3 pauses nodes: choose a seed that does"
    );
    let paused = |node: &str, t: u64| {
        pauses
            .get(node)
            .is_some_and(|i| i.iter().any(|&(from, to)| from < t && t < to))
    };
    let events = journal(&run);
    let mut sent_while_paused = BTreeSet::new();
    for event in &events {
        match event.event {
            NetEventKind::Send if paused(&event.dest, event.time) => {
                sent_while_paused.insert(event.id);
            }
            NetEventKind::Deliver => assert!(
                !paused(&event.dest, event.time),
                "delivered to {} while it was paused: {event:?}",
                event.dest
            ),
            _ => {}
        }
    }
    assert!(
        !sent_while_paused.is_empty(),
        "messages were sent to paused nodes"
    );
    assert_counts_match(&run, &events);
}

#[test]
fn messages_a_node_never_takes_are_dropped_as_queued_not_delivered() {
    let bin = test_node("deaf.py");
    let run = harness_test(&[
        "-w",
        "echo",
        "--bin",
        bin.to_str().unwrap(),
        "--node-count",
        "2",
        "--time-limit",
        "2",
        "--rate",
        "5",
    ]);
    assert!(run.code <= 2, "{}\n{}", run.stdout, run.stderr);
    let events = journal(&run);
    // A pipe holds this much; the node read its first line (and a buffer more) and no more.
    let (read_end, write_end) = nix::unistd::pipe().unwrap();
    let capacity =
        nix::fcntl::fcntl(&write_end, nix::fcntl::FcntlArg::F_GETPIPE_SZ).unwrap() as usize;
    drop((read_end, write_end));
    let bound = capacity + (16 << 10);
    let mut body_bytes: BTreeMap<u64, usize> = BTreeMap::new();
    let mut fates: BTreeMap<u64, Vec<&NetEvent>> = BTreeMap::new();
    for event in &events {
        match event.event {
            NetEventKind::Send => {
                let body = event.body.as_ref().map_or(0, |b| b.to_string().len());
                body_bytes.insert(event.id, body);
            }
            _ => fates.entry(event.id).or_default().push(event),
        }
    }
    for node in ["n0", "n1"] {
        let to_node = |kind: NetEventKind| {
            events
                .iter()
                .filter(move |e| e.dest == node && e.event == kind)
        };
        let delivered: usize = to_node(NetEventKind::Deliver)
            .map(|e| body_bytes[&e.id])
            .sum();
        assert!(
            delivered <= bound,
            "{delivered} bytes delivered to {node}, which reads nothing after init: more \
             than its pipe holds ({capacity})"
        );
        let queued = to_node(NetEventKind::Drop)
            .filter(|e| e.reason.as_deref() == Some("queued"))
            .count();
        assert!(
            queued > 0,
            "the messages {node} never took are dropped as queued"
        );
    }
    for (id, fates) in &fates {
        assert_eq!(fates.len(), 1, "message {id} has one fate: {fates:?}");
    }
    assert_counts_match(&run, &events);
}
