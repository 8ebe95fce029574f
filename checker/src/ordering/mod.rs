//! Ordering of broadcast deliveries: FIFO, causal and total order broadcast (the course's
//! lecture on broadcast ordering), checked from each node's successive reads, which list the
//! messages in the order the node delivered them.
//!
//! - Every mode: a read must not list a message twice (*duplicate*), and a node's later reads
//!   extend its earlier ones within one incarnation (*extension*): deliveries are
//!   append-only, so two reads of one node are prefixes of one another, and a read invoked
//!   after another completed is at least as long.
//! - `fifo`: if the broadcast of m1 was acknowledged (ok) before the broadcast of m2 was
//!   invoked, both at the same origin node, every read that contains m2 contains m1 before it.
//! - `causal`: the same for every m1 that *happens before* m2, as far as the history shows
//!   it: m1 -> m2 if both have the same origin and m1 was acknowledged before m2 was invoked,
//!   or if m1 appeared in an ok read at m2's origin that completed before m2 was invoked (the
//!   origin delivered m1, then broadcast m2); closed transitively. Checking the direct edges
//!   suffices: if every read respects every direct edge, a read containing the last message
//!   of a chain contains its predecessor before it, and so on back to the first.
//! - `total`: every read is a prefix of one common order; equivalently every read is a
//!   prefix of the longest one, so no two reads (of any nodes, any incarnations) order a pair
//!   differently or skip a message the other delivered before.
//!
//! Every violation carries a witness: the read (node, incarnation, events), the two messages,
//! their positions, and why one must precede the other (for causal, the happens-before edge
//! with its evidence). The checks are linear in the total length of the reads: for each
//! origin the messages that must come first are kept sorted by when they became required,
//! and a pointer per origin moves past those already delivered in the read's prefix.

mod extension;
mod precedence;
mod total;

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;
use serde_json::Value;

use crate::broadcast::{BroadcastHistory, ReadRef};
use crate::validity::Validity;

/// At most this many violations are listed (all are counted).
pub const MAX_LISTED: usize = 20;

crate::named_enum! {
    /// The order a broadcast promises.
    #[derive(Hash)]
    pub enum OrderingMode: "ordering" {
        /// FIFO: the messages of one origin in the order it broadcast them.
        Fifo = "fifo",
        /// Causal: every message after those that happened before it.
        Causal = "causal",
        /// Total: every node delivers in one common order.
        Total = "total",
    }
}

/// What rule a read broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ViolationKind {
    Duplicate,
    Extension,
    Fifo,
    Causal,
    Total,
}

impl ViolationKind {
    pub fn name(self) -> &'static str {
        match self {
            ViolationKind::Duplicate => "duplicate",
            ViolationKind::Extension => "extension",
            ViolationKind::Fifo => "fifo",
            ViolationKind::Causal => "causal",
            ViolationKind::Total => "total",
        }
    }
}

/// One happens-before edge and the events that show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Edge {
    pub from: Value,
    pub to: Value,
    pub reason: String,
}

/// A read that breaks an ordering rule, with its witness.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Violation {
    pub kind: ViolationKind,
    pub read: ReadRef,
    /// The message that must come first (fifo, causal), or the other read's message where
    /// the two reads diverge (total, extension), or the repeated message (duplicate).
    pub earlier: Value,
    /// Where `earlier` is in this read, if it is there at all.
    pub earlier_position: Option<usize>,
    /// The message delivered too early, or this read's message where the reads diverge
    /// (`null` when this read ends there).
    pub later: Value,
    pub later_position: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub other_read: Option<ReadRef>,
    /// Why `earlier` must precede `later` (fifo, causal).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub chain: Vec<Edge>,
    pub why: String,
}

/// The result of an ordering check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrderingResult {
    pub valid: Validity,
    pub mode: OrderingMode,
    pub reads_checked: usize,
    /// Violating reads, counted once per kind.
    pub violation_count: usize,
    pub violations_by_kind: BTreeMap<&'static str, usize>,
    /// The first violations (by kind, then history order).
    pub violations: Vec<Violation>,
}

/// Collects violations: counts all, keeps the first few of each kind.
pub(crate) struct Found {
    counts: BTreeMap<ViolationKind, usize>,
    listed: Vec<Violation>,
}

impl Found {
    fn new() -> Found {
        Found {
            counts: BTreeMap::new(),
            listed: Vec::new(),
        }
    }

