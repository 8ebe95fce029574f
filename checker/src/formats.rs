//! Histories recorded elsewhere, read into this project's [`Event`]s.
//!
//! - `jsonl`: this project's `history.jsonl` (see [`crate::history`]).
//! - `edn`: a Jepsen/Knossos history: one EDN vector or list of op maps, or a stream of op
//!   maps. Each `{:process P, :type T, :f F, :value V}` becomes an event with `index` and
//!   `time` both its position in the file (line order is the real-time order; a recorded
//!   `:time` is kept only as information and ignored, since it is not always monotone).
//!   `:process :nemesis` becomes the nemesis; an op without `:process` is client 0's, and one
//!   without `:f` whose value is a list of micro-ops is a `txn` (Elle's smallest fixtures
//!   leave both out). Keywords become strings.
//! - `porcupine-kv`: Porcupine's key-value logs, one EDN map per line with a `:key`:
//!   `{:process 0, :type :invoke, :f :append, :key "0", :value "x 0 0 y"}`. The key moves into
//!   the value as in lin-kv histories: `value: [key, v]`; `get` is a read of the whole string,
//!   `put` replaces it, `append` concatenates.

use std::path::Path;

use serde_json::Value;

use crate::edn;
use crate::history::{
    CutLine, ErrorInfo, Event, EventType, HistoryError, NemesisTag, Process, number_events,
    parse_history, parse_jsonl,
};

crate::named_enum! {
    /// The notation a history file is written in.
    pub enum Format: "format" {
        /// This project's history.jsonl.
        Jsonl = "jsonl",
        /// Jepsen/Knossos EDN.
        Edn = "edn",
        /// Porcupine's key-value logs (get / put / append, initial value "").
        PorcupineKv = "porcupine-kv",
    }
}

impl Format {
    /// The initial value the format itself implies: `""` for Porcupine's key-value logs
    /// (its model starts every key as the empty string), none otherwise.
    pub fn implied_initial(self) -> Option<Value> {
        match self {
            Format::PorcupineKv => Some(Value::String(String::new())),
            Format::Jsonl | Format::Edn => None,
        }
    }

    /// Guess from the text: JSON lines start with `{"`; EDN maps with a `:key` entry are
    /// Porcupine's key-value logs; other EDN is Jepsen's.
    pub fn detect(text: &str) -> Format {
        Format::detect_content(text).unwrap_or(Format::Jsonl)
    }

    /// The format of the file at `path` holding `text`: from the content, or, when the content
    /// says nothing (an empty file, only comments), from the extension (`.edn` is EDN,
    /// anything else this harness's JSON lines).
    pub fn detect_file(path: &Path, text: &str) -> Format {
        Format::detect_content(text).unwrap_or_else(|| {
            match path.extension().and_then(|e| e.to_str()) {
                Some("edn") => Format::Edn,
                _ => Format::Jsonl,
            }
        })
    }

    fn detect_content(text: &str) -> Option<Format> {
        let mut rest = text;
        loop {
            rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == ',');
            if let Some(comment) = rest.strip_prefix(';') {
                rest = comment.split_once('\n').map_or("", |(_, r)| r);
            } else {
                break;
            }
        }
        if rest.is_empty() {
            return None;
        }
        if rest.starts_with('{') && rest[1..].trim_start().starts_with('"') {
            return Some(Format::Jsonl);
        }
        let head: String = rest.lines().take(5).collect();
        if head.contains(":key") {
            Some(Format::PorcupineKv)
        } else {
            Some(Format::Edn)
        }
    }
}

/// A history file as read.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryFile {
    /// The format it was read in.
    pub format: Format,
    pub events: Vec<Event>,
    /// A `history.jsonl` whose last line was cut off mid-line (its writer was killed while
    /// writing it) is read up to its last whole line, and the cut line is said here.
    pub cut: Option<CutLine>,
}

