//! Broadcast with Byzantine nodes: the course's fail-arbitrary system model, where some nodes
//! may send anything, and only the correct nodes are held to the guarantees of reliable
//! broadcast.
//!
//! A run is Byzantine when its history has a nemesis `info` event `byzantine` whose value
//! lists the Byzantine nodes (the harness writes it at the start of a `--nemesis byzantine`
//! run). Each message a Byzantine node's network link altered is a nemesis `info` event
//! `byzantine-alter` with value `{node, dest, how, message, changes: [[original, altered],
//! ...]}`: `altered` is a fresh value, from [`FIRST_FRESH_VALUE`] up, that stands for
//! `original` in that message: a *version* of the original broadcast.
//!
//! Only correct nodes are judged. Client ops sent to Byzantine nodes (their broadcasts, their
//! reads) are not failures of the system: [`judged_events`] leaves them out, and set-full
//! judges what remains, with the values that are this check's business (versions made up by
//! the Byzantine nodes, the broadcasts of Byzantine origins) taken out of the correct nodes'
//! reads. This check then holds each original broadcast (a client's broadcast op) to the
//! rules of Byzantine reliable broadcast, over each correct node's final read:
//!
//! - *no duplication*: a correct node delivers at most one version of a broadcast;
//! - *integrity*: for a broadcast whose origin is correct, the only version a correct node
//!   may deliver is the original value;
//! - *validity*: a broadcast acknowledged by a correct origin is in every correct node's final
//!   read;
//! - *agreement*: for a broadcast whose origin is Byzantine, the correct nodes deliver the
//!   same version or all none of them (some with version A and others with B, or some with
//!   one and others with none, is invalid).
//!
//! Each violation is a sentence that names the nodes, the versions, and which Byzantine node
//! altered which message when.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Serialize;
use serde_json::Value;

use crate::faults::seconds;
use crate::history::{Event, EventType, HistoryError};
use crate::op::{Outcome, client_ops};
use crate::validity::Validity;

/// The first value a Byzantine node's altered messages carry in place of a broadcast value:
/// far above the broadcast workload's values (from 1,000,000, a hundred million of them at
/// most), so a made-up value is never a client's.
pub const FIRST_FRESH_VALUE: u64 = 900_000_000;

/// The most violations kept in the result (all are counted).
const MAX_VIOLATIONS: usize = 16;

/// One altered value of one message, as the history records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alteration {
    /// When it was sent, ns since the start.
    pub time: u64,
    /// The Byzantine node and the node the message went to.
    pub node: String,
    pub dest: String,
    /// drop, corrupt, equivocate or forge.
    pub how: String,
    pub original: u64,
    pub altered: u64,
}

/// What the history says of a Byzantine run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ByzantineRun {
    pub nodes: BTreeSet<String>,
    pub alterations: Vec<Alteration>,
    /// Altered messages by how, drops included.
    pub counts: BTreeMap<String, u64>,
}

impl ByzantineRun {
    /// The Byzantine nodes and alterations of a history; `None` when it has no `byzantine`
    /// event (a run without Byzantine nodes).
    pub fn of(events: &[Event]) -> Option<ByzantineRun> {
        let mut run: Option<ByzantineRun> = None;
        for e in events
            .iter()
            .filter(|e| e.process.is_nemesis() && e.kind == EventType::Info)
        {
            match e.f.as_str() {
                "byzantine" => {
                    let nodes = e.value.as_array().into_iter().flatten();
                    run.get_or_insert_with(ByzantineRun::default)
                        .nodes
                        .extend(nodes.filter_map(Value::as_str).map(str::to_owned));
                }
                "byzantine-alter" => {
                    let run = run.get_or_insert_with(ByzantineRun::default);
                    let text = |k: &str| e.value[k].as_str().unwrap_or("?").to_owned();
                    *run.counts.entry(text("how")).or_default() += 1;
                    for change in e.value["changes"].as_array().into_iter().flatten() {
                        if let (Some(original), Some(altered)) =
                            (change[0].as_u64(), change[1].as_u64())
                        {
                            run.alterations.push(Alteration {
                                time: e.time,
                                node: text("node"),
                                dest: text("dest"),
                                how: text("how"),
                                original,
                                altered,
                            });
                        }
                    }
                }
                _ => {}
            }
        }
        run
    }

    /// Every version made up of each original value.
    fn versions(&self) -> BTreeMap<u64, BTreeSet<u64>> {
        let mut out: BTreeMap<u64, BTreeSet<u64>> = BTreeMap::new();
        for a in &self.alterations {
            out.entry(a.original).or_default().insert(a.altered);
        }
        out
    }

