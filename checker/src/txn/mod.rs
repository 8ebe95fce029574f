//! Transactions: the isolation checker of `txn-list-append` and `txn-rw-register`, after
//! Elle (Kingsbury and Alvaro, "Elle: Inferring Isolation Anomalies from Experimental
//! Observations", VLDB 2020) and Adya's definitions of the anomalies G0, G1a, G1b, G1c,
//! G-single, G2-item and their process and realtime variants.
//!
//! History values: `f: "txn"`, value the list of micro-ops `[f, key, value]` (`["r", k, null]`
//! then, on ok, `["r", k, observed]`; `["append", k, v]`; `["w", k, v]`).
//!
//! The pipeline: [`history`] reads the events into compact transactions (keys and values
//! interned); [`list_append`] or [`rw_register`] infers the ww, wr and rw dependencies and
//! the anomalies that need no cycle; [`graph`] adds the process or real-time order when the
//! models ask for it and builds the adjacency; [`cycles`] finds the strongly connected
//! components and, in each, the shortest cycle of each class; [`models`] says which anomalies
//! the models prohibit and which models the anomalies rule out; [`explain`] puts each
//! instance in words. Measured speed: bench/README.md.

pub mod anomaly;
pub mod cycles;
pub mod explain;
pub mod graph;
pub mod history;
pub mod list_append;
pub mod lost_update;
pub mod models;
pub mod rw_register;
pub mod writers;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Serialize;

use crate::history::{Event, HistoryError};
use crate::op::Outcome;
use crate::validity::Validity;

pub use anomaly::Anomaly;
pub use explain::{AnomalyCase, Step, TxnInfo};
pub use graph::{EdgeCounts, EdgeKind};
pub use history::{TxnHistory, TxnHistoryBuilder};
pub use models::{ConsistencyModel, DEFAULT_MODEL, parse_models};

/// Which data type the transactions work on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TxnKind {
    /// Lists: `append` adds an element at the end, a read returns the whole list.
    ListAppend,
    /// Registers: `w` sets the value, a read returns it.
    RwRegister,
}

impl TxnKind {
    /// The workload's name: `txn-list-append`, `txn-rw-register`.
    pub fn workload(self) -> &'static str {
        match self {
            TxnKind::ListAppend => "txn-list-append",
            TxnKind::RwRegister => "txn-rw-register",
        }
    }
}

/// How to check a transactional history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxnOptions {
    pub kind: TxnKind,
    /// The models the history must meet. When both this and `anomalies` are empty:
    /// strict-serializable.
    pub models: Vec<ConsistencyModel>,
    /// Anomalies that fail the history besides those the models prohibit (Elle's
    /// `:anomalies`; each also brings the anomalies that imply it).
    pub anomalies: Vec<Anomaly>,
}

impl TxnOptions {
    /// Check `kind` against Maelstrom's default model, strict-serializable.
    pub fn new(kind: TxnKind) -> Self {
        TxnOptions {
            kind,
            models: vec![DEFAULT_MODEL],
            anomalies: Vec::new(),
        }
    }

    /// The models checked: `models`, or strict-serializable when nothing is asked.
    pub fn effective_models(&self) -> Vec<ConsistencyModel> {
        if self.models.is_empty() && self.anomalies.is_empty() {
            vec![DEFAULT_MODEL]
        } else {
            self.models.clone()
        }
    }

    /// The anomalies that make a history invalid (Elle's `prohibited-anomaly-types`).
    pub fn prohibited(&self) -> BTreeSet<Anomaly> {
        let mut p = models::anomalies_prohibited_by(self.effective_models());
        p.extend(anomaly::all_implying(self.anomalies.iter().copied()));
        p
    }
}

