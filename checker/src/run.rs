//! The checks of one run, as `harness test` calls them: the workload's checker, the ordering
//! of broadcasts when asked, op statistics and network statistics, gathered into the body of
//! `results.json` with one overall verdict.
//!
//! Which checker a workload's histories get is the workload's business: each workload (in
//! the `workloads` crate) names its [`Check`], and this crate knows no workload by name.

use std::fmt;
use std::time::Duration;

use serde::Serialize;

use crate::broadcast::{BroadcastHistory, SetOps};
use crate::byzantine::{ByzantineResult, ByzantineRun, check_byzantine, judged_events};
use crate::counter::{CounterResult, check_counter_as};
use crate::echo::{EchoResult, check_echo};
use crate::failure_detector::{DetectorResult, check_failure_detector};
use crate::history::Event;
use crate::kafka::{KafkaResult, check_kafka};
use crate::lin::{LinOptions, LinResult, ModelKind, NilRead, check_linearizable};
use crate::lww::{LwwResult, check_lww};
use crate::ordering::{OrderingMode, OrderingResult, check_ordering};
use crate::set_full::{SetFullResult, set_full};
use crate::stats::{NetStats, OpStats, op_stats};
use crate::time_sync::{TimeSyncOptions, TimeSyncResult, check_time_sync};
use crate::txn::{
    ConsistencyModel, TxnHistory, TxnKind, TxnOptions, TxnResult, check_txn, check_txn_history,
};
use crate::unique_ids::{UniqueIdsResult, check_unique_ids};
use crate::validity::Validity;

/// How a workload's histories are checked: which checker, and what it must know of the
/// workload's ops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// Every ok `echo` returned what was sent ([`crate::echo`]).
    Echo,
    /// No id came back from two ok `generate`s ([`crate::unique_ids`]).
    UniqueIds,
    /// set-full over the values the ops add ([`crate::set_full`]), and their delivery order
    /// when it is asked for and the reads list values in delivery order
    /// ([`SetOps::delivery_order`]).
    SetFull(SetOps),
    /// Every final read of a counter is a total the adds could have made
    /// ([`crate::counter`]); `name` heads the result's text.
    Counter { name: &'static str },
    /// One log per key, nothing lost, offsets in order ([`crate::kafka`]).
    Kafka,
    /// Linearizability of a key-value store ([`crate::lin`], model kv): keys start absent and
    /// a `null` read means absent, as the harness records lin-kv reads.
    LinearizableKv,
    /// Last-writer-wins registers that keep causality: no acknowledged write lost to a write
    /// it causally follows, and final reads that agree ([`crate::lww`]).
    LwwRegister,
    /// Isolation of transactions over lists or registers ([`crate::txn`]), against the
    /// models of [`RunCheckOptions::consistency_models`].
    Txn(TxnKind),
    /// A failure detector's `suspect` reads against the kills, pauses and partitions of the
    /// run: detection times, missed detections, false suspicions
    /// ([`crate::failure_detector`]).
    FailureDetector,
    /// Every node that says its clock is synchronised reads the true time, within
    /// [`RunCheckOptions::time_sync`]'s target ([`crate::time_sync`]).
    TimeSync,
}

impl Check {
    /// True when the failures of this check are told as a story (headline and sentences):
    /// set-full's from the history and journal ([`crate::story::broadcast_story`]), the
    /// others' from their result alone ([`WorkloadResult::story`]).
    pub fn is_told(&self) -> bool {
        matches!(
            self,
            Check::SetFull(_)
                | Check::Counter { .. }
                | Check::Kafka
                | Check::LwwRegister
                | Check::Txn(_)
                | Check::FailureDetector
                | Check::TimeSync
        )
    }
}

/// How to check a run.
#[derive(Debug, Clone, Default)]
pub struct RunCheckOptions {
    /// Check the delivery order of broadcasts too (only where the reads list values in
    /// delivery order; ignored otherwise).
    pub ordering: Option<OrderingMode>,
    /// lin-kv: past this the verdict is unknown (no limit when `None`).
    pub time_limit: Option<Duration>,
    /// lin-kv: bytes of search memo past which the verdict is unknown.
    pub memory_limit: Option<u64>,
    /// Network statistics the runner counted; the invocation count (and, for broadcast, the
    /// broadcast count) is set from the history.
    pub net: Option<NetStats>,
    /// txn workloads: the models the history must meet (strict-serializable when empty).
    pub consistency_models: Vec<ConsistencyModel>,
    /// failure-detector: how long after a kill every observer must suspect the killed node
    /// ([`crate::failure_detector::DETECTION_BOUND`] when `None`).
    pub detection_bound: Option<Duration>,
    /// time-sync: the target skew and the convergence allowance.
    pub time_sync: TimeSyncOptions,
}