    /// Count one; `make` builds the witness only when it will be listed.
    pub(crate) fn add(&mut self, kind: ViolationKind, make: impl FnOnce() -> Violation) {
        let n = self.counts.entry(kind).or_insert(0);
        *n += 1;
        if *n <= MAX_LISTED {
            self.listed.push(make());
        }
    }
}

/// Where `m` is in `read`, if anywhere.
pub(crate) fn position(read: &[u32], m: u32) -> Option<usize> {
    read.iter().position(|&x| x == m)
}

/// Check the reads of a prepared broadcast history for `mode`.
pub fn check_ordering(h: &BroadcastHistory<'_>, mode: OrderingMode) -> OrderingResult {
    let mut found = Found::new();
    duplicates(h, &mut found);
    extension::check(h, &mut found);
    match mode {
        OrderingMode::Fifo | OrderingMode::Causal => precedence::check(h, mode, &mut found),
        OrderingMode::Total => total::check(h, &mut found),
    }
    let mut violations = found.listed;
    violations.sort_by_key(|v| (v.kind, v.read.complete_index, v.read.invoke_index));
    let violation_count = found.counts.values().sum();
    OrderingResult {
        valid: if violation_count > 0 {
            Validity::Invalid
        } else if h.reads.is_empty() {
            Validity::Unknown
        } else {
            Validity::Valid
        },
        mode,
        reads_checked: h.reads.len(),
        violation_count,
        violations_by_kind: found.counts.iter().map(|(k, &n)| (k.name(), n)).collect(),
        violations,
    }
}

fn duplicates(h: &BroadcastHistory<'_>, found: &mut Found) {
    let mut seen = vec![(u32::MAX, 0usize); h.values.len()];
    for (r, read) in h.reads.iter().enumerate() {
        for (j, &m) in read.messages.iter().enumerate() {
            let (stamp, first) = seen[m as usize];
            if stamp == r as u32 {
                found.add(ViolationKind::Duplicate, || Violation {
                    kind: ViolationKind::Duplicate,
                    read: h.read_ref(read),
                    earlier: h.values[m as usize].clone(),
                    earlier_position: Some(first),
                    later: h.values[m as usize].clone(),
                    later_position: j,
                    other_read: None,
                    chain: Vec::new(),
                    why: format!(
                        "{} is delivered twice: at positions {first} and {j}",
                        h.values[m as usize]
                    ),
                });
                break;
            }
            seen[m as usize] = (r as u32, j);
        }
    }
}

impl ViolationKind {
    /// What was broken, as the start of a sentence.
    pub fn phrase(self) -> &'static str {
        match self {
            ViolationKind::Duplicate => "a message delivered twice",
            ViolationKind::Extension => "a node's reads that do not extend one another",
            ViolationKind::Fifo => "FIFO order broken",
            ViolationKind::Causal => "causal order broken",
            ViolationKind::Total => "total order broken",
        }
    }
}

impl Violation {
    /// The violation and its witness in one sentence: the rule, the read, the other read it
    /// was compared with, why, and the happens-before evidence.
    pub fn sentence(&self) -> String {
        let mut text = format!("{} in the {}", self.kind.phrase(), self.read);
        if let Some(other) = &self.other_read {
            text.push_str(&format!(", compared with the {other}"));
        }
        text.push_str(": ");
        text.push_str(&self.why.replace("this read", "that read"));
        if !self.chain.is_empty() {
            let evidence: Vec<String> = self
                .chain
                .iter()
                .map(|e| format!("{} before {}: {}", e.from, e.to, e.reason))
                .collect();
            text.push_str(&format!(" ({})", evidence.join("; then ")));
        }
        text.push('.');
        text
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "  {}", self.sentence())
    }
}

impl fmt::Display for OrderingResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kinds: Vec<String> = self
            .violations_by_kind
            .iter()
            .map(|(k, n)| format!("{n} {k}"))
            .collect();
        writeln!(
            f,
            "ordering ({}): {}: {} reads checked, {} violations{}",
            self.mode.name(),
            self.valid,
            self.reads_checked,
            self.violation_count,
            if kinds.is_empty() {
                String::new()
            } else {
                format!(" ({})", kinds.join(", "))
            }
        )?;
        for v in &self.violations {
            write!(f, "{v}")?;
        }
        if self.violation_count > self.violations.len() {
            writeln!(
                f,
                "  ... {} more not listed",
                self.violation_count - self.violations.len()
            )?;
        }
        Ok(())
    }
}
