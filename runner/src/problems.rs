//! What nodes did wrong, as the harness saw it. The harness never stops reading a node
//! because of one bad line: it records the problem here, with a count and the first example,
//! and goes on. Problems land in `results.json` under `problems` and in the summary.

use std::collections::BTreeMap;

use serde::Serialize;

/// Lines per second above which a node is said to flood its stdout.
pub const FLOOD_LINES_PER_SEC: u64 = 10_000;

/// Counts a node's output lines in one-second windows, to name a flood: one per node, in the
/// router for its own nodes and in each agent for its host's.
#[derive(Debug, Clone, Default)]
pub struct FloodWindow {
    start: Option<u64>,
    lines: u64,
}

impl FloodWindow {
    /// Count a line written at `at` (nanoseconds on any steady clock); true exactly when it
    /// is the [`FLOOD_LINES_PER_SEC`]-th of its window, so a flood is reported once a second.
    pub fn count(&mut self, at: u64) -> bool {
        if self.start.is_none_or(|start| at >= start + 1_000_000_000) {
            self.start = Some(at);
            self.lines = 0;
        }
        self.lines += 1;
        self.lines == FLOOD_LINES_PER_SEC
    }
}

/// A kind of misbehaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProblemKind {
    /// A line on stdout that is not a protocol message.
    MalformedLine,
    /// A line longer than the harness accepts.
    OversizedLine,
    /// A message to a destination that does not exist.
    UnknownDest,
    /// A message whose `src` names no member of the network (no node, service or client).
    WrongSrc,
    /// A message whose `src` names another member of the network: a forward, accepted as
    /// Maelstrom accepts it, and routed from the node that wrote it (a warning: Maelstrom
    /// routes it as the `src`'s traffic, with no latency or partition when that is a client).
    ForwardedSrc,
    /// A reply to a client request that no client is waiting for (a warning: Maelstrom's
    /// client skips every reply but the one it waits for).
    ReplyToNobody,
    /// A second reply to a client request already answered; the first one counts (a warning,
    /// as Maelstrom's client skips it).
    DuplicateReply,
    /// A client request answered with a body the workload does not accept.
    BadReply,
    /// No `init_ok` within the init timeout.
    NoInitOk,
    /// `init` answered with something other than `init_ok`.
    BadInitReply,
    /// `topology` not answered with `topology_ok`.
    BadTopologyReply,
    /// The node exited while the test was running (not killed by the nemesis).
    Exited,
    /// The node did not read its input: messages to it were dropped.
    InputBacklog,
    /// The node wrote lines faster than the harness's flood limit.
    Flood,
    /// The node answered none of the client requests sent to it.
    Unresponsive,
    /// A line nested deeper than Maelstrom's JSON parser accepts: not routed.
    TooDeep,
    /// A message whose body has no string `type` (Maelstrom routes it: a warning).
    NoBodyType,
    /// A message whose `msg_id` or `in_reply_to` is not a non-negative integer (Maelstrom
    /// routes it: a warning).
    NonIntegerId,
    /// A request to a service that the service could not read, so it gave no reply (as
    /// Maelstrom's services give none: a warning).
    UnreadServiceRequest,
}

impl ProblemKind {
    /// True for a broken rule of the protocol, which makes the run invalid; false for a
    /// warning: a flood may be a legitimate burst of retransmissions, a forward is legitimate
    /// (the harness only routes it more strictly than Maelstrom), a reply nobody waits for or
    /// a second reply is skipped by Maelstrom's client as by ours (a Raft leader that answers
    /// a request its follower forwarded twice), and the malformed bodies
    /// that Maelstrom routes without a word (no `type`, an id that is not an integer, a
    /// request its services cannot read) are named but do not fail a node Maelstrom accepts.
    /// So is a node that answered none of its client requests: under faults a correct node
    /// may answer none of a few (paused when they came, killed before its own timeout), and
    /// Maelstrom records such ops as indefinite; a node that answers no op of a kind at all is
    /// failed by the stats rule, as in Maelstrom.
    pub fn is_error(self) -> bool {
        !matches!(
            self,
            ProblemKind::Flood
                | ProblemKind::Unresponsive
                | ProblemKind::ForwardedSrc
                | ProblemKind::ReplyToNobody
                | ProblemKind::DuplicateReply
                | ProblemKind::NoBodyType
                | ProblemKind::NonIntegerId
                | ProblemKind::UnreadServiceRequest
        )
    }

