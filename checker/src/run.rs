//! The checks of one run, as `harness test` calls them: the workload's checker, the ordering
//! of broadcasts when asked, op statistics and network statistics, gathered into the body of
//! `results.json` with one overall verdict.

use std::fmt;
use std::time::Duration;

use serde::Serialize;

use crate::broadcast::BroadcastHistory;
use crate::counter::{CounterResult, check_counter};
use crate::echo::{EchoResult, check_echo};
use crate::history::Event;
use crate::lin::{LinOptions, LinResult, ModelKind, NilRead, check_linearizable};
use crate::ordering::{OrderingMode, OrderingResult, check_ordering};
use crate::set_full::{SetFullResult, set_full};
use crate::stats::{NetStats, OpStats, op_stats};
use crate::unique_ids::{UniqueIdsResult, check_unique_ids};
use crate::validity::Validity;

/// The workloads this crate checks.
pub const WORKLOADS: [&str; 5] = ["echo", "unique-ids", "broadcast", "g-counter", "lin-kv"];

/// How to check a run.
#[derive(Debug, Clone, Default)]
pub struct RunCheckOptions {
    /// Check the delivery order of broadcasts too (broadcast only; ignored otherwise).
    pub ordering: Option<OrderingMode>,
    /// lin-kv: past this the verdict is unknown (no limit when `None`).
    pub time_limit: Option<Duration>,
    /// lin-kv: bytes of search memo past which the verdict is unknown.
    pub memory_limit: Option<u64>,
    /// Network statistics the runner counted; the invocation count (and, for broadcast, the
    /// broadcast count) is set from the history.
    pub net: Option<NetStats>,
}

/// The workload checker's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum WorkloadResult {
    Echo(EchoResult),
    UniqueIds(UniqueIdsResult),
    Broadcast(Box<SetFullResult>),
    Counter(CounterResult),
    Linearizable(Box<LinResult>),
    /// The history could not be checked (malformed, or an unknown workload).
    Unchecked {
        valid: Validity,
        error: String,
    },
}

impl WorkloadResult {
    pub fn valid(&self) -> Validity {
        match self {
            WorkloadResult::Echo(r) => r.valid,
            WorkloadResult::UniqueIds(r) => r.valid,
            WorkloadResult::Broadcast(r) => r.valid,
            WorkloadResult::Counter(r) => r.valid,
            WorkloadResult::Linearizable(r) => r.valid,
            WorkloadResult::Unchecked { valid, .. } => *valid,
        }
    }
}

/// The body of `results.json`: `workload`, `ordering` (when asked), `stats`, `net` (when
/// given) and the overall `valid` (invalid if any part is, else unknown if any part is).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunResults {
    pub workload: WorkloadResult,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ordering: Option<OrderingResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stats: Option<OpStats>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub net: Option<NetStats>,
    pub valid: Validity,
}

fn unchecked(error: impl fmt::Display) -> WorkloadResult {
    WorkloadResult::Unchecked {
        valid: Validity::Unknown,
        error: error.to_string(),
    }
}

/// Check a run of `workload` ("echo", "unique-ids", "broadcast", "g-counter", "lin-kv").
/// Never fails: a history that cannot be checked gives an unknown verdict with the reason.
/// lin-kv is checked with the kv model, keys starting absent and a `null` read meaning
/// absent, as the harness records them.
pub fn check_run(workload: &str, history: &[Event], opts: &RunCheckOptions) -> RunResults {
    let mut ordering = None;
    let result = match workload {
        "echo" => check_echo(history).map_or_else(unchecked, WorkloadResult::Echo),
        "unique-ids" => check_unique_ids(history).map_or_else(unchecked, WorkloadResult::UniqueIds),
        "g-counter" => check_counter(history).map_or_else(unchecked, WorkloadResult::Counter),
        "broadcast" => match BroadcastHistory::new(history) {
            Ok(h) => {
                ordering = opts.ordering.map(|mode| check_ordering(&h, mode));
                WorkloadResult::Broadcast(Box::new(set_full(&h, false)))
            }
            Err(e) => unchecked(e),
        },
        "lin-kv" => {
            let mut lin = LinOptions::new(ModelKind::Kv);
            lin.nil_read = NilRead::Absent;
            lin.time_limit = opts.time_limit;
            lin.memory_limit = opts.memory_limit;
            check_linearizable(history, &lin)
                .map_or_else(unchecked, |r| WorkloadResult::Linearizable(Box::new(r)))
        }
        other => unchecked(format!(
            "no checker for workload {other:?} (known: {})",
            WORKLOADS.join(", ")
        )),
    };
    let stats = op_stats(history).ok();
    let net = opts.net.clone().map(|mut n| {
        n.count_invocations(history);
        if workload == "broadcast" {
            n.count_broadcasts(history);
        }
        n
    });
    let valid = Validity::all(
        [
            Some(result.valid()),
            ordering.as_ref().map(|o| o.valid),
            stats.as_ref().map(|s| s.valid),
        ]
        .into_iter()
        .flatten(),
    );
    RunResults {
        workload: result,
        ordering,
        stats,
        net,
        valid,
    }
}

impl fmt::Display for WorkloadResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WorkloadResult::Echo(r) => r.fmt(f),
            WorkloadResult::UniqueIds(r) => r.fmt(f),
            WorkloadResult::Broadcast(r) => r.fmt(f),
            WorkloadResult::Counter(r) => r.fmt(f),
            WorkloadResult::Linearizable(r) => write!(f, "linearizability: {r}"),
            WorkloadResult::Unchecked { error, .. } => writeln!(f, "not checked: {error}"),
        }
    }
}