/// What the isolation checker found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TxnResult {
    /// Invalid when an anomaly the models prohibit was found; unknown when none was but the
    /// checker could not decide (no dependency at all, or a cycle search out of budget);
    /// valid otherwise.
    pub valid: Validity,
    pub kind: TxnKind,
    /// The models checked against.
    pub models: Vec<ConsistencyModel>,
    /// The anomalies asked for besides the models' (Elle's `:anomalies`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub anomalies_asked: Vec<Anomaly>,
    /// Transactions, and how many of them were ok, info (or never completed) and fail.
    pub txn_count: usize,
    pub ok_count: usize,
    pub info_count: usize,
    pub fail_count: usize,
    /// Every anomaly found, sorted by name (those the models allow too).
    pub anomaly_types: Vec<Anomaly>,
    /// Of those, the ones that make the history invalid.
    pub prohibited_types: Vec<Anomaly>,
    /// Per anomaly: its first instances (cycles shortest first), at most
    /// [`explain::KEPT`].
    pub anomalies: BTreeMap<Anomaly, Vec<AnomalyCase>>,
    /// Per anomaly: how many instances (cycle classes: components holding one).
    pub anomaly_counts: BTreeMap<Anomaly, usize>,
    /// The weakest models the anomalies rule out, and the other models they rule out.
    pub not: Vec<String>,
    pub also_not: Vec<String>,
    /// Dependencies by kind.
    pub edge_counts: EdgeCounts,
    /// Strongly connected components of more than one transaction, and the largest's size.
    pub scc_count: usize,
    pub largest_scc: usize,
    /// Why the verdict is unknown, when it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unknown_reason: Option<String>,
}

/// Check a transactional history against `opts.models`.
pub fn check_txn(history: &[Event], opts: &TxnOptions) -> Result<TxnResult, HistoryError> {
    let h = TxnHistory::from_events(opts.kind, history)?;
    check_txn_history(&h, opts)
}

/// Check a history already read into a [`TxnHistory`] (built with a [`TxnHistoryBuilder`]
/// from a stream of events, so the events need not all be held at once).
pub fn check_txn_history(h: &TxnHistory, opts: &TxnOptions) -> Result<TxnResult, HistoryError> {
    if h.kind != opts.kind {
        return Err(HistoryError::Malformed {
            index: 0,
            reason: format!(
                "a {} history checked as {}",
                h.kind.workload(),
                opts.kind.workload()
            ),
        });
    }
    let prohibited = opts.prohibited();
    let mut found = explain::Findings::default();
    let g = dependencies(h, opts, &mut found)?;
    if g.arcs.is_empty() {
        found.flag(Anomaly::EmptyTransactionGraph);
    }
    let report = cycles::find_cycles(h, &g, &mut found);
    Ok(result(h, opts, &prohibited, found, g.counts, report))
}

/// The dependency graph of a history: the data dependencies of its kind, and the real-time
/// order when an anomaly that `opts` prohibits needs it (it covers the process order of ok
/// transactions), else the process order when one needs that (Elle's additional graphs).
/// The anomalies found on the way go to `found`.
pub fn dependencies(
    h: &TxnHistory,
    opts: &TxnOptions,
    found: &mut explain::Findings,
) -> Result<graph::Graph, HistoryError> {
    let mut edges = graph::EdgeList::default();
    match h.kind {
        TxnKind::ListAppend => list_append::analyze(h, &mut edges, found)?,
        TxnKind::RwRegister => rw_register::analyze(h, &mut edges, found)?,
    }
    let mut reportable = opts.prohibited();
    reportable.extend([Anomaly::EmptyTransactionGraph, Anomaly::CycleSearchTimeout]);
    let wants = |suffix: &str| reportable.iter().any(|a| a.name().ends_with(suffix));
    if wants("-realtime") {
        graph::realtime_edges(h, &mut edges);
    } else if wants("-process") {
        graph::process_edges(h, &mut edges);
    }
    Ok(graph::Graph::build(h.txns.len(), h.kind, edges))
}

/// Gather the findings into a result.
fn result(
    h: &TxnHistory,
    opts: &TxnOptions,
    prohibited: &BTreeSet<Anomaly>,
    found: explain::Findings,
    edge_counts: EdgeCounts,
    report: cycles::CycleReport,
) -> TxnResult {
    let mut anomaly_types: Vec<Anomaly> = found.counts.keys().copied().collect();
    anomaly_types.sort_by_key(|a| a.name());
    let prohibited_types: Vec<Anomaly> = anomaly_types
        .iter()
        .copied()
        .filter(|a| prohibited.contains(a))
        .collect();
    let unknown: Vec<Anomaly> = anomaly_types
        .iter()
        .copied()
        .filter(|a| a.is_unknown())
        .collect();
    let valid = if !prohibited_types.is_empty() {
        Validity::Invalid
    } else if !unknown.is_empty() {
        Validity::Unknown
    } else {
        Validity::Valid
    };
    let unknown_reason = (valid == Validity::Unknown).then(|| {
        unknown
            .iter()
            .map(|a| match a {
                Anomaly::EmptyTransactionGraph => {
                    "no transaction depends on another (empty-transaction-graph): nothing to check"
                        .to_owned()
                }
                _ => found.cases[a]
                    .first()
                    .map_or_else(|| a.name().to_owned(), |c| c.explanation.clone()),
            })
            .collect::<Vec<_>>()
            .join("; ")
    });
    let (not, also_not) = models::boundary(anomaly_types.iter().copied());
    let count = |o: Outcome| h.txns.iter().filter(|t| t.outcome == o).count();
    TxnResult {
        valid,
        kind: opts.kind,
        models: opts.effective_models(),
        anomalies_asked: opts.anomalies.clone(),
        txn_count: h.txns.len(),
        ok_count: count(Outcome::Ok),
        info_count: count(Outcome::Info),
        fail_count: count(Outcome::Fail),
        anomaly_types,
        prohibited_types,
        anomalies: found.cases,
        anomaly_counts: found.counts,
        not,
        also_not,
        edge_counts,
        scc_count: report.scc_count,
        largest_scc: report.largest_scc,
        unknown_reason,
    }
}

