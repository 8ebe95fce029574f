//! The faults of a run as its history records them: nemesis events (the course's system
//! models: crash-recovery nodes, partitioned networks), when each was in force, and the sides
//! of a partition in words.
//!
//! A `kill` ends a node's process; with stable storage it keeps its data directory, without it
//! its state is gone. A `wipe` is a kill that also erases the data directory. Either lasts until
//! the `restart` of the node. A `pause` lasts until its `resume`; `start-partition` (value: the
//! grudge, `{node: [nodes it cannot hear from]}`) until the next `stop-partition`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::history::{Event, EventType};

/// One nemesis event of a history.
#[derive(Debug, Clone, PartialEq)]
pub struct NemesisEvent<'a> {
    /// Position in the history.
    pub pos: usize,
    /// Nanoseconds since the start.
    pub time: u64,
    /// `kill`, `wipe`, `restart`, `pause`, `resume`, `start-partition`, ...
    pub f: &'a str,
    /// The nodes it names, for the events whose value is a list of nodes or an object with
    /// one under `nodes`.
    pub nodes: Vec<&'a str>,
    pub value: &'a Value,
}

impl NemesisEvent<'_> {
    /// True for a fault that ends the node's process: `kill` or `wipe`.
    pub fn crashes(&self) -> bool {
        matches!(self.f, "kill" | "wipe")
    }

    /// `the kill of n0, n3, n4 at 4.10 s`.
    pub fn describe(&self) -> String {
        let nodes = if self.nodes.is_empty() {
            String::new()
        } else {
            format!(" of {}", self.nodes.join(", "))
        };
        format!("the {}{nodes} at {}", self.f, seconds(self.time))
    }
}

/// The nemesis events of `events`, in history order. A nemesis op is recorded as `info`; an
/// `invoke` of one, if present, is not the event itself.
pub fn nemesis_events(events: &[Event]) -> Vec<NemesisEvent<'_>> {
    events
        .iter()
        .enumerate()
        .filter(|(_, e)| e.process.is_nemesis() && e.kind != EventType::Invoke)
        .map(|(pos, e)| NemesisEvent {
            pos,
            time: e.time,
            f: &e.f,
            nodes: e
                .value
                .as_array()
                .or_else(|| e.value.get("nodes").and_then(Value::as_array))
                .map(|list| list.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default(),
            value: &e.value,
        })
        .collect()
}

/// A partition in force from `start` to `end` (`None`: still on when the history ends).
#[derive(Debug, Clone, PartialEq)]
pub struct PartitionSpan {
    pub start: u64,
    pub end: Option<u64>,
    /// Its sides (`n0 n1 | n2 n3 n4`) when it cuts the cluster into groups that hear only
    /// each other, see [`partition_sides`].
    pub sides: Option<String>,
    /// Per node, the nodes it cannot hear from.
    pub grudge: BTreeMap<String, Vec<String>>,
}

impl PartitionSpan {
    /// True when it was in force at `t`.
    pub fn at(&self, t: u64) -> bool {
        self.start <= t && self.end.is_none_or(|e| t < e)
    }

    /// True when it was in force at some moment of `[from, to]`.
    pub fn during(&self, from: u64, to: u64) -> bool {
        self.start <= to && self.end.is_none_or(|e| from < e)
    }

    /// `1.20 s to 3.40 s`.
    fn span(&self) -> String {
        let end = self.end.map_or_else(|| "the end".to_owned(), seconds);
        format!("{} to {end}", seconds(self.start))
    }

    /// `the partition n0 n1 | n2 n3 n4 (1.20 s to 3.40 s)`, or for a grudge without clean
    /// sides `a partition cutting 6 one-way links (1.20 s to 3.40 s)`.
    pub fn describe(&self) -> String {
        match &self.sides {
            Some(sides) => format!("the partition {sides} ({})", self.span()),
            None => format!(
                "a partition cutting {} one-way links ({})",
                self.grudge.values().map(Vec::len).sum::<usize>(),
                self.span()
            ),
        }
    }

