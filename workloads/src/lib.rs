//! The workloads: what the clients of a test ask the nodes, how each reply is judged, and how
//! the history is checked.
//!
//! Each workload is one module with the op mix and value patterns of Maelstrom's workload of
//! the same name, and everything else about it: its requests and replies, its generator, and
//! its [`Spec`] (name, help, which [`Check`] its histories get, how `harness check` recognises
//! them). [`kind`] lists the modules in one table, from which [`WorkloadKind`] and every list
//! of workload names come. [`topology`] builds the `topology` message. A workload is a
//! deterministic generator driven by the run's seeded rng, plus pure functions: op -> request
//! body, reply -> [`Completion`] (with the ok / fail / info rules of [`op`]). Nothing here
//! does I/O or reads a clock; the runner owns clients, timeouts and the history.
//!
//! Adding a workload: a module here that implements [`Workload`] and [`Spec`], and its line
//! in the table of [`kind`] (README.md, "Adding a workload").
//!
//! The course concept behind each module is named in its documentation; the rules for
//! uncertain outcomes are the client side of 5.1 "Manipulating remote state" (idempotence).

pub mod broadcast;
pub mod check;
pub mod echo;
pub mod failure_detector;
pub mod g_counter;
pub mod g_set;
pub mod kafka;
pub mod keys;
pub mod kind;
pub mod lin_kv;
pub mod lww_register;
pub mod op;
pub mod pn_counter;
pub mod time_sync;
pub mod topology;
pub mod txn;
pub mod unique_ids;

use checker::{Check, Event};
use proto::{Body, Payload};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

pub use check::check_run;
pub use keys::KeyPoolOptions;
pub use kind::{UnknownWorkload, WORKLOADS, WorkloadKind};
pub use lin_kv::LinKvOptions;
pub use op::{
    CLIENT_TIMEOUT, Completion, ErrorInfo, MALFORMED_REPLY, MALFORMED_REPLY_CODE, Op, OpError,
    Outcome,
};
pub use time_sync::TimeSyncOptions;
pub use topology::TopologyKind;
pub use txn::TxnOptions;

/// A workload: the ops its clients invoke, and how replies become completions.
///
/// The runner calls [`Workload::next_op`] whenever a client is free to invoke (with the
/// run's seeded rng, so one seed is one sequence of ops), lets the client fill in what it
/// keeps ([`Workload::prepare`]), sends [`Workload::request`] to the client's node, and records
/// [`Workload::complete`] of the reply, or [`Workload::timeout`] after [`CLIENT_TIMEOUT`], then
/// tells the client ([`Workload::observe`]). None of these panics on any reply.
pub trait Workload: Send {
    /// Which workload this is.
    fn kind(&self) -> WorkloadKind;

    /// The next op to invoke, drawn from `rng`.
    fn next_op(&mut self, rng: &mut ChaCha8Rng) -> Op;

    /// The request body for `op` (no ids; the client sets `msg_id`). An error only for an op
    /// that did not come from this workload.
    fn request(&self, op: &Op) -> Result<Payload, OpError>;

    /// The completion of `op` given its reply: `ok` with the result, `fail` or `info`.
    fn complete(&self, op: &Op, reply: &Body) -> Completion;

    /// The completion of `op` when no reply came within [`CLIENT_TIMEOUT`].
    fn timeout(&self, op: &Op) -> Completion;

    /// The op each node gets once after the recovery wait (`final: true`), if any.
    fn final_op(&self) -> Option<Op>;

    /// Every op each node gets after the recovery wait, each by a final client of its own:
    /// [`Workload::final_op`] alone unless the workload reads more than one thing at the end
    /// (lww-register reads every key it used). Empty exactly when `final_op` is None.
    fn final_ops(&self) -> Vec<Op> {
        self.final_op().into_iter().collect()
    }

    /// True when every node gets a `topology` message after `init`.
    fn sends_topology(&self) -> bool;

    /// The op that client `process` invokes for `op` (drawn by [`Workload::next_op`], or a
    /// final op): a workload whose clients keep state between ops fills it in here (kafka's
    /// consumer asks from its poll positions). The op as it is by default.
    fn prepare(&mut self, _process: u64, op: Op) -> Op {
        op
    }

    /// What client `process` learns from the end of its `op`: a workload whose clients keep
    /// state updates it here, and may return an op the same client invokes next, at once
    /// (kafka's `commit_offsets` after a poll). Nothing by default.
    fn observe(&mut self, _process: u64, _op: &Op, _completion: &Completion) -> Option<Op> {
        None
    }

    /// The offset (ms) by which the harness bends each of `nodes` nodes' wall clocks as the
    /// workload starts (recorded as clock steps), drawn from `rng`; empty (none bent) by
    /// default. time-sync's nodes must correct them.
    fn initial_clock_offsets(&self, _nodes: usize, _rng: &mut ChaCha8Rng) -> Vec<i64> {
        Vec::new()
    }
}

/// What a workload is, apart from a running generator: its name, its help, how its histories
/// are checked, how a generator starts. Each workload's module implements it for its
/// generator, and the table in [`kind`] lists those types.
pub trait Spec: Workload + Sized + 'static {
    /// The name `-w` takes, and the store's folder (`"g-set"`).
    const NAME: &'static str;
    /// One line saying what it is, for `--help`.
    const ABOUT: &'static str;
    /// What its checks decide, in words (`harness check` prints it as `semantics:`).
    const SEMANTICS: &'static str;
    /// How its histories are checked.
    const CHECK: Check;

    /// A fresh generator.
    fn start(options: &WorkloadOptions) -> Self;

    /// True when a history's client ops are this workload's, so that `harness check` can run
    /// its checks without `--workload`. None by default.
    fn shows(_events: &[Event]) -> bool {
        false
    }
}

/// Settings of the workloads; defaults are Maelstrom's where it has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct WorkloadOptions {
    /// How lin-kv spreads its ops over keys.
    pub lin_kv: LinKvOptions,
    /// How kafka and the transactional workloads spread their writes over keys
    /// (`--key-count`, `--max-writes-per-key`).
    pub keys: KeyPoolOptions,
    /// How long transactions are (`--min-txn-length`, `--max-txn-length`).
    pub txn: TxnOptions,
    /// time-sync: the target skew, the convergence allowance, the nodes beyond panic.
    #[serde(default)]
    pub time_sync: TimeSyncOptions,
}

/// A fresh generator for the workload `kind`.
pub fn workload(kind: WorkloadKind, options: &WorkloadOptions) -> Box<dyn Workload> {
    kind.start(options)
}

/// The client ops of a history (its non-nemesis events).
fn client_events(events: &[Event]) -> impl Iterator<Item = &Event> {
    events.iter().filter(|e| !e.process.is_nemesis())
}