/// The workload checker's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum WorkloadResult {
    Echo(EchoResult),
    UniqueIds(UniqueIdsResult),
    SetFull(Box<SetFullResult>),
    Counter(CounterResult),
    Kafka(Box<KafkaResult>),
    Linearizable(Box<LinResult>),
    Lww(Box<LwwResult>),
    Txn(Box<TxnResult>),
    FailureDetector(Box<DetectorResult>),
    TimeSync(Box<TimeSyncResult>),
    /// The history could not be checked (malformed, or a workload no one knows).
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
            WorkloadResult::SetFull(r) => r.valid,
            WorkloadResult::Counter(r) => r.valid,
            WorkloadResult::Kafka(r) => r.valid,
            WorkloadResult::Linearizable(r) => r.valid,
            WorkloadResult::Lww(r) => r.valid,
            WorkloadResult::Txn(r) => r.valid,
            WorkloadResult::FailureDetector(r) => r.valid,
            WorkloadResult::TimeSync(r) => r.valid,
            WorkloadResult::Unchecked { valid, .. } => *valid,
        }
    }

    /// The story a result tells from itself alone (a counter's, kafka's, lww-register's, a txn
    /// check's, a failure detector's); `None` for the
    /// rest (set-full's story needs the history and journal too).
    pub fn story(&self) -> Option<crate::story::Story> {
        match self {
            WorkloadResult::Counter(r) => Some(r.story()),
            WorkloadResult::Kafka(r) => Some(r.story()),
            WorkloadResult::Lww(r) => Some(r.story()),
            WorkloadResult::Txn(r) => Some(r.story()),
            WorkloadResult::FailureDetector(r) => Some(r.story()),
            WorkloadResult::TimeSync(r) => Some(r.story()),
            _ => None,
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
    /// A run with Byzantine nodes: the correct nodes held to Byzantine reliable broadcast
    /// ([`crate::byzantine`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub byzantine: Option<ByzantineResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stats: Option<OpStats>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub net: Option<NetStats>,
    pub valid: Validity,
}

/// A result saying why the history could not be checked: its verdict is unknown.
fn unchecked(error: impl fmt::Display) -> WorkloadResult {
    WorkloadResult::Unchecked {
        valid: Validity::Unknown,
        error: error.to_string(),
    }
}

/// Run `check` on a history, with the op statistics and, when `opts` has them, the network
/// statistics. Never fails: a history that cannot be checked gives an unknown verdict with the
/// reason.
pub fn run_checks(check: &Check, history: &[Event], opts: &RunCheckOptions) -> RunResults {
    let mut ordering = None;
    // A broadcast run with Byzantine nodes: set-full and the ordering judge the correct nodes
    // only, and the Byzantine check the versions.
    let byzantine_run = match check {
        Check::SetFull(ops) if ops.delivery_order => ByzantineRun::of(history),
        _ => None,
    };
    let judged = byzantine_run
        .as_ref()
        .map(|run| judged_events(history, run));
    let byzantine = byzantine_run.as_ref().map(|run| {
        check_byzantine(history, run).unwrap_or_else(|e| ByzantineResult::unchecked(run, e))
    });
    let result = match check {
        Check::Echo => check_echo(history).map_or_else(unchecked, WorkloadResult::Echo),
        Check::UniqueIds => {
            check_unique_ids(history).map_or_else(unchecked, WorkloadResult::UniqueIds)
        }
        Check::Counter { name } => {
            check_counter_as(history, name).map_or_else(unchecked, WorkloadResult::Counter)
        }
        Check::Kafka => {
            check_kafka(history).map_or_else(unchecked, |r| WorkloadResult::Kafka(Box::new(r)))
        }
        Check::SetFull(ops) => {
            match BroadcastHistory::of(judged.as_deref().unwrap_or(history), *ops) {
                Ok(h) => {
                    if ops.delivery_order {
                        ordering = opts.ordering.map(|mode| check_ordering(&h, mode));
                    }
                    WorkloadResult::SetFull(Box::new(set_full(&h, false)))
                }
                Err(e) => unchecked(e),
            }
        }
        Check::LinearizableKv => {
            let mut lin = LinOptions::new(ModelKind::Kv);
            lin.nil_read = NilRead::Absent;
            lin.time_limit = opts.time_limit;
            lin.memory_limit = opts.memory_limit;
            check_linearizable(history, &lin)
                .map_or_else(unchecked, |r| WorkloadResult::Linearizable(Box::new(r)))
        }
        Check::LwwRegister => {
            check_lww(history).map_or_else(unchecked, |r| WorkloadResult::Lww(Box::new(r)))
        }
        Check::Txn(kind) => check_txn(history, &txn_options(*kind, opts))
            .map_or_else(unchecked, |r| WorkloadResult::Txn(Box::new(r))),
        Check::FailureDetector => check_failure_detector(history, opts.detection_bound)
            .map_or_else(unchecked, |r| WorkloadResult::FailureDetector(Box::new(r))),
        Check::TimeSync => check_time_sync(history, &opts.time_sync)
            .map_or_else(unchecked, |r| WorkloadResult::TimeSync(Box::new(r))),
    };
    let per_broadcast = matches!(check, Check::SetFull(ops) if ops.delivery_order);
    let mut results = gather(result, ordering, per_broadcast, history, opts);
    if let Some(b) = byzantine {
        results.valid = results.valid.merge(b.valid);
        results.byzantine = Some(b);
    }
    results
}

/// The results of a run whose history no checker can take (`why`: a workload no one knows),
/// with its statistics: the verdict is unknown.
pub fn run_unchecked(
    why: impl fmt::Display,
    history: &[Event],
    opts: &RunCheckOptions,
) -> RunResults {
    gather(unchecked(why), None, false, history, opts)
}

/// The isolation checker's options for histories of `kind`: the models of `opts`, or
/// strict-serializable.
fn txn_options(kind: TxnKind, opts: &RunCheckOptions) -> TxnOptions {
    let mut txn = TxnOptions::new(kind);
    if !opts.consistency_models.is_empty() {
        txn.models = opts.consistency_models.clone();
    }
    txn
}

/// The workload result of a transactional history already read into a [`TxnHistory`] (as
/// [`Check::Txn`] gives it from the events), to pass to [`run_with_result`].
pub fn txn_workload_result(history: &TxnHistory, opts: &RunCheckOptions) -> WorkloadResult {
    check_txn_history(history, &txn_options(history.kind, opts))
        .map_or_else(unchecked, |r| WorkloadResult::Txn(Box::new(r)))
}

/// The results of a run whose workload result was computed apart (a transactional history
/// checked as it was read, [`crate::txn::TxnHistoryBuilder`]), with the statistics of
/// `history`, whose events need only their process, type and `f`.
pub fn run_with_result(
    result: WorkloadResult,
    history: &[Event],
    opts: &RunCheckOptions,
) -> RunResults {
    gather(result, None, false, history, opts)
}

/// A workload's result and ordering result, with the op and network statistics and the
/// merged verdict.
fn gather(
    result: WorkloadResult,
    ordering: Option<OrderingResult>,
    per_broadcast: bool,
    history: &[Event],
    opts: &RunCheckOptions,
) -> RunResults {
    let stats = op_stats(history).ok();
    let net = opts.net.clone().map(|mut n| {
        n.count_invocations(history);
        if per_broadcast {
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
        byzantine: None,
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
            WorkloadResult::SetFull(r) => r.fmt(f),
            WorkloadResult::Counter(r) => r.fmt(f),
            WorkloadResult::Kafka(r) => r.fmt(f),
            WorkloadResult::Linearizable(r) => write!(f, "linearizability: {r}"),
            WorkloadResult::Lww(r) => r.fmt(f),
            WorkloadResult::Txn(r) => r.fmt(f),
            WorkloadResult::FailureDetector(r) => r.fmt(f),
            WorkloadResult::TimeSync(r) => r.fmt(f),
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
        if let Some(b) = &self.byzantine {
            write!(f, "{b}")?;
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
