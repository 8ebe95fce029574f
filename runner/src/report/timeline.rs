//! What the charts draw, taken from a history: every client op (invocation, completion,
//! outcome) and every fault interval the nemesis recorded.

use std::collections::BTreeMap;

use checker::{Event, EventType, Process};
use serde_json::Value;

use super::html::short_json;

/// How a client op ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    Ok,
    Fail,
    Info,
    /// Invoked, never completed (as good as `info`).
    Unanswered,
}

impl Outcome {
    pub const ALL: [Outcome; 4] = [
        Outcome::Ok,
        Outcome::Fail,
        Outcome::Info,
        Outcome::Unanswered,
    ];

    /// Its name, also its CSS class.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Fail => "fail",
            Outcome::Info => "info",
            Outcome::Unanswered => "unanswered",
        }
    }
}

/// One client op.
#[derive(Debug, Clone, PartialEq)]
pub struct Op {
    pub f: String,
    /// Nanoseconds since the run started.
    pub invoke: u64,
    pub complete: Option<u64>,
    pub outcome: Outcome,
}

impl Op {
    /// Milliseconds from invocation to completion, if it completed.
    pub fn latency_ms(&self) -> Option<f64> {
        self.complete
            .map(|c| c.saturating_sub(self.invoke) as f64 / 1e6)
    }
}

/// A fault in force from `start` to `end` (`None`: still on when the history ends).
#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    /// `partition`, `kill`, `wipe`, `pause`, `loss`, `duplicate`, or the name of a fault this
    /// report does not know (from `start-X` / `stop-X`).
    pub kind: String,
    pub start: u64,
    pub end: Option<u64>,
    /// A few words: the nodes, the sides of a partition, the probability.
    pub label: String,
    /// The nemesis events' values, in full.
    pub detail: String,
    /// True for a nemesis event that starts and stops nothing (drawn as a line).
    pub instant: bool,
}

/// Client ops counted by outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub invoked: u64,
    pub ok: u64,
    pub fail: u64,
    pub info: u64,
    pub unanswered: u64,
}

impl Counts {
    fn add(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Ok => self.ok += 1,
            Outcome::Fail => self.fail += 1,
            Outcome::Info => self.info += 1,
            Outcome::Unanswered => self.unanswered += 1,
        }
    }
}

/// The ops and faults of a history.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Timeline {
    /// In order of invocation.
    pub ops: Vec<Op>,
    /// In order of start.
    pub faults: Vec<Fault>,
    /// The time of the last event (nanoseconds).
    pub end: u64,
    pub counts: Counts,
    pub by_f: BTreeMap<String, Counts>,
    /// Completions with no open invocation of their process (a malformed history; the
    /// checkers say more).
    pub orphans: u64,
    /// Nemesis stops with no fault of their kind in force.
    pub unmatched_stops: u64,
}

/// How a nemesis `f` starts or stops a fault kind. A `restart` ends a `kill` or a `wipe`; a
/// `clock-reset` ends any `clock-` fault.
fn nemesis_role(f: &str) -> (Role, String) {
    match f {
        "kill" => (Role::Start, "kill".into()),
        "wipe" => (Role::Start, "wipe".into()),
        "restart" => (Role::Stop, RESTARTED.into()),
        "pause" => (Role::Start, "pause".into()),
        "resume" => (Role::Stop, "pause".into()),
        "clock-reset" => (Role::Stop, "clock".into()),
        _ if f.starts_with("clock-") => (Role::Start, "clock".into()),
        _ => {
            if let Some(kind) = f.strip_prefix("start-") {
                (Role::Start, kind.into())
            } else if let Some(kind) = f.strip_prefix("stop-") {
                (Role::Stop, kind.into())
            } else {
                (Role::Instant, f.into())
            }
        }
    }
}

/// The kinds a `restart` ends.
const RESTARTED: &str = "kill|wipe";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Start,
    Stop,
    Instant,
}

