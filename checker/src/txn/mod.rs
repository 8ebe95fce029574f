//! Transactions: the isolation checker of `txn-list-append` and `txn-rw-register`, after
//! Elle (Kingsbury and Alvaro, "Elle: Inferring Isolation Anomalies from Experimental
//! Observations", VLDB 2020) and Adya's definitions of the anomalies G0, G1a, G1b, G1c,
//! G-single, G2-item and their process and realtime variants.
//!
//! History values: `f: "txn"`, value the list of micro-ops `[f, key, value]` (`["r", k, null]`
//! then, on ok, `["r", k, observed]`; `["append", k, v]`; `["w", k, v]`).

pub mod models;

use std::fmt;

use serde::Serialize;

use crate::history::{Event, HistoryError};
use crate::validity::Validity;

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

/// How to check a transactional history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxnOptions {
    pub kind: TxnKind,
    /// The models the history must meet (strict-serializable when empty).
    pub models: Vec<ConsistencyModel>,
}

impl TxnOptions {
    /// Check `kind` against Maelstrom's default model, strict-serializable.
    pub fn new(kind: TxnKind) -> Self {
        TxnOptions {
            kind,
            models: vec![DEFAULT_MODEL],
        }
    }
}

/// What the isolation checker found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TxnResult {
    pub valid: Validity,
}

impl fmt::Display for TxnResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "isolation: {}", self.valid)
    }
}

/// Check a transactional history against `opts.models`.
pub fn check_txn(history: &[Event], opts: &TxnOptions) -> Result<TxnResult, HistoryError> {
    let _ = (history, opts);
    Err(HistoryError::Malformed {
        index: 0,
        reason: "the isolation checker is not built yet".into(),
    })
}