    /// As [`PartitionSpan::describe`], but a grudge without clean sides names what `node`
    /// could not hear: `a partition (1.20 s to 3.40 s) in which n2 could not hear from n0, n1`.
    pub fn describe_for(&self, node: &str) -> String {
        match (&self.sides, self.grudge.get(node)) {
            (None, Some(deaf)) if !deaf.is_empty() => format!(
                "a partition ({}) in which {node} could not hear from {}",
                self.span(),
                deaf.join(", ")
            ),
            _ => self.describe(),
        }
    }
}

/// The partitions of a history: each `start-partition` until the next `stop-partition` (or
/// the next `start-partition`, which replaces it). `node_ids` are the cluster's nodes, for
/// the sides.
pub fn partitions(events: &[Event], node_ids: &[String]) -> Vec<PartitionSpan> {
    let mut spans: Vec<PartitionSpan> = Vec::new();
    for e in nemesis_events(events) {
        let open = spans.last_mut().filter(|s| s.end.is_none());
        match e.f {
            "start-partition" => {
                if let Some(s) = open {
                    s.end = Some(e.time);
                }
                let (sides, grudge) = match e.value {
                    Value::Object(grudge) => {
                        let deaf = grudge
                            .iter()
                            .map(|(node, from)| {
                                let mut from: Vec<String> = from
                                    .as_array()
                                    .into_iter()
                                    .flatten()
                                    .filter_map(Value::as_str)
                                    .map(str::to_owned)
                                    .collect();
                                from.sort_by(|a, b| node_order(a).cmp(&node_order(b)));
                                (node.clone(), from)
                            })
                            .collect();
                        (sides_of(grudge, node_ids).ok(), deaf)
                    }
                    _ => (None, BTreeMap::new()),
                };
                spans.push(PartitionSpan {
                    start: e.time,
                    end: None,
                    sides,
                    grudge,
                });
            }
            "stop-partition" => {
                if let Some(s) = open {
                    s.end = Some(e.time);
                }
            }
            _ => {}
        }
    }
    spans
}

/// The sides of a partition from its grudge (`{node: [nodes it cannot hear from]}`):
/// `n0 | n1 n2` when the grudge cuts the cluster into groups that hear only each other,
/// else the number of one-way links it cuts.
pub fn partition_sides(grudge: &serde_json::Map<String, Value>, node_ids: &[String]) -> String {
    sides_of(grudge, node_ids).unwrap_or_else(|cut| format!("({cut} one-way links cut)"))
}

/// The clean sides of a grudge, or the number of one-way links it cuts.
fn sides_of(grudge: &serde_json::Map<String, Value>, node_ids: &[String]) -> Result<String, usize> {
    let mut nodes: BTreeSet<&str> = node_ids.iter().map(String::as_str).collect();
    let mut deaf: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (node, sources) in grudge {
        nodes.insert(node);
        let set = deaf.entry(node).or_default();
        for source in sources.as_array().into_iter().flatten() {
            if let Some(s) = source.as_str() {
                nodes.insert(s);
                set.insert(s);
            }
        }
    }
    let cut: usize = deaf.values().map(BTreeSet::len).sum();
    // Group nodes by the set they cannot hear from; clean sides when every group's set is
    // exactly everyone outside it.
    let mut groups: BTreeMap<BTreeSet<&str>, Vec<&str>> = BTreeMap::new();
    let mut ordered: Vec<&str> = nodes.iter().copied().collect();
    ordered.sort_by_key(|n| node_order(n));
    for node in ordered {
        groups
            .entry(deaf.get(node).cloned().unwrap_or_default())
            .or_default()
            .push(node);
    }
    let clean = groups.len() > 1
        && groups.iter().all(|(deaf_to, members)| {
            deaf_to.len() + members.len() == nodes.len()
                && members.iter().all(|m| !deaf_to.contains(m))
        });
    if clean {
        let mut sides: Vec<Vec<&str>> = groups.into_values().collect();
        sides.sort_by_key(|side| node_order(side[0]));
        Ok(sides
            .iter()
            .map(|side| side.join(" "))
            .collect::<Vec<_>>()
            .join(" | "))
    } else {
        Err(cut)
    }
}