impl TxnResult {
    /// The anomalies in the order to tell them: prohibited first, then by name.
    fn told(&self) -> Vec<Anomaly> {
        let mut told = self.prohibited_types.clone();
        told.extend(
            self.anomaly_types
                .iter()
                .filter(|a| !self.prohibited_types.contains(a)),
        );
        told
    }

    /// The story of this result: a headline, and one sentence per instance of a prohibited
    /// anomaly (a handful per anomaly, then "and N more"); the anomalies the models allow are
    /// no failure and are left to the summary.
    pub fn story(&self) -> crate::story::Story {
        let told = crate::story::TOLD;
        let mut story = crate::story::Story::default();
        for &a in &self.prohibited_types {
            let cases = self.anomalies.get(&a).map_or(&[][..], Vec::as_slice);
            for c in cases.iter().take(told) {
                story.failures.push(format!("{a}: {}", c.explanation));
            }
            let count = self.anomaly_counts.get(&a).copied().unwrap_or(0);
            if count > told.min(cases.len()) && !cases.is_empty() {
                story
                    .failures
                    .push(format!("and {} more {a}", count - told.min(cases.len())));
            }
        }
        story.headline = match self.valid {
            Validity::Invalid => {
                let names: Vec<String> = self
                    .prohibited_types
                    .iter()
                    .map(|a| format!("{a} ({})", self.anomaly_counts.get(a).copied().unwrap_or(0)))
                    .collect();
                let first = self
                    .prohibited_types
                    .first()
                    .and_then(|a| self.anomalies.get(a))
                    .and_then(|c| c.first())
                    .map_or(String::new(), |c| format!(": {}", c.explanation));
                Some(format!(
                    "isolation anomalies (checked {}): {}{first}",
                    self.models_words(),
                    names.join(", ")
                ))
            }
            Validity::Unknown => Some(format!(
                "the isolation check cannot decide: {}",
                self.unknown_reason.as_deref().unwrap_or("no reason given")
            )),
            Validity::Valid => None,
        };
        story
    }

    /// "against strict-serializable", "for G0, G1", or both.
    fn models_words(&self) -> String {
        let names = |it: &mut dyn Iterator<Item = &'static str>| it.collect::<Vec<_>>().join(", ");
        let models = names(&mut self.models.iter().map(|m| m.name()));
        let asked = names(&mut self.anomalies_asked.iter().map(|a| a.name()));
        match (models.is_empty(), asked.is_empty()) {
            (false, true) => format!("against {models}"),
            (true, false) => format!("for {asked}"),
            (false, false) => format!("against {models} and for {asked}"),
            (true, true) => "for nothing".to_owned(),
        }
    }
}