/// Read a history file in `format`, or in the detected format when `None`.
pub fn read_history(path: &Path, format: Option<Format>) -> Result<HistoryFile, HistoryError> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|error| HistoryError::Io {
        path: name.clone(),
        error,
    })?;
    // Only JSON lines forgive a cut last line, whose bytes may end inside a UTF-8 sequence.
    let text = String::from_utf8_lossy(&bytes);
    let format = format.unwrap_or_else(|| Format::detect_file(path, &text));
    if format == Format::Jsonl {
        let lines = parse_jsonl(&name, &bytes[..])?;
        return Ok(HistoryFile {
            format,
            events: number_events(&name, lines.items)?,
            cut: lines.cut,
        });
    }
    let text = String::from_utf8(bytes).map_err(|e| HistoryError::Io {
        path: name.clone(),
        error: std::io::Error::new(std::io::ErrorKind::InvalidData, e.utf8_error()),
    })?;
    let events = parse_text(&name, &text, format)?;
    Ok(HistoryFile {
        format,
        events,
        cut: None,
    })
}

/// Parse history text in a given format; `name` names the source in errors.
pub fn parse_text(name: &str, text: &str, format: Format) -> Result<Vec<Event>, HistoryError> {
    match format {
        Format::Jsonl => parse_history(name, text.as_bytes()),
        Format::Edn => parse_edn(name, text, false),
        Format::PorcupineKv => parse_edn(name, text, true),
    }
}

fn parse_edn(name: &str, text: &str, kv: bool) -> Result<Vec<Event>, HistoryError> {
    let items = edn::read_items(text).map_err(|e| HistoryError::Parse {
        path: name.to_owned(),
        line: e.line,
        reason: e.reason,
    })?;
    let mut events = Vec::with_capacity(items.len());
    for (line, item) in items {
        let position = events.len() as u64;
        let event = edn_op(item, position, kv).map_err(|reason| HistoryError::Parse {
            path: name.to_owned(),
            line,
            reason,
        })?;
        events.push(event);
    }
    Ok(events)
}

/// True for a value that is a list of `[f, key, value]` micro-ops of Elle's transactions.
fn is_txn(value: Option<&Value>) -> bool {
    value.and_then(Value::as_array).is_some_and(|mops| {
        !mops.is_empty()
            && mops.iter().all(|m| match m.as_array().map(Vec::as_slice) {
                Some([Value::String(f), _, _]) => matches!(f.as_str(), "r" | "w" | "append"),
                _ => false,
            })
    })
}