/// Sort key of a process id: clients `c<k>`, then nodes `n<k>`, each by number, then the
/// rest (services) by name.
pub fn node_order(id: &str) -> (u8, u64, &str) {
    let number = |prefix: char| {
        id.strip_prefix(prefix)
            .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|d| d.parse::<u64>().ok())
    };
    if let Some(k) = number('c') {
        (0, k, id)
    } else if let Some(k) = number('n') {
        (1, k, id)
    } else {
        (2, 0, id)
    }
}

/// A time since the start of the run, for sentences: `4.10 s`.
pub fn seconds(ns: u64) -> String {
    format!("{:.2} s", ns as f64 / 1e9)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::history::parse_history;

    fn nodes(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("n{i}")).collect()
    }

    #[test]
    fn nemesis_events_name_their_nodes_and_partitions_their_sides() {
        let text = r#"{"index":0,"time":1000000000,"process":"nemesis","type":"info","f":"start-partition","value":{"n0":["n1","n2"],"n1":["n0"],"n2":["n0"]}}
{"index":1,"time":2000000000,"process":"nemesis","type":"info","f":"wipe","value":["n2","n1"]}
{"index":2,"time":3000000000,"process":"nemesis","type":"info","f":"stop-partition","value":null}
{"index":3,"time":4000000000,"process":"nemesis","type":"info","f":"start-partition","value":{"n2":["n0"]}}
"#;
        let events = parse_history("h", text.as_bytes()).unwrap();
        let list = nemesis_events(&events);
        assert_eq!(list.len(), 4);
        assert!(list[1].crashes() && !list[0].crashes());
        assert_eq!(list[1].describe(), "the wipe of n2, n1 at 2.00 s");
        let spans = partitions(&events, &nodes(3));
        assert_eq!(spans.len(), 2);
        assert_eq!(
            spans[0].describe(),
            "the partition n0 | n1 n2 (1.00 s to 3.00 s)"
        );
        assert!(spans[0].at(1_000_000_000) && !spans[0].at(3_000_000_000));
        assert!(spans[0].during(0, 1_000_000_000) && !spans[0].during(3_000_000_000, 5));
        assert_eq!(
            spans[1].describe(),
            "a partition cutting 1 one-way links (4.00 s to the end)"
        );
        assert_eq!(
            spans[1].describe_for("n2"),
            "a partition (4.00 s to the end) in which n2 could not hear from n0"
        );
        assert_eq!(spans[0].describe_for("n2"), spans[0].describe());
    }

    #[test]
    fn partition_sides_list_nodes_in_numeric_order() {
        let n = nodes(4);
        let clean =
            json!({"n0": ["n2", "n3"], "n1": ["n2", "n3"], "n2": ["n0", "n1"], "n3": ["n0", "n1"]});
        let Value::Object(clean) = clean else {
            unreachable!()
        };
        assert_eq!(partition_sides(&clean, &n), "n0 n1 | n2 n3");
        let twelve = nodes(12);
        let others: Vec<&String> = twelve.iter().filter(|id| *id != "n10").collect();
        let mut grudge = serde_json::Map::new();
        grudge.insert("n10".into(), json!(others));
        for id in &others {
            grudge.insert((*id).clone(), json!(["n10"]));
        }
        assert_eq!(
            partition_sides(&grudge, &twelve),
            "n0 n1 n2 n3 n4 n5 n6 n7 n8 n9 n11 | n10"
        );
        let mut ids = vec!["n10", "lin-kv", "c2", "n2", "c10", "n0"];
        ids.sort_by_key(|id| node_order(id));
        assert_eq!(ids, vec!["c2", "c10", "n0", "n2", "n10", "lin-kv"]);
    }
}