impl fmt::Display for TxnResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "isolation ({}, checked {}): {}",
            self.kind.workload(),
            self.models_words(),
            self.valid
        )?;
        writeln!(
            f,
            "  {} txns ({} ok, {} info, {} fail); edges: {} ww, {} wr, {} rw, {} process, {} realtime; {} cyclic component{}",
            self.txn_count,
            self.ok_count,
            self.info_count,
            self.fail_count,
            self.edge_counts.ww,
            self.edge_counts.wr,
            self.edge_counts.rw,
            self.edge_counts.process,
            self.edge_counts.realtime,
            self.scc_count,
            if self.scc_count == 1 { "" } else { "s" }
        )?;
        for a in self.told() {
            let count = self.anomaly_counts.get(&a).copied().unwrap_or(0);
            let allowed = if self.prohibited_types.contains(&a) {
                ""
            } else if a == Anomaly::GarbageRead {
                " (a warning: stricter than Elle and Maelstrom, which do not flag a read of a \
                 value no transaction wrote)"
            } else {
                " (allowed by the models)"
            };
            writeln!(f, "  {a}: {count}{allowed}")?;
            if let Some(c) = self.anomalies.get(&a).and_then(|c| c.first()) {
                writeln!(f, "    {}", c.explanation)?;
            }
        }
        if let Some(r) = &self.unknown_reason {
            writeln!(f, "  unknown: {r}")?;
        }
        if !self.not.is_empty() {
            writeln!(f, "  not: {}", self.not.join(", "))?;
        }
        if !self.also_not.is_empty() {
            writeln!(f, "  also not: {}", self.also_not.join(", "))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::parse_history;

    fn events(text: &str) -> Vec<Event> {
        parse_history("h", text.as_bytes()).unwrap()
    }

    const G1C: &str = r#"{"process":0,"type":"invoke","f":"txn","value":[["append",1,1],["r",2,null]]}
{"process":1,"type":"invoke","f":"txn","value":[["append",2,1],["r",1,null]]}
{"process":0,"type":"ok","f":"txn","value":[["append",1,1],["r",2,[1]]]}
{"process":1,"type":"ok","f":"txn","value":[["append",2,1],["r",1,[1]]]}
"#;

    #[test]
    fn a_g1c_cycle_is_invalid_told_and_serialized_like_elle() {
        let r = check_txn(&events(G1C), &TxnOptions::new(TxnKind::ListAppend)).unwrap();
        assert_eq!(r.valid, Validity::Invalid);
        assert_eq!(r.anomaly_types, [Anomaly::G1c]);
        assert_eq!(r.not, ["read-committed"]);
        let text = r.to_string();
        assert!(
            text.starts_with(
                "isolation (txn-list-append, checked against strict-serializable): invalid"
            ),
            "{text}"
        );
        assert!(text.contains("T1 < T2 < T1"), "{text}");
        let story = r.story();
        let headline = story.headline.unwrap();
        assert!(
            headline.starts_with(
                "isolation anomalies (checked against strict-serializable): G1c (1): T1"
            ),
            "{headline}"
        );
        assert_eq!(story.failures.len(), 1);
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["valid"], false);
        assert_eq!(json["kind"], "list-append");
        assert_eq!(json["anomaly_types"], serde_json::json!(["G1c"]));
        assert_eq!(json["anomalies"]["G1c"][0]["steps"][0]["kind"], "wr");
        assert_eq!(json["edge_counts"]["wr"], 2);
    }

    #[test]
    fn anomalies_the_models_allow_are_reported_but_do_not_fail() {
        let mut opts = TxnOptions::new(TxnKind::ListAppend);
        opts.models = vec![ConsistencyModel::ReadUncommitted];
        let r = check_txn(&events(G1C), &opts).unwrap();
        assert_eq!(r.valid, Validity::Valid);
        assert_eq!(r.anomaly_types, [Anomaly::G1c]);
        assert!(r.prohibited_types.is_empty());
        assert!(r.to_string().contains("G1c: 1 (allowed by the models)"));
    }

    #[test]
    fn nothing_to_order_is_unknown_and_says_why() {
        let text = r#"{"process":0,"type":"invoke","f":"txn","value":[["append",1,1]]}
{"process":0,"type":"ok","f":"txn","value":[["append",1,1]]}
"#;
        let r = check_txn(&events(text), &TxnOptions::new(TxnKind::ListAppend)).unwrap();
        assert_eq!(r.valid, Validity::Unknown);
        assert!(
            r.unknown_reason
                .unwrap()
                .contains("empty-transaction-graph")
        );
    }

    #[test]
    fn a_history_of_another_kind_is_an_error() {
        let text = r#"{"process":0,"type":"invoke","f":"read","value":null}"#;
        let err = check_txn(&events(text), &TxnOptions::new(TxnKind::RwRegister)).unwrap_err();
        assert!(err.to_string().contains("only txn ops"), "{err}");
        let h = TxnHistory::from_events(TxnKind::ListAppend, &events(G1C)).unwrap();
        assert!(check_txn_history(&h, &TxnOptions::new(TxnKind::RwRegister)).is_err());
    }
}