impl Timeline {
    /// Read the ops and faults of `events` (a history in time order). Never fails: what does
    /// not pair up is counted ([`Timeline::orphans`], [`Timeline::unmatched_stops`]).
    pub fn new(events: &[Event], node_ids: &[String]) -> Timeline {
        let mut tl = Timeline::default();
        // Per client process: the index in `ops` of its open invocation.
        let mut open: BTreeMap<u64, usize> = BTreeMap::new();
        let mut starts = Vec::new();
        for event in events {
            tl.end = tl.end.max(event.time);
            match event.process {
                Process::Client(p) => tl.client_event(&mut open, p, event),
                Process::Nemesis(_) => tl.nemesis_event(event, node_ids, &mut starts),
            }
        }
        for op in &tl.ops {
            tl.counts.add(op.outcome);
            tl.by_f.entry(op.f.clone()).or_default().add(op.outcome);
        }
        tl
    }

    fn client_event(&mut self, open: &mut BTreeMap<u64, usize>, process: u64, event: &Event) {
        if event.kind == EventType::Invoke {
            // A second invocation while one is open: the first one is left unanswered.
            open.insert(process, self.ops.len());
            self.ops.push(Op {
                f: event.f.clone(),
                invoke: event.time,
                complete: None,
                outcome: Outcome::Unanswered,
            });
            self.counts.invoked += 1;
            self.by_f.entry(event.f.clone()).or_default().invoked += 1;
            return;
        }
        let Some(i) = open.remove(&process) else {
            self.orphans += 1;
            return;
        };
        let op = &mut self.ops[i];
        op.complete = Some(event.time);
        op.outcome = match event.kind {
            EventType::Ok => Outcome::Ok,
            EventType::Fail => Outcome::Fail,
            EventType::Info | EventType::Invoke => Outcome::Info,
        };
    }

    /// `starts[i]` is the value that started `faults[i]`, to pair a restart with its kill.
    fn nemesis_event(&mut self, event: &Event, node_ids: &[String], starts: &mut Vec<String>) {
        if event.value.get(checker::time_sync::TRUE_TIME_KEY).is_some() {
            // A clock set as the workload starts (time-sync's initial offsets): the
            // workload's premise, not a fault.
            return;
        }
        let (role, kind) = nemesis_role(&event.f);
        let value = short_json(&event.value, 2000);
        match role {
            Role::Start => {
                self.faults.push(Fault {
                    label: fault_label(&kind, &event.value, node_ids),
                    detail: format!("{}: {value}", event.f),
                    kind,
                    start: event.time,
                    end: None,
                    instant: false,
                });
                starts.push(value);
            }
            Role::Stop => {
                // Close the fault of this kind in force with the same value (the same nodes),
                // else the oldest one of this kind in force.
                let open = |f: &Fault| {
                    kind.split('|').any(|k| f.kind == k) && f.end.is_none() && !f.instant
                };
                let same =
                    (0..self.faults.len()).find(|&i| open(&self.faults[i]) && starts[i] == value);
                let any = self.faults.iter().position(open);
                match same.or(any) {
                    Some(i) => {
                        let fault = &mut self.faults[i];
                        fault.end = Some(event.time);
                        fault.detail.push_str(&format!("; {}: {value}", event.f));
                    }
                    None => self.unmatched_stops += 1,
                }
            }
            Role::Instant => {
                self.faults.push(Fault {
                    label: event.f.clone(),
                    detail: format!("{}: {value}", event.f),
                    kind,
                    start: event.time,
                    end: Some(event.time),
                    instant: true,
                });
                starts.push(value);
            }
        }
    }
}