    /// How version `altered` came to `node`: the first alteration that made it, preferably
    /// in a message to that node. "n3 (Byzantine) equivocated in its message to n1 at 1.23 s".
    fn how_made(&self, altered: u64, node: &str) -> String {
        let made = self
            .alterations
            .iter()
            .filter(|a| a.altered == altered)
            .min_by_key(|a| (a.dest != node, a.time));
        match made {
            Some(a) => format!(
                "{} (Byzantine) {} in its message to {} at {}{}",
                a.node,
                past(&a.how),
                a.dest,
                seconds(a.time),
                if a.dest == node {
                    String::new()
                } else {
                    format!(", and other nodes relayed to {node}")
                }
            ),
            None => "no alteration made".to_owned(),
        }
    }
}

fn past(how: &str) -> &str {
    match how {
        "corrupt" => "made up (corrupted)",
        "equivocate" => "equivocated",
        "forge" => "forged",
        "drop" => "dropped",
        other => other,
    }
}

/// The events set-full judges in a Byzantine run: without the client ops sent to Byzantine
/// nodes, and with the correct nodes' reads showing only values that are not this check's
/// business (not a version made up by a Byzantine node, not a Byzantine origin's broadcast).
/// Nemesis events stay.
pub fn judged_events(events: &[Event], run: &ByzantineRun) -> Vec<Event> {
    let made_up: BTreeSet<u64> = run.alterations.iter().map(|a| a.altered).collect();
    let byzantine_origin: BTreeSet<String> = events
        .iter()
        .filter(|e| {
            e.kind == EventType::Invoke
                && e.f == "broadcast"
                && e.node.as_ref().is_some_and(|n| run.nodes.contains(n))
        })
        .map(|e| e.value.to_string())
        .collect();
    events
        .iter()
        .filter(|e| !e.node.as_ref().is_some_and(|n| run.nodes.contains(n)))
        .map(|e| {
            let mut e = e.clone();
            if e.f == "read"
                && e.kind == EventType::Ok
                && let Some(list) = e.value.as_array_mut()
            {
                list.retain(|v| {
                    !v.as_u64().is_some_and(|n| made_up.contains(&n))
                        && !byzantine_origin.contains(&v.to_string())
                });
            }
            e
        })
        .collect()
}

/// One broken rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Violation {
    /// no-duplication, integrity, validity or agreement.
    pub rule: &'static str,
    /// The original broadcast value and its origin.
    pub original: Value,
    pub origin: String,
    /// What happened, in a sentence.
    pub explanation: String,
}

/// The result of the Byzantine broadcast check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ByzantineResult {
    pub valid: Validity,
    pub byzantine_nodes: Vec<String>,
    pub correct_nodes: Vec<String>,
    /// Altered messages by how.
    pub altered: BTreeMap<String, u64>,
    pub violation_count: usize,
    /// The first violations, at most 16.
    pub violations: Vec<Violation>,
    /// Broadcasts sent to correct nodes, and how many of them no correct node delivered (in
    /// its final read): no rule's violation (a broadcast that was never acknowledged may be
    /// lost), but where all are undelivered the correct nodes made no progress.
    pub correct_origin_broadcasts: usize,
    pub undelivered_count: usize,
}

impl ByzantineResult {
    /// A sentence when the correct nodes delivered none of the broadcasts sent to them.
    pub fn stalled(&self) -> Option<String> {
        (self.correct_origin_broadcasts > 0
            && self.undelivered_count == self.correct_origin_broadcasts)
            .then(|| {
                format!(
                    "not live: no correct node ({}) delivered any of the {} broadcast(s) sent to \
                     correct nodes, with {} Byzantine node(s) among them ({})",
                    self.correct_nodes.join(", "),
                    self.correct_origin_broadcasts,
                    self.byzantine_nodes.len(),
                    self.byzantine_nodes.join(", ")
                )
            })
    }
}