fn edn_op(item: Value, position: u64, kv: bool) -> Result<Event, String> {
    let Value::Object(mut map) = item else {
        return Err(format!("expected an op map, found {item}"));
    };
    let process = match map.remove("process") {
        Some(Value::String(s)) if s == "nemesis" => Process::Nemesis(NemesisTag::Nemesis),
        Some(other) => match other.as_u64() {
            Some(p) => Process::Client(p),
            None => {
                return Err(format!(
                    ":process must be a non-negative integer or :nemesis, not {other}"
                ));
            }
        },
        // Elle's smallest fixtures leave the process out: one client ran them, in order.
        None => Process::Client(0),
    };
    let kind = match map.get("type").and_then(Value::as_str) {
        Some("invoke") => EventType::Invoke,
        Some("ok") => EventType::Ok,
        Some("fail") => EventType::Fail,
        Some("info") => EventType::Info,
        Some(other) => {
            return Err(format!(
                ":type must be :invoke, :ok, :fail or :info, not :{other}"
            ));
        }
        None => return Err("op has no :type".into()),
    };
    let f = match map.remove("f") {
        Some(Value::String(s)) => s,
        Some(other) => other.to_string(),
        // A transaction needs no name: Elle's fixtures leave `:f :txn` out.
        None if is_txn(map.get("value")) => "txn".to_owned(),
        None => return Err("op has no :f".into()),
    };
    let mut value = map.remove("value").unwrap_or(Value::Null);
    if kv && !process.is_nemesis() {
        let Some(key) = map.remove("key") else {
            return Err("porcupine-kv op has no :key".into());
        };
        value = Value::Array(vec![key, value]);
    }
    let error = match map.remove("error") {
        None | Some(Value::Null) => None,
        Some(e) => Some(ErrorInfo {
            code: 0,
            name: match &e {
                Value::String(s) => s.clone(),
                Value::Array(a) => a
                    .first()
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                    .unwrap_or_default(),
                other => other.to_string(),
            },
            text: e.to_string(),
        }),
    };
    Ok(Event {
        index: position,
        time: position,
        process,
        node: None,
        kind,
        f,
        value,
        error,
        is_final: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn detects_the_three_formats() {
        assert_eq!(Format::detect("\n{\"index\":0}"), Format::Jsonl);
        assert_eq!(
            Format::detect("; c\n[{:process 0 :type :invoke}]"),
            Format::Edn
        );
        assert_eq!(
            Format::detect("{:process 0, :type :invoke, :f :get, :key \"1\", :value nil}"),
            Format::PorcupineKv
        );
        // Nothing in the text to go by: the extension decides.
        assert_eq!(Format::detect(""), Format::Jsonl);
        assert_eq!(
            Format::detect_file(Path::new("h.jsonl"), "\n"),
            Format::Jsonl
        );
        assert_eq!(
            Format::detect_file(Path::new("h.edn"), "; only a comment\n"),
            Format::Edn
        );
        assert_eq!(
            Format::detect_file(Path::new("h.edn"), "{\"index\": 0}"),
            Format::Jsonl
        );
    }

    #[test]
    fn reads_knossos_and_porcupine_ops() {
        let events = parse_text("k.edn", "[{:process 1 :type :invoke :f :cas :value [0 1]}\n{:process :nemesis :type :info :f :start}\n{:process 1 :type :fail :f :cas :value [0 1] :error [:timeout nil]}]", Format::Edn).unwrap();
        assert_eq!(events.len(), 3);
        assert_eq!(events[0].value, json!([0, 1]));
        assert_eq!((events[2].index, events[2].time), (2, 2));
        assert!(events[1].process.is_nemesis());
        assert_eq!(events[2].error.as_ref().unwrap().name, "timeout");
        let events = parse_text(
            "c.txt",
            "{:process 0, :type :ok, :f :get, :key \"3\", :value \"x 1 y\"}",
            Format::PorcupineKv,
        )
        .unwrap();
        assert_eq!(events[0].value, json!(["3", "x 1 y"]));
        assert_eq!(events[0].f, "get");
    }

    #[test]
    fn elle_fixtures_without_process_or_f_are_one_clients_transactions() {
        let events = parse_text(
            "e.edn",
            "{:index 0 :type :invoke :value [[:append 1 2] [:r 3 nil]]}\n\
             {:index 1 :type :ok :value [[:append 1 2] [:r 3 [1]]]}",
            Format::Edn,
        )
        .unwrap();
        assert_eq!(events.len(), 2);
        assert!(
            events
                .iter()
                .all(|e| e.f == "txn" && e.process == Process::Client(0))
        );
        // Without :f, a value that is not a transaction is still an error.
        let err = parse_text("e.edn", "{:type :invoke :value 3}", Format::Edn).unwrap_err();
        assert!(err.to_string().contains("op has no :f"), "{err}");
    }

    #[test]
    fn bad_ops_name_file_and_line() {
        let err = parse_text(
            "k.edn",
            "[{:process 1 :type :invoke :f :read}\n {:process -1 :type :ok :f :read}]",
            Format::Edn,
        )
        .unwrap_err();
        assert!(err.to_string().starts_with("k.edn:2: :process"), "{err}");
        let err =
            parse_text("k.edn", "{:process 1 :type :done :f :read}", Format::Edn).unwrap_err();
        assert!(err.to_string().contains(":type"), "{err}");
        let err = parse_text(
            "c.txt",
            "{:process 1 :type :invoke :f :get}",
            Format::PorcupineKv,
        )
        .unwrap_err();
        assert!(err.to_string().contains(":key"), "{err}");
    }
}
