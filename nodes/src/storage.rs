//! Stable storage, as the course's fail-recovery model defines it: a crash loses a node's
//! memory, not what it wrote to disk.
//!
//! A node's stable storage is a set of named *logs*, each a sequence of records (one JSON value
//! each). A node changes it only through effects ([`Write`], asked for with
//! [`crate::Ctx::persist`] and [`crate::Ctx::persist_all`]), and the driver makes each write
//! durable before it carries out any later effect of the same event: so a message that says "I
//! have it" (an acknowledgement, a `broadcast_ok`, a read that shows a value) never leaves a
//! node before what it speaks of is on disk. When the node program starts again, the driver
//! hands it what the logs held ([`Stable`], taken with [`crate::Ctx::take_recovered`] in
//! [`crate::Node::on_init`]).
//!
//! This module is the pure model (what the logs hold, and what a write does to them), shared by
//! every driver: the stdin/stdout driver keeps the logs in files of a data directory
//! ([`crate::disk`]), the simulator in memory, where a crash loses exactly what was not yet
//! persisted.
//!
//! A node that never persists anything behaves as a node without stable storage, and so does
//! every node when the harness gives it no data directory.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;

/// The environment variable that names a node's data directory (the harness sets it; a node
/// program may use it directly, or through [`crate::driver`]).
pub const DATA_DIR_ENV: &str = "HARNESS_DATA_DIR";

/// One change to stable storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    /// Add `record` (one line of JSON) at the end of `log`.
    Append { log: String, record: String },
    /// Replace everything in `log` with `records` (to compact a log into a snapshot).
    Replace { log: String, records: Vec<String> },
}

impl Write {
    /// The log this write changes.
    pub fn log(&self) -> &str {
        match self {
            Write::Append { log, .. } | Write::Replace { log, .. } => log,
        }
    }
}

/// True for a name a log may have: 1 to 64 characters among `a-z`, `0-9`, `-` and `_`, so
/// that it is also a safe file name.
pub fn valid_log_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// The contents of stable storage: every log's records, in the order they were written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stable {
    logs: BTreeMap<String, Vec<String>>,
}

impl Stable {
    /// Empty storage: a node's first start, a node whose disk was wiped, or one run without a
    /// data directory.
    pub fn new() -> Self {
        Self::default()
    }

    /// True when no log holds a record.
    pub fn is_empty(&self) -> bool {
        self.logs.values().all(Vec::is_empty)
    }

    /// Carry out `write`.
    pub fn apply(&mut self, write: &Write) {
        match write {
            Write::Append { log, record } => {
                self.logs
                    .entry(log.clone())
                    .or_default()
                    .push(record.clone());
            }
            Write::Replace { log, records } => {
                self.logs.insert(log.clone(), records.clone());
            }
        }
    }

    /// Set a log's records (a driver loading its files).
    pub fn set(&mut self, log: &str, records: Vec<String>) {
        self.logs.insert(log.to_owned(), records);
    }

    /// The records of `log` as written (empty if it was never written).
    pub fn records(&self, log: &str) -> &[String] {
        self.logs.get(log).map_or(&[], Vec::as_slice)
    }

    /// The names of the logs that hold something.
    pub fn logs(&self) -> impl Iterator<Item = &str> {
        self.logs
            .iter()
            .filter(|(_, r)| !r.is_empty())
            .map(|(name, _)| name.as_str())
    }

    /// The records of `log`, decoded. A record that does not decode as `T` is skipped and
    /// logged: it was written by another version of the node program, and a node that
    /// recovers must not stop because of it.
    pub fn decode<T: DeserializeOwned>(&self, log: &str) -> Vec<T> {
        let mut out = Vec::with_capacity(self.records(log).len());
        for (i, record) in self.records(log).iter().enumerate() {
            match serde_json::from_str(record) {
                Ok(value) => out.push(value),
                Err(err) => {
                    tracing::warn!(
                        "stable storage: record {i} of log {log:?} is unreadable ({err}); skipped"
                    )
                }
            }
        }
        out
    }

    /// Total bytes of all records (for logs and tests).
    pub fn bytes(&self) -> usize {
        self.logs.values().flatten().map(String::len).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_accumulate_and_a_replace_compacts() {
        let mut stable = Stable::new();
        assert!(stable.is_empty());
        let append = |r: &str| Write::Append {
            log: "values".into(),
            record: r.into(),
        };
        stable.apply(&append("1"));
        stable.apply(&append("2"));
        assert_eq!(stable.records("values"), ["1", "2"]);
        assert_eq!(stable.decode::<u32>("values"), vec![1, 2]);
        stable.apply(&Write::Replace {
            log: "values".into(),
            records: vec!["[1,2]".into()],
        });
        assert_eq!(stable.decode::<Vec<u32>>("values"), vec![vec![1, 2]]);
        assert!(stable.records("other").is_empty());
        assert_eq!(stable.logs().collect::<Vec<_>>(), ["values"]);
    }

    #[test]
    fn unreadable_records_are_skipped_not_fatal() {
        let mut stable = Stable::new();
        stable.set("values", vec!["1".into(), "{oops".into(), "3".into()]);
        assert_eq!(stable.decode::<u32>("values"), vec![1, 3]);
    }

    #[test]
    fn log_names_are_safe_file_names() {
        assert!(valid_log_name("delivered"));
        assert!(valid_log_name("origin-log_2"));
        for bad in ["", "../x", "a/b", "Values", "x.jsonl", &"a".repeat(65)] {
            assert!(!valid_log_name(bad), "{bad:?}");
        }
    }
}