/// Judge a Byzantine broadcast run (see the module documentation).
pub fn check_byzantine(
    events: &[Event],
    run: &ByzantineRun,
) -> Result<ByzantineResult, HistoryError> {
    let ops = client_ops(events)?;
    // Each correct node's last ok final read (else its last ok read), as a set of integers.
    let mut nodes: BTreeSet<String> = BTreeSet::new();
    let mut finals: BTreeMap<String, (bool, BTreeSet<u64>)> = BTreeMap::new();
    // Original broadcasts: value -> (origin, acknowledged).
    let mut originals: BTreeMap<u64, (String, bool)> = BTreeMap::new();
    for op in &ops {
        let Some(node) = op.node() else { continue };
        nodes.insert(node.to_owned());
        match op.f() {
            "broadcast" => {
                if let Some(v) = op.invoke.value.as_u64() {
                    let entry = originals.entry(v).or_insert((node.to_owned(), false));
                    entry.1 |= op.outcome() == Outcome::Ok && entry.0 == node;
                }
            }
            "read" if op.outcome() == Outcome::Ok && !run.nodes.contains(node) => {
                let values: BTreeSet<u64> = op
                    .value()
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_u64)
                    .collect();
                let keep = finals
                    .get(node)
                    .is_none_or(|(was_final, _)| op.is_final() || !was_final);
                if keep {
                    finals.insert(node.to_owned(), (op.is_final(), values));
                }
            }
            _ => {}
        }
    }
    nodes.extend(run.nodes.iter().cloned());
    let correct: Vec<String> = nodes
        .iter()
        .filter(|n| !run.nodes.contains(*n))
        .cloned()
        .collect();
    let versions = run.versions();
    let none = BTreeSet::new();
    let mut violations = Vec::new();
    let (mut correct_origin_broadcasts, mut undelivered_count) = (0, 0);
    for (&original, (origin, acknowledged)) in &originals {
        let made = versions.get(&original).unwrap_or(&none);
        let byzantine_origin = run.nodes.contains(origin);
        let who = if byzantine_origin {
            "Byzantine"
        } else {
            "correct"
        };
        // What each correct node with a read delivered of this broadcast.
        let mut delivered: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
        for (node, (_, values)) in &finals {
            let got: Vec<u64> = std::iter::once(original)
                .chain(made.iter().copied())
                .filter(|v| values.contains(v))
                .collect();
            delivered.insert(node.as_str(), got);
        }
        let version = |node: &str, v: u64| -> String {
            if v == original {
                format!("{node} delivered {original}")
            } else {
                format!(
                    "{node} delivered {v}, a version of {original} that {}",
                    run.how_made(v, node)
                )
            }
        };
        let mut add = |rule: &'static str, explanation: String| {
            violations.push(Violation {
                rule,
                original: Value::from(original),
                origin: origin.clone(),
                explanation,
            });
        };
        for (node, got) in &delivered {
            if got.len() > 1 {
                let each: Vec<String> = got.iter().map(|&v| version(node, v)).collect();
                add(
                    "no-duplication",
                    format!(
                        "{}: a correct node delivered two versions of one broadcast ({original}, \
                         broadcast at {origin}, a {who} node)",
                        each.join("; ")
                    ),
                );
            }
        }
        if !byzantine_origin {
            correct_origin_broadcasts += 1;
            if delivered.values().all(Vec::is_empty) {
                undelivered_count += 1;
            }
            for (node, got) in &delivered {
                for &v in got.iter().filter(|&&v| v != original) {
                    add(
                        "integrity",
                        format!(
                            "{}; {original} was broadcast at {origin}, a correct node: a correct \
                             node must deliver a correct origin's message as it was sent",
                            version(node, v)
                        ),
                    );
                }
                if *acknowledged && !got.contains(&original) {
                    add(
                        "validity",
                        format!(
                            "{node}'s final read lacks {original}, which {origin} (correct) \
                             acknowledged to its client: every correct node must deliver it"
                        ),
                    );
                }
            }
        } else {
            let distinct: BTreeSet<&Vec<u64>> = delivered.values().collect();
            if distinct.len() > 1 {
                let each: Vec<String> = delivered
                    .iter()
                    .map(|(node, got)| match got.as_slice() {
                        [] => format!("{node} delivered none of its versions"),
                        [v] => version(node, *v),
                        more => format!("{node} delivered {} versions", more.len()),
                    })
                    .collect();
                add(
                    "agreement",
                    format!(
                        "{}: correct nodes disagree on {original} (broadcast at {origin}, a \
                         Byzantine node)",
                        each.join("; ")
                    ),
                );
            }
        }
    }
    let violation_count = violations.len();
    violations.truncate(MAX_VIOLATIONS);
    Ok(ByzantineResult {
        valid: Validity::from_bool(violation_count == 0),
        byzantine_nodes: run.nodes.iter().cloned().collect(),
        correct_nodes: correct,
        altered: run.counts.clone(),
        violation_count,
        violations,
        correct_origin_broadcasts,
        undelivered_count,
    })
}