    /// One sentence for people.
    pub fn describe(self) -> &'static str {
        match self {
            ProblemKind::MalformedLine => "wrote lines that are not protocol messages",
            ProblemKind::OversizedLine => "wrote a line longer than the limit",
            ProblemKind::UnknownDest => "sent messages to a destination that does not exist",
            ProblemKind::WrongSrc => "sent messages whose src names no member of the network",
            ProblemKind::ForwardedSrc => {
                "forwarded messages with another member's src: accepted, as Maelstrom does, \
                 and sent from the node that wrote them (latency, partitions and the server \
                 message count apply; Maelstrom treats a client's src as client traffic)"
            }
            ProblemKind::ReplyToNobody => {
                "replied to a client request nobody is waiting for (skipped, as Maelstrom's \
                 client skips it)"
            }
            ProblemKind::DuplicateReply => {
                "replied twice to one client request (the first reply counts; the second is \
                 skipped, as Maelstrom's client skips it)"
            }
            ProblemKind::BadReply => "answered a client request with a body the workload rejects",
            ProblemKind::NoInitOk => "did not answer init in time",
            ProblemKind::BadInitReply => "answered init with something other than init_ok",
            ProblemKind::BadTopologyReply => {
                "answered topology with something other than topology_ok"
            }
            ProblemKind::Exited => "exited while the test was running",
            ProblemKind::InputBacklog => "did not read its input; messages to it were dropped",
            ProblemKind::Flood => "flooded its stdout",
            ProblemKind::Unresponsive => "answered none of the client requests sent to it",
            ProblemKind::TooDeep => {
                "wrote a line nested deeper than Maelstrom's JSON parser accepts (1000 levels); \
                 it was not routed"
            }
            ProblemKind::NoBodyType => {
                "sent messages whose body has no string type (routed, as Maelstrom does)"
            }
            ProblemKind::NonIntegerId => {
                "sent messages whose msg_id or in_reply_to is not a non-negative integer \
                 (routed, as Maelstrom does)"
            }
            ProblemKind::UnreadServiceRequest => {
                "sent a service a request it could not read, so it gave no reply (as \
                 Maelstrom's services give none)"
            }
        }
    }
}

/// One kind of problem of one node.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    pub node: String,
    pub kind: ProblemKind,
    /// False for warnings, which do not make the run invalid.
    pub error: bool,
    pub description: &'static str,
    pub count: u64,
    /// When it was first seen, ms since the run started.
    pub first_at_ms: f64,
    /// The first offending line or a description of it (cut to a readable length).
    pub example: String,
}

/// Every problem seen so far.
#[derive(Debug, Default)]
pub struct Problems {
    by_key: BTreeMap<(String, ProblemKind), Problem>,
}

/// How much of an offending line is kept as the example.
const EXAMPLE_LEN: usize = 300;

impl Problems {
    /// Record one occurrence.
    pub fn record(
        &mut self,
        node: &str,
        kind: ProblemKind,
        at: u64,
        example: impl FnOnce() -> String,
    ) {
        self.by_key
            .entry((node.to_owned(), kind))
            .and_modify(|p| p.count += 1)
            .or_insert_with(|| {
                let mut example = example();
                if example.len() > EXAMPLE_LEN {
                    let mut cut = EXAMPLE_LEN;
                    while !example.is_char_boundary(cut) {
                        cut -= 1;
                    }
                    example.truncate(cut);
                    example.push_str("...");
                }
                Problem {
                    node: node.to_owned(),
                    kind,
                    error: kind.is_error(),
                    description: kind.describe(),
                    count: 1,
                    first_at_ms: at as f64 / 1e6,
                    example,
                }
            });
    }

    /// True if this node has had this kind of problem.
    pub fn has(&self, node: &str, kind: ProblemKind) -> bool {
        self.by_key.contains_key(&(node.to_owned(), kind))
    }

    /// Every problem, by node then kind.
    pub fn list(&self) -> Vec<Problem> {
        self.by_key.values().cloned().collect()
    }

    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_is_ten_thousand_lines_within_one_second_reported_once_a_window() {
        let mut window = FloodWindow::default();
        let ms = 1_000_000;
        // 9,999 lines in the first second: no flood; the window starts again at 1 s.
        assert!(!(0..9_999).any(|i| window.count(i * 100_000)));
        assert!(!window.count(1_000 * ms));
        // 10,000 lines within the new window: the 10,000th is the flood, once.
        let flagged: Vec<u64> = (1..10_001)
            .filter(|i| window.count(1_000 * ms + i * 50_000))
            .collect();
        assert_eq!(flagged, [9_999]);
    }

    #[test]
    fn counts_and_keeps_the_first_example_cut_short() {
        let mut problems = Problems::default();
        problems.record("n1", ProblemKind::MalformedLine, 2_000_000, || {
            "x".repeat(1000)
        });
        problems.record("n1", ProblemKind::MalformedLine, 3_000_000, || {
            "second".into()
        });
        problems.record("n0", ProblemKind::Exited, 1, || "exit code 1".into());
        let list = problems.list();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].node, "n0");
        assert_eq!(list[1].count, 2);
        assert_eq!(list[1].first_at_ms, 2.0);
        assert_eq!(list[1].example.len(), EXAMPLE_LEN + 3);
        assert!(problems.has("n1", ProblemKind::MalformedLine));
    }
}