/// A few words on a fault: `kill n1 n2` for a kill, wipe or pause, the sides of a partition, `p=0.2`.
pub fn fault_label(kind: &str, value: &Value, node_ids: &[String]) -> String {
    match value {
        Value::Array(items) => {
            let names: Vec<String> = items.iter().map(|v| short_json(v, 40)).collect();
            format!("{kind} {}", names.join(" "))
        }
        Value::Number(p) => format!("{kind} p={p}"),
        Value::Object(grudge) if kind == "partition" => {
            format!(
                "partition {}",
                checker::faults::partition_sides(grudge, node_ids)
            )
        }
        Value::Null => kind.to_owned(),
        // A Byzantine node's lie: "n3 equivocate to n1: 1000042 -> 900000007".
        Value::Object(deed) if kind == "byzantine-alter" => {
            let text = |k: &str| deed.get(k).and_then(Value::as_str).unwrap_or("?");
            let changes: Vec<String> = deed
                .get("changes")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|c| format!("{} -> {}", c[0], c[1]))
                .collect();
            format!(
                "{} {} to {}: {}",
                text("node"),
                text("how"),
                text("dest"),
                if changes.is_empty() {
                    "dropped".to_owned()
                } else {
                    changes.join(", ")
                }
            )
        }
        other => format!("{kind} {}", short_json(other, 60)),
    }
}

pub use checker::faults::node_order;

#[cfg(test)]
mod tests {
    use checker::parse_history;
    use serde_json::json;

    use super::*;

    fn history(lines: &[&str]) -> Vec<Event> {
        let text = lines.join("\n");
        parse_history("test", text.as_bytes()).unwrap()
    }