impl ByzantineResult {
    /// The result of a history that could not be read: unknown.
    pub fn unchecked(run: &ByzantineRun, error: HistoryError) -> ByzantineResult {
        ByzantineResult {
            valid: Validity::Unknown,
            byzantine_nodes: run.nodes.iter().cloned().collect(),
            correct_nodes: Vec::new(),
            altered: run.counts.clone(),
            violation_count: 0,
            correct_origin_broadcasts: 0,
            undelivered_count: 0,
            violations: vec![Violation {
                rule: "unreadable",
                original: Value::Null,
                origin: String::new(),
                explanation: error.to_string(),
            }],
        }
    }
}

impl fmt::Display for ByzantineResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let altered: Vec<String> = self
            .altered
            .iter()
            .map(|(how, n)| format!("{how} {n}"))
            .collect();
        writeln!(
            f,
            "byzantine: {} Byzantine node(s) [{}], messages altered: {}; {} violation(s) among \
             the correct nodes [{}]",
            self.byzantine_nodes.len(),
            self.byzantine_nodes.join(", "),
            if altered.is_empty() {
                "none".to_owned()
            } else {
                altered.join(", ")
            },
            self.violation_count,
            self.correct_nodes.join(", ")
        )?;
        for v in &self.violations {
            writeln!(f, "  {}: {}", v.rule, v.explanation)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::parse_history;

    /// A history of n0, n1, n2 correct and n3 Byzantine: `body` goes between the start event
    /// and the final reads `finals` (node, values).
    fn history(body: &str, finals: &[(&str, &str)]) -> Vec<Event> {
        let mut text = String::from(
            r#"{"time":0,"process":"nemesis","type":"info","f":"byzantine","value":["n3"]}
"#,
        );
        text.push_str(body);
        for (i, (node, values)) in finals.iter().enumerate() {
            let p = 10 + i;
            text.push_str(&format!(
                "{{\"time\":900,\"process\":{p},\"node\":\"{node}\",\"type\":\"invoke\",\"f\":\"read\",\"value\":null,\"final\":true}}\n\
                 {{\"time\":901,\"process\":{p},\"node\":\"{node}\",\"type\":\"ok\",\"f\":\"read\",\"value\":{values},\"final\":true}}\n"
            ));
        }
        parse_history("h", text.as_bytes()).unwrap()
    }

    fn check(events: &[Event]) -> ByzantineResult {
        let run = ByzantineRun::of(events).unwrap();
        check_byzantine(events, &run).unwrap()
    }

    const CORRECT_ORIGIN: &str = r#"{"time":10,"process":0,"node":"n0","type":"invoke","f":"broadcast","value":1000042}
{"time":20,"process":0,"node":"n0","type":"ok","f":"broadcast","value":1000042}
{"time":1230000000,"process":"nemesis","type":"info","f":"byzantine-alter","value":{"node":"n3","dest":"n1","how":"equivocate","message":7,"changes":[[1000042,900000007]]}}
"#;

    const BYZANTINE_ORIGIN: &str = r#"{"time":10,"process":3,"node":"n3","type":"invoke","f":"broadcast","value":1000042}
{"time":20,"process":3,"node":"n3","type":"ok","f":"broadcast","value":1000042}
{"time":1230000000,"process":"nemesis","type":"info","f":"byzantine-alter","value":{"node":"n3","dest":"n1","how":"equivocate","message":7,"changes":[[1000042,900000007]]}}
"#;

    #[test]
    fn a_run_without_a_byzantine_event_is_not_byzantine() {
        let text = r#"{"time":10,"process":0,"node":"n0","type":"invoke","f":"broadcast","value":1000042}"#;
        let events = parse_history("h", text.as_bytes()).unwrap();
        assert!(ByzantineRun::of(&events).is_none());
    }

    #[test]
    fn correct_nodes_that_all_deliver_a_correct_origins_value_unaltered_are_valid() {
        let events = history(
            CORRECT_ORIGIN,
            &[
                ("n0", "[1000042]"),
                ("n1", "[1000042]"),
                ("n2", "[1000042]"),
                ("n3", "[900000007, 5]"),
            ],
        );
        let r = check(&events);
        assert_eq!(r.valid, Validity::Valid, "{r}");
        assert_eq!(r.correct_nodes, vec!["n0", "n1", "n2"]);
        assert_eq!(r.altered.get("equivocate"), Some(&1));
    }

    #[test]
    fn a_correct_node_that_delivers_an_altered_version_of_a_correct_origins_value_breaks_integrity()
    {
        let events = history(
            CORRECT_ORIGIN,
            &[
                ("n0", "[1000042]"),
                ("n1", "[900000007]"),
                ("n2", "[1000042]"),
            ],
        );
        let r = check(&events);
        assert_eq!(r.valid, Validity::Invalid);
        let rules: Vec<&str> = r.violations.iter().map(|v| v.rule).collect();
        assert_eq!(rules, vec!["integrity", "validity"]);
        assert_eq!(
            r.violations[0].explanation,
            "n1 delivered 900000007, a version of 1000042 that n3 (Byzantine) equivocated in \
             its message to n1 at 1.23 s; 1000042 was broadcast at n0, a correct node: a correct \
             node must deliver a correct origin's message as it was sent"
        );
    }

    #[test]
    fn correct_nodes_that_deliver_different_versions_of_a_byzantine_origins_value_disagree() {
        let events = history(
            BYZANTINE_ORIGIN,
            &[
                ("n0", "[1000042]"),
                ("n1", "[900000007]"),
                ("n2", "[1000042]"),
            ],
        );
        let r = check(&events);
        assert_eq!(r.valid, Validity::Invalid);
        assert_eq!(r.violations.len(), 1);
        assert_eq!(r.violations[0].rule, "agreement");
        assert!(
            r.violations[0]
                .explanation
                .contains("n1 delivered 900000007, a version of 1000042 that n3 (Byzantine) equivocated in its message to n1 at 1.23 s"),
            "{}",
            r.violations[0].explanation
        );
        assert!(
            r.violations[0]
                .explanation
                .ends_with("correct nodes disagree on 1000042 (broadcast at n3, a Byzantine node)")
        );
    }

    #[test]
    fn a_byzantine_origins_value_delivered_by_some_correct_nodes_and_not_others_is_invalid() {
        let events = history(
            BYZANTINE_ORIGIN,
            &[("n0", "[1000042]"), ("n1", "[]"), ("n2", "[1000042]")],
        );
        let r = check(&events);
        assert_eq!(r.violations[0].rule, "agreement");
        assert!(
            r.violations[0]
                .explanation
                .contains("n1 delivered none of its versions")
        );
    }

    #[test]
    fn a_byzantine_origins_value_delivered_by_no_correct_node_or_by_all_is_valid() {
        for finals in [
            [("n0", "[]"), ("n1", "[]"), ("n2", "[]")],
            [
                ("n0", "[900000007]"),
                ("n1", "[900000007]"),
                ("n2", "[900000007]"),
            ],
        ] {
            let events = history(BYZANTINE_ORIGIN, &finals);
            assert_eq!(check(&events).valid, Validity::Valid, "{finals:?}");
        }
    }

    #[test]
    fn correct_nodes_that_deliver_nothing_are_said_to_be_stalled_but_break_no_rule() {
        let events = history(CORRECT_ORIGIN, &[("n0", "[]"), ("n1", "[]"), ("n2", "[]")]);
        let r = check(&events);
        assert_eq!(r.violations[0].rule, "validity", "n0 acknowledged it");
        let unacknowledged = CORRECT_ORIGIN.replace(r#""type":"ok""#, r#""type":"info""#);
        let events = history(&unacknowledged, &[("n0", "[]"), ("n1", "[]"), ("n2", "[]")]);
        let r = check(&events);
        assert_eq!(r.valid, Validity::Valid);
        assert_eq!(
            r.stalled().as_deref(),
            Some(
                "not live: no correct node (n0, n1, n2) delivered any of the 1 broadcast(s) sent \
                 to correct nodes, with 1 Byzantine node(s) among them (n3)"
            )
        );
    }

    #[test]
    fn two_versions_at_one_correct_node_are_invalid() {
        let events = history(
            BYZANTINE_ORIGIN,
            &[
                ("n0", "[1000042, 900000007]"),
                ("n1", "[1000042, 900000007]"),
                ("n2", "[1000042, 900000007]"),
            ],
        );
        let r = check(&events);
        assert_eq!(r.violation_count, 3);
        assert!(r.violations.iter().all(|v| v.rule == "no-duplication"));
    }

    #[test]
    fn judged_events_leave_out_the_byzantine_nodes_ops_and_the_made_up_values() {
        let events = history(
            BYZANTINE_ORIGIN,
            &[("n0", "[1000042, 7]"), ("n1", "[900000007]"), ("n3", "[1]")],
        );
        let run = ByzantineRun::of(&events).unwrap();
        let judged = judged_events(&events, &run);
        assert!(judged.iter().all(|e| e.node.as_deref() != Some("n3")));
        let reads: Vec<&Value> = judged
            .iter()
            .filter(|e| e.f == "read" && e.kind == EventType::Ok)
            .map(|e| &e.value)
            .collect();
        assert_eq!(reads, vec![&serde_json::json!([7]), &serde_json::json!([])]);
    }
}
