//! `harness check` of a long transactional history in JSON lines, without holding it.
//!
//! A history of a million transactions is about 200 MB of JSON lines; held as events (JSON
//! values) it takes some 1.6 GB before the checker starts. Here each line is read, handed to
//! the isolation checker's [`TxnHistoryBuilder`] (which keeps a few integers per micro-op),
//! and kept without its value, which is all the op statistics need. The checker then runs on
//! the compact history, and the results are those of the whole-history path, byte for byte.
//!
//! This is a fast path only: it is taken for JSON lines whose first lines are transactions
//! (or with `--workload txn-*`), and anything it does not expect (an event of another kind,
//! a micro-op of the other data type, indices on some lines only) makes it step aside, and
//! the file is read the ordinary way, which says what is wrong.

use std::io::BufRead;
use std::path::Path;

use checker::history::{CutLine, Event, HistoryError, for_each_jsonl};
use checker::txn::{TxnHistory, TxnHistoryBuilder, TxnKind};
use checker::{Value, formats::HistoryFile};
use workloads::WorkloadKind;

/// How many lines the workload is recognised from when `--workload` does not say.
const PEEK_LINES: usize = 1000;

/// A transactional history read as it streamed by: its events without their values, and the
/// compact history the checker takes.
pub struct Streamed {
    pub workload: WorkloadKind,
    pub file: HistoryFile,
    pub txns: TxnHistory,
}

/// The transactional workload of `given`, if it is one.
fn txn_kind(w: WorkloadKind) -> Option<TxnKind> {
    match w {
        WorkloadKind::TxnListAppend => Some(TxnKind::ListAppend),
        WorkloadKind::TxnRwRegister => Some(TxnKind::RwRegister),
        _ => None,
    }
}

/// Read the JSON-lines history at `path` as a transactional one, when `given` (the
/// `--workload`) or its first lines say it is; `None` when it is not one, or when anything
/// in it is unexpected (the caller reads it the ordinary way).
pub fn read(path: &Path, given: Option<WorkloadKind>) -> Option<Streamed> {
    let workload = match given {
        Some(w) => {
            txn_kind(w)?;
            w
        }
        None => peek(path)?,
    };
    let kind = txn_kind(workload)?;
    let name = path.display().to_string();
    let file = std::fs::File::open(path).ok()?;
    let mut builder = TxnHistoryBuilder::new(kind);
    let mut events: Vec<Event> = Vec::new();
    let mut indexed: Option<bool> = None;
    let cut: Option<CutLine> = for_each_jsonl(
        &name,
        std::io::BufReader::with_capacity(1 << 20, file),
        |mut event: Event| {
            let has_index = event.index != u64::MAX;
            if *indexed.get_or_insert(has_index) != has_index {
                return Err(step_aside());
            }
            if !has_index {
                event.index = events.len() as u64;
            }
            if !event.process.is_nemesis() {
                if event.f != "txn" {
                    return Err(step_aside());
                }
                builder.push(&event)?;
                event.value = Value::Null;
            }
            events.push(event);
            Ok(())
        },
    )
    .ok()?;
    Some(Streamed {
        workload,
        file: HistoryFile {
            format: checker::formats::Format::Jsonl,
            events,
            cut,
        },
        txns: builder.finish(),
    })
}

/// Not an error of the history: the reason to leave it to the ordinary path.
fn step_aside() -> HistoryError {
    HistoryError::Malformed {
        index: 0,
        reason: "not for the streaming path".into(),
    }
}

/// The transactional workload the first lines of `path` show, if any.
fn peek(path: &Path) -> Option<WorkloadKind> {
    let file = std::fs::File::open(path).ok()?;
    let mut events = Vec::new();
    for line in std::io::BufReader::new(file).lines().take(PEEK_LINES) {
        let line = line.ok()?;
        if line.trim().is_empty() {
            continue;
        }
        events.push(serde_json::from_str::<Event>(&line).ok()?);
    }
    WorkloadKind::detect(&events).filter(|w| txn_kind(*w).is_some())
}
