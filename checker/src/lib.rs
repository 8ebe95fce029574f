//! Pure analysis of histories: what a run did, and whether that was allowed.
//!
//! The checker knows nothing of processes or the network: it reads a history (the
//! `history.jsonl` of a run, see [`history`]) and returns typed results that serialize to
//! JSON. Every checker's result carries a [`Validity`].

pub mod edn;
pub mod formats;
pub mod history;
pub mod journal;
pub mod lin;
pub mod op;
pub mod validity;

pub use history::{
    ErrorInfo, Event, EventType, HistoryError, Process, parse_history, read_history_file,
};
pub use journal::{NetEvent, NetEventKind, is_client, read_journal_file};
pub use validity::Validity;
