//! `--nemesis clock` on node processes: the offsets the history records are the offsets the
//! nodes' wall clocks show (through libfaketime), while their monotonic clocks run on.
//!
//! The course (3.1): "a node's clock can be stepped forward or back"; the node reads a skewed
//! time of day and nothing tells it so. The test compares what a node's clock read when it
//! handled each echo with the harness's own times of that request and its reply: with the
//! harness's time of day at its start unknown but fixed, every reading must fit the
//! request's interval once the recorded offset is taken away. That holds on every schedule.

use std::collections::BTreeMap;

use checker::clocks::ClockTimeline;
use serde_json::Value;

use crate::harness::{harness_test, test_node};

/// Seconds of slack for the float printing and the two clocks' reading granularity.
const SLACK_NS: i64 = 3_000_000;

#[test]
fn a_bent_clock_reaches_the_node_process_with_the_offset_the_history_records() {
    if let Err(why) = runner::faketime::find_library() {
        println!("skipped: {why}");
        return;
    }
    let bin = test_node("wall_clock_echo.py");
    let run = harness_test(&[
        "-w",
        "echo",
        "--bin",
        bin.to_str().unwrap(),
        "--node-count",
        "2",
        "--time-limit",
        "4",
        "--rate",
        "50",
        "--nemesis",
        "clock",
        "--nemesis-interval",
        "0.5",
        "--seed",
        "7",
    ]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    let timeline = ClockTimeline::of(&run.history);
    let steps = ["n0", "n1"]
        .iter()
        .flat_map(|n| timeline.changes(n))
        .filter(|c| c.fault.is_some_and(|f| f.f() == "clock-step"))
        .count();
    assert!(steps >= 1, "seed 7 steps a clock: {timeline:?}");

    // (client, msg_id) -> the harness's time of the request, and of the reply.
    let mut asked: BTreeMap<(String, u64), u64> = BTreeMap::new();
    let mut answered: BTreeMap<(String, u64), u64> = BTreeMap::new();
    let journal = std::fs::read_to_string(run.dir.join("messages.jsonl")).unwrap();
    for line in journal.lines() {
        let e: Value = serde_json::from_str(line).unwrap();
        if e["event"] != "send" {
            continue;
        }
        let (src, dest, body) = (
            e["src"].as_str().unwrap(),
            e["dest"].as_str().unwrap(),
            &e["body"],
        );
        let time = e["time"].as_u64().unwrap();
        if body["type"] == "echo" {
            asked.insert((src.to_owned(), body["msg_id"].as_u64().unwrap()), time);
        } else if body["type"] == "echo_ok" {
            answered.insert(
                (dest.to_owned(), body["in_reply_to"].as_u64().unwrap()),
                time,
            );
        }
    }

    // Per node: each reading with its request's interval and the offset then in force.
    let mut checked_bent = 0;
    for node in ["n0", "n1"] {
        let changes: Vec<u64> = timeline.changes(node).iter().map(|c| c.time).collect();
        let log = std::fs::read_to_string(run.dir.join(format!("node-logs/{node}.log"))).unwrap();
        // (wall reading minus offset, ns) and its interval of harness times.
        let mut readings: Vec<(i64, u64, u64, bool)> = Vec::new();
        for line in log.lines().filter_map(|l| l.strip_prefix("wall ")) {
            let parts: Vec<&str> = line.split(' ').collect();
            let key = (parts[0].to_owned(), parts[1].parse::<u64>().unwrap());
            let (Some(&from), Some(&to)) = (asked.get(&key), answered.get(&key)) else {
                continue;
            };
            // Leave out a request during which the clock changed, or while it moves.
            if changes
                .iter()
                .any(|&c| c + 2_000_000 >= from && c <= to + 2_000_000)
            {
                continue;
            }
            let clock = timeline.clock_at(node, from);
            if clock.is_some_and(|c| c.clock.is_moving()) {
                continue;
            }
            let offset = timeline.offset_at(node, from);
            let wall: f64 = parts[2].parse().unwrap();
            let wall_ns = (wall * 1e9) as i64;
            readings.push((wall_ns - offset, from, to, offset != 0));
        }
        assert!(readings.len() > 20, "{node}: {} readings", readings.len());
        // The harness's time of day at its start, C: every reading says
        // C + from <= reading - offset <= C + to.
        let (mut lo, mut hi) = (i64::MIN, i64::MAX);
        for &(wall, from, to, _) in &readings {
            lo = lo.max(wall - to as i64 - SLACK_NS);
            hi = hi.min(wall - from as i64 + SLACK_NS);
        }
        assert!(
            lo <= hi,
            "{node}: the readings, less the recorded offsets, do not fit one start time \
             ({} ms apart)",
            (lo - hi) / 1_000_000
        );
        checked_bent += readings.iter().filter(|r| r.3).count();
    }
    assert!(
        checked_bent >= 5,
        "only {checked_bent} readings under a bent clock"
    );
}
