//! Pure analysis of histories: what a run did, and whether that was allowed.
//!
//! The checker knows nothing of processes or the network: it reads a history (the
//! `history.jsonl` of a run, see [`history`]) and returns typed results that serialize to
//! JSON. Every checker's result carries a [`Validity`].

pub mod broadcast;
pub mod byzantine;
pub mod carriers;
pub mod clocks;
pub mod counter;
pub mod echo;
pub mod edn;
pub mod failure_detector;
pub mod faults;
pub mod formats;
pub mod history;
pub mod journal;
pub mod kafka;
pub mod lin;
pub mod lww;
pub mod names;
pub mod op;
pub mod ordering;
pub mod run;
pub mod set_full;
pub mod slo;
pub mod stats;
pub mod story;
pub mod synth;
pub mod time_sync;
pub mod txn;
pub mod unique_ids;
pub mod validity;

pub use history::{
    CutLine, ErrorInfo, Event, EventType, HistoryError, JsonLines, Process, parse_history,
    read_history_file,
};
pub use journal::{JOURNAL_MAX_BODY_DEPTH, NetEvent, NetEventKind, is_client, read_journal_file};
pub use run::{
    Check, RunCheckOptions, RunResults, WorkloadResult, run_checks, run_unchecked, run_with_result,
    txn_workload_result,
};
/// The JSON value type of histories and results.
pub use serde_json::Value;
pub use validity::Validity;