    fn nodes(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("n{i}")).collect()
    }

    #[test]
    fn pairs_ops_and_counts_outcomes() {
        let events = history(&[
            r#"{"index":0,"time":1000000,"process":0,"node":"n0","type":"invoke","f":"broadcast","value":1}"#,
            r#"{"index":1,"time":3000000,"process":1,"node":"n1","type":"invoke","f":"read"}"#,
            r#"{"index":2,"time":4000000,"process":0,"node":"n0","type":"ok","f":"broadcast","value":1}"#,
            r#"{"index":3,"time":5000000,"process":1,"node":"n1","type":"info","f":"read"}"#,
            r#"{"index":4,"time":6000000,"process":2,"node":"n1","type":"invoke","f":"read"}"#,
            r#"{"index":5,"time":6500000,"process":3,"node":"n1","type":"fail","f":"read"}"#,
        ]);
        let tl = Timeline::new(&events, &nodes(2));
        assert_eq!(tl.ops.len(), 3);
        assert_eq!(tl.ops[0].outcome, Outcome::Ok);
        assert_eq!(tl.ops[0].latency_ms(), Some(3.0));
        assert_eq!(tl.ops[1].outcome, Outcome::Info);
        assert_eq!(tl.ops[2].outcome, Outcome::Unanswered);
        assert_eq!(tl.ops[2].latency_ms(), None);
        assert_eq!(tl.orphans, 1, "a completion of a process with nothing open");
        assert_eq!(tl.end, 6_500_000);
        let c = tl.counts;
        assert_eq!(
            (c.invoked, c.ok, c.fail, c.info, c.unanswered),
            (3, 1, 0, 1, 1)
        );
        assert_eq!(tl.by_f["read"].invoked, 2);
        assert_eq!(tl.by_f["broadcast"].ok, 1);
    }

    #[test]
    fn faults_pair_up_and_one_still_on_at_the_end_stays_open() {
        let events = history(&[
            r#"{"index":0,"time":10,"process":"nemesis","type":"info","f":"start-partition","value":{"n0":["n1","n2"],"n1":["n0"],"n2":["n0"]}}"#,
            r#"{"index":1,"time":20,"process":"nemesis","type":"info","f":"kill","value":["n2"]}"#,
            r#"{"index":2,"time":30,"process":"nemesis","type":"info","f":"stop-partition","value":null}"#,
            r#"{"index":3,"time":40,"process":"nemesis","type":"info","f":"restart","value":["n2"]}"#,
            r#"{"index":4,"time":50,"process":"nemesis","type":"info","f":"start-loss","value":0.2}"#,
            r#"{"index":5,"time":60,"process":"nemesis","type":"info","f":"stop-duplicate","value":0.1}"#,
            r#"{"index":6,"time":70,"process":"nemesis","type":"info","f":"pause","value":["n0","n1"]}"#,
        ]);
        let tl = Timeline::new(&events, &nodes(3));
        let faults: Vec<_> = tl
            .faults
            .iter()
            .map(|f| (f.kind.as_str(), f.start, f.end, f.label.as_str()))
            .collect();
        assert_eq!(
            faults,
            vec![
                ("partition", 10, Some(30), "partition n0 | n1 n2"),
                ("kill", 20, Some(40), "kill n2"),
                ("loss", 50, None, "loss p=0.2"),
                ("pause", 70, None, "pause n0 n1"),
            ]
        );
        assert_eq!(tl.unmatched_stops, 1);
        assert_eq!(tl.end, 70);
        assert!(tl.faults[1].detail.contains("restart: [\"n2\"]"));
    }

    #[test]
    fn a_wipe_is_a_fault_of_its_own_that_the_restart_of_its_nodes_ends() {
        let events = history(&[
            r#"{"index":0,"time":1,"process":"nemesis","type":"info","f":"wipe","value":["n1"]}"#,
            r#"{"index":1,"time":2,"process":"nemesis","type":"info","f":"kill","value":["n2"]}"#,
            r#"{"index":2,"time":3,"process":"nemesis","type":"info","f":"restart","value":["n1"]}"#,
        ]);
        let tl = Timeline::new(&events, &nodes(3));
        let faults: Vec<_> = tl
            .faults
            .iter()
            .map(|f| (f.kind.as_str(), f.end, f.label.as_str()))
            .collect();
        assert_eq!(
            faults,
            vec![("wipe", Some(3), "wipe n1"), ("kill", None, "kill n2")]
        );
        assert_eq!(tl.unmatched_stops, 0);
    }

    #[test]
    fn a_restart_closes_the_kill_of_its_nodes() {
        let events = history(&[
            r#"{"index":0,"time":1,"process":"nemesis","type":"info","f":"kill","value":["n1"]}"#,
            r#"{"index":1,"time":2,"process":"nemesis","type":"info","f":"kill","value":["n2"]}"#,
            r#"{"index":2,"time":3,"process":"nemesis","type":"info","f":"restart","value":["n2"]}"#,
        ]);
        let tl = Timeline::new(&events, &nodes(3));
        assert_eq!(tl.faults[0].end, None);
        assert_eq!(tl.faults[1].end, Some(3));
    }

    #[test]
    fn partition_labels() {
        let n = nodes(4);
        let clean =
            json!({"n0": ["n2", "n3"], "n1": ["n2", "n3"], "n2": ["n0", "n1"], "n3": ["n0", "n1"]});
        assert_eq!(
            fault_label("partition", &clean, &n),
            "partition n0 n1 | n2 n3"
        );
        let ring = json!({"n0": ["n2"], "n1": ["n3"]});
        assert_eq!(
            fault_label("partition", &ring, &n),
            "partition (2 one-way links cut)"
        );
        // Sides list their nodes in numeric order.
        let twelve = nodes(12);
        let others: Vec<&String> = twelve.iter().filter(|id| *id != "n10").collect();
        let mut grudge = serde_json::Map::new();
        grudge.insert("n10".into(), json!(others));
        for id in &others {
            grudge.insert((*id).clone(), json!(["n10"]));
        }
        assert_eq!(
            fault_label("partition", &Value::Object(grudge), &twelve),
            "partition n0 n1 n2 n3 n4 n5 n6 n7 n8 n9 n11 | n10"
        );
        assert_eq!(fault_label("partition", &json!(null), &n), "partition");
    }
}