impl fmt::Display for RunResults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.workload)?;
        if let Some(o) = &self.ordering {
            write!(f, "{o}")?;
        }
        if let Some(s) = &self.stats {
            write!(f, "{s}")?;
        }
        if let Some(n) = &self.net {
            write!(f, "{n}")?;
        }
        writeln!(f, "valid: {}", self.valid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::parse_history;

    fn events(text: &str) -> Vec<Event> {
        parse_history("h", text.as_bytes()).unwrap()
    }

    #[test]
    fn lin_kv_runs_use_absent_keys_and_merge_verdicts() {
        let h = events(
            r#"{"index":0,"time":1,"process":0,"node":"n0","type":"invoke","f":"read","value":["k",null]}
{"index":1,"time":2,"process":0,"node":"n0","type":"ok","f":"read","value":["k",null]}
{"index":2,"time":3,"process":0,"node":"n0","type":"invoke","f":"cas","value":["k",[1,2]]}
{"index":3,"time":4,"process":0,"node":"n0","type":"fail","f":"cas","value":["k",[1,2]],"error":{"code":20,"name":"key-does-not-exist","text":""}}
{"index":4,"time":5,"process":0,"node":"n0","type":"invoke","f":"write","value":["k",3]}
{"index":5,"time":6,"process":0,"node":"n0","type":"ok","f":"write","value":["k",3]}
{"index":6,"time":7,"process":0,"node":"n0","type":"invoke","f":"read","value":["k",null]}
{"index":7,"time":8,"process":0,"node":"n0","type":"ok","f":"read","value":["k",3]}"#,
        );
        let r = check_run("lin-kv", &h, &RunCheckOptions::default());
        assert_eq!(r.workload.valid(), Validity::Valid);
        // Every cas failed, so the stats say invalid, and so does the run (as Jepsen's stats
        // checker, which Maelstrom composes, judges it).
        assert_eq!(
            r.stats.as_ref().unwrap().by_f["cas"].valid,
            Validity::Invalid
        );
        assert_eq!(r.stats.as_ref().unwrap().never_succeeded, ["cas"]);
        assert_eq!(r.valid, Validity::Invalid);
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["workload"]["semantics"]["nil_read"], "absent");
        assert!(json.get("ordering").is_none() && json.get("net").is_none());
    }

    #[test]
    fn a_read_answered_key_does_not_exist_is_checked_as_a_read_of_the_absent_key() {
        let write_then = |second_read_error: &str| {
            events(&format!(
                r#"{{"index":0,"time":1,"process":0,"node":"n0","type":"invoke","f":"read","value":[1,null]}}
{{"index":1,"time":2,"process":0,"node":"n0","type":"fail","f":"read","value":[1,null],"error":{{"code":20,"name":"key-does-not-exist","text":""}}}}
{{"index":2,"time":3,"process":0,"node":"n0","type":"invoke","f":"write","value":[1,3]}}
{{"index":3,"time":4,"process":0,"node":"n0","type":"ok","f":"write","value":[1,3]}}
{{"index":4,"time":5,"process":1,"node":"n1","type":"invoke","f":"read","value":[1,null]}}
{{"index":5,"time":6,"process":1,"node":"n1","type":"fail","f":"read","value":[1,null],"error":{second_read_error}}}
{{"index":6,"time":7,"process":1,"node":"n1","type":"invoke","f":"read","value":[1,null]}}
{{"index":7,"time":8,"process":1,"node":"n1","type":"ok","f":"read","value":[1,3]}}"#
            ))
        };
        // Absent before the write: linearizable; the first read is checked, not dropped.
        let h = write_then(r#"{"code":11,"name":"temporarily-unavailable","text":""}"#);
        let r = check_run("lin-kv", &h, &RunCheckOptions::default());
        assert_eq!(r.workload.valid(), Validity::Valid, "{r}");
        let WorkloadResult::Linearizable(lin) = &r.workload else {
            panic!("{r}")
        };
        assert_eq!((lin.op_count, lin.failed_dropped), (3, 1));
        // Absent after an acknowledged write: the store forgot it.
        let h = write_then(r#"{"code":20,"name":"key-does-not-exist","text":""}"#);
        let r = check_run("lin-kv", &h, &RunCheckOptions::default());
        assert_eq!(r.workload.valid(), Validity::Invalid, "{r}");
        let WorkloadResult::Linearizable(lin) = &r.workload else {
            panic!("{r}")
        };
        let failure = lin.failure.as_ref().expect("a failure");
        assert_eq!(failure.op.index, 4, "{r}");
        assert!(
            failure.explanation.contains(
                "the read by process 1 at n1 during [0.0, 0.0] ms found the key absent \
                 (error 20, key-does-not-exist)"
            ),
            "{}",
            failure.explanation
        );
        assert!(
            r.to_string()
                .contains("-> fail (error 20 key-does-not-exist)"),
            "{r}"
        );
    }

    #[test]
    fn unknown_workloads_and_malformed_histories_are_unchecked() {
        let r = check_run("queue", &[], &RunCheckOptions::default());
        assert_eq!(r.valid, Validity::Unknown);
        assert!(
            r.to_string().contains("no checker for workload \"queue\""),
            "{r}"
        );
        let h = events(r#"{"index":0,"time":1,"process":0,"type":"ok","f":"echo","value":"x"}"#);
        let r = check_run("echo", &h, &RunCheckOptions::default());
        assert_eq!(r.valid, Validity::Unknown);
        assert!(r.stats.is_none());
        assert!(r.to_string().contains("event 0: "), "{r}");
    }
}
