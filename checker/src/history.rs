//! The history of a run: `history.jsonl`, one operation event per line, in real-time order.
//!
//! ```json
//! {"index":0,"time":1200,"process":0,"node":"n0","type":"invoke","f":"broadcast","value":5}
//! {"index":1,"time":9800,"process":0,"node":"n0","type":"ok","f":"broadcast","value":5}
//! {"index":2,"time":20000,"process":"nemesis","type":"info","f":"start-partition","value":{"n0":["n1"]}}
//! {"index":9,"time":12000000,"process":3,"node":"n1","type":"ok","f":"read","value":[5],"final":true}
//! ```
//!
//! - `index`: position in the file, from 0; `time`: nanoseconds since the run started.
//! - `process`: a client process (an integer; a client whose op ended `info` continues as a new
//!   process, as in Jepsen) or `"nemesis"` for faults.
//! - `node`: the node the client sent the op to (for a broadcast, its origin). Absent for
//!   nemesis events.
//! - `type`: `invoke`, then exactly one of `ok` (it happened, `value` is the result), `fail`
//!   (it certainly did not happen) or `info` (unknown: it may have happened), with the same
//!   `process` and `f`. An invoke with no completion is like `info`.
//! - `error`: on `fail` and `info`, why (`{"code", "name", "text"}`; code 0 for a timeout).
//! - `final`: true on the final reads made after the recovery wait.
//!
//! Values by workload: echo `f: "echo"`, value the string; unique-ids `f: "generate"`, ok value
//! the id; broadcast `f: "broadcast"` value the message, `f: "read"` ok value the list of
//! messages in delivery order; g-counter `f: "add"` value the delta, `f: "read"` ok value the
//! count; lin-kv `f: "read"` value `[key, null]` then `[key, v]`, `f: "write"` `[key, v]`,
//! `f: "cas"` `[key, [from, to]]`.
//!
//! The harness writes the file as the run goes; if it is killed while writing a line, that last
//! line has no newline and is left out when the file is read, and said ([`CutLine`]).
//!
//! Nemesis events are `type: "info"` with `f` one of `start-partition` (value: the grudge,
//! `{node: [nodes it cannot hear from]}`), `stop-partition`, `kill`, `wipe` (a kill that also
//! erases the node's data directory), `restart`, `pause`, `resume` (value: the list of nodes), `start-loss`, `stop-loss`, `start-duplicate`,
//! `stop-duplicate` (value: the probability).

use std::fmt;
use std::io::BufRead;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use thiserror::Error;

/// Who performed an operation.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Process {
    /// A client process.
    Client(u64),
    /// The fault injector; serialized as the string `"nemesis"`.
    Nemesis(NemesisTag),
}

/// The string `"nemesis"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum NemesisTag {
    #[serde(rename = "nemesis")]
    Nemesis,
}

impl Process {
    /// The nemesis process.
    pub const NEMESIS: Process = Process::Nemesis(NemesisTag::Nemesis);

    /// True for the nemesis.
    pub fn is_nemesis(&self) -> bool {
        matches!(self, Process::Nemesis(_))
    }
}

impl fmt::Display for Process {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Process::Client(p) => write!(f, "{p}"),
            Process::Nemesis(_) => f.write_str("nemesis"),
        }
    }
}

/// The kind of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventType {
    Invoke,
    Ok,
    Fail,
    Info,
}

/// Why an op failed or is uncertain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorInfo {
    /// The Maelstrom error code; 0 for a timeout.
    pub code: u32,
    /// Its name (`"timeout"`, `"key-does-not-exist"`, ...).
    #[serde(default)]
    pub name: String,
    /// The node's text, or the harness's.
    #[serde(default)]
    pub text: String,
}

/// One line of `history.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Its position in the history. A history from elsewhere may leave it out: then the
    /// order of its lines is the index ([`parse_history`]).
    #[serde(default = "no_index")]
    pub index: u64,
    /// Nanoseconds since the run started (0 when the history has no times).
    #[serde(default)]
    pub time: u64,
    pub process: Process,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    #[serde(rename = "type")]
    pub kind: EventType,
    pub f: String,
    #[serde(default)]
    pub value: Value,
    /// Any JSON value is read: an object `{code, name, text}` as this harness writes it, a
    /// number (the code), or anything else (a string such as `"timed-out"`: its name).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "any_error"
    )]
    pub error: Option<ErrorInfo>,
    #[serde(default, rename = "final", skip_serializing_if = "std::ops::Not::not")]
    pub is_final: bool,
}

/// A history that could not be read.
#[derive(Debug, Error)]
pub enum HistoryError {
    /// The file could not be read. (The I/O error is part of the message, not a separate
    /// source, so a report that prints the chain names it once.)
    #[error("{path}: {error}")]
    Io { path: String, error: std::io::Error },
    #[error("{path}:{line}: {reason}")]
    Parse {
        path: String,
        line: usize,
        reason: String,
    },
    /// Every line parsed, but the events do not form a history: a completion with no
    /// invocation, two invocations of one process at once, a value of the wrong shape.
    #[error("event {index}: {reason}")]
    Malformed { index: u64, reason: String },
}

/// The last line of a JSON-lines file when the writer stopped in the middle of it: it has no
/// newline and does not parse. Everything before it was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CutLine {
    /// Its line number, from 1.
    pub line: usize,
    /// How many bytes of it there are.
    pub bytes: usize,
}

impl fmt::Display for CutLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the last line ({}) is cut off mid-line ({} bytes, no newline): read up to line {}",
            self.line,
            self.bytes,
            self.line - 1
        )
    }
}

/// What a JSON-lines file holds: its items, and whether its last line was cut off.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonLines<T> {
    pub items: Vec<T>,
    /// The last line, when the writer stopped in the middle of it (the harness was killed
    /// while writing it): left out, and said here.
    pub cut: Option<CutLine>,
}

/// Parse JSON-lines text into `T`s. `path` names the source in errors, which say the line and
/// the reason. Blank lines are skipped. A line that does not parse is an error, except the last
/// line when it has no newline and is not whole JSON: a writer that died mid-line leaves that
/// (or zeros, after a power loss), so it is left out and reported in [`JsonLines::cut`].
pub fn parse_jsonl<T: serde::de::DeserializeOwned>(
    path: &str,
    text: impl BufRead,
) -> Result<JsonLines<T>, HistoryError> {
    let mut items = Vec::new();
    let cut = for_each_jsonl(path, text, |item| {
        items.push(item);
        Ok(())
    })?;
    Ok(JsonLines { items, cut })
}

/// [`parse_jsonl`] handing each item to `each` as it is read, so that a long file need not be
/// held whole; returns the cut last line, if any. An error from `each` stops the reading.
pub fn for_each_jsonl<T: serde::de::DeserializeOwned>(
    path: &str,
    mut text: impl BufRead,
    mut each: impl FnMut(T) -> Result<(), HistoryError>,
) -> Result<Option<CutLine>, HistoryError> {
    let mut line = Vec::new();
    let mut number = 0;
    loop {
        line.clear();
        let read = text
            .read_until(b'\n', &mut line)
            .map_err(|error| HistoryError::Io {
                path: path.to_owned(),
                error,
            })?;
        if read == 0 {
            break;
        }
        number += 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice(&line) {
            Ok(item) => each(item)?,
            // A cut line is never a whole JSON value: a line that is one, of the wrong shape,
            // is an error even without its newline.
            Err(e) if line.last() != Some(&b'\n') && !e.is_data() => {
                return Ok(Some(CutLine {
                    line: number,
                    bytes: line.len(),
                }));
            }
            Err(e) => {
                return Err(HistoryError::Parse {
                    path: path.to_owned(),
                    line: number,
                    reason: e.to_string(),
                });
            }
        }
    }
    Ok(None)
}

/// Read a JSON-lines file into `T`s (see [`parse_jsonl`]).
pub fn read_jsonl_file<T: serde::de::DeserializeOwned>(
    path: &Path,
) -> Result<JsonLines<T>, HistoryError> {
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|error| HistoryError::Io {
        path: name.clone(),
        error,
    })?;
    parse_jsonl(&name, std::io::BufReader::new(file))
}

/// Parse `history.jsonl` text. `path` names the source in errors. Blank lines are skipped, and
/// so is a last line cut off mid-line ([`parse_jsonl`] says whether there was one).
pub fn parse_history(path: &str, text: impl BufRead) -> Result<Vec<Event>, HistoryError> {
    let lines = parse_jsonl(path, text)?;
    number_events(path, lines.items)
}

/// Read a `history.jsonl` file, up to its last whole line ([`read_jsonl_file`] says whether
/// its last line was cut off).
pub fn read_history_file(path: &Path) -> Result<Vec<Event>, HistoryError> {
    let lines = read_jsonl_file(path)?;
    number_events(&path.display().to_string(), lines.items)
}

/// The index an event read without one has until [`number_events`] gives it its place.
fn no_index() -> u64 {
    u64::MAX
}

/// Give the events of a history without indices their line order as index; a history where
/// some events have one and others not is an error naming the first without.
pub fn number_events(path: &str, mut events: Vec<Event>) -> Result<Vec<Event>, HistoryError> {
    let missing = events.iter().filter(|e| e.index == u64::MAX).count();
    if missing == events.len() {
        for (i, event) in events.iter_mut().enumerate() {
            event.index = i as u64;
        }
    } else if missing > 0 {
        let at = events.iter().position(|e| e.index == u64::MAX).unwrap_or(0);
        return Err(HistoryError::Parse {
            path: path.to_owned(),
            line: at + 1,
            reason: format!(
                "event {} has no index, though others have one: give every event an index, \
                 or none (then the order of the lines is the index)",
                at + 1
            ),
        });
    }
    Ok(events)
}

/// An event's `error`, whatever JSON value it is.
fn any_error<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<ErrorInfo>, D::Error> {
    let value = Value::deserialize(d)?;
    Ok(match value {
        Value::Null => None,
        Value::Object(_) => Some(serde_json::from_value(value).map_err(serde::de::Error::custom)?),
        Value::Number(n) => Some(ErrorInfo {
            code: n
                .as_u64()
                .and_then(|c| u32::try_from(c).ok())
                .unwrap_or(u32::MAX),
            name: n.to_string(),
            text: String::new(),
        }),
        Value::String(name) => Some(ErrorInfo {
            code: ERROR_CODE_UNKNOWN,
            text: name.clone(),
            name,
        }),
        other => Some(ErrorInfo {
            code: ERROR_CODE_UNKNOWN,
            name: other.to_string(),
            text: other.to_string(),
        }),
    })
}

/// The code of an error given as something other than an object or a number (a string such
/// as `"timed-out"`): no Maelstrom code, so none of the codes the checkers give a meaning to.
pub const ERROR_CODE_UNKNOWN: u32 = u32::MAX;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_client_and_nemesis_events() {
        let text = r#"{"index":0,"time":1,"process":0,"node":"n0","type":"invoke","f":"broadcast","value":5}
{"index":1,"time":2,"process":"nemesis","type":"info","f":"start-partition","value":{"n0":["n1"]}}

{"index":2,"time":3,"process":0,"node":"n0","type":"fail","f":"broadcast","value":5,"error":{"code":11,"name":"temporarily-unavailable","text":"no"}}
{"index":3,"time":4,"process":1,"node":"n1","type":"ok","f":"read","value":[5],"final":true}
"#;
        let events = parse_history("h", text.as_bytes()).unwrap();
        assert_eq!(events.len(), 4);
        assert_eq!(events[0].process, Process::Client(0));
        assert!(events[1].process.is_nemesis());
        assert_eq!(events[2].error.as_ref().unwrap().code, 11);
        assert!(events[3].is_final);
        let line = serde_json::to_string(&events[1]).unwrap();
        assert!(line.contains(r#""process":"nemesis""#), "{line}");
        assert!(!line.contains("final"));
    }

    #[test]
    fn histories_from_elsewhere_need_no_index_no_time_and_no_error_object() {
        let text = r#"{"process":0,"type":"invoke","f":"write","value":1}
{"process":0,"type":"info","f":"write","value":1,"error":"timed-out"}
{"process":1,"type":"invoke","f":"read","value":null}
{"process":1,"type":"fail","f":"read","value":null,"error":20}
{"process":1,"type":"invoke","f":"read","value":null}
{"process":1,"type":"fail","f":"read","value":null,"error":["odd", 1]}
"#;
        let events = parse_history("h", text.as_bytes()).unwrap();
        let indices: Vec<u64> = events.iter().map(|e| e.index).collect();
        assert_eq!(indices, [0, 1, 2, 3, 4, 5], "the line order is the index");
        assert!(events.iter().all(|e| e.time == 0));
        let timed_out = events[1].error.as_ref().unwrap();
        assert_eq!(
            (timed_out.code, timed_out.name.as_str()),
            (ERROR_CODE_UNKNOWN, "timed-out")
        );
        assert_eq!(events[3].error.as_ref().unwrap().code, 20);
        assert_eq!(events[5].error.as_ref().unwrap().name, r#"["odd",1]"#);
        // Some with an index and some without: said, with the first line that has none.
        let mixed = "{\"index\":0,\"process\":0,\"type\":\"invoke\",\"f\":\"read\"}\n\
                     {\"process\":0,\"type\":\"ok\",\"f\":\"read\"}\n";
        let err = parse_history("h", mixed.as_bytes())
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("h:2: event 2 has no index"), "{err}");
    }

    #[test]
    fn a_bad_line_names_file_line_and_reason() {
        let text =
            "{\"index\":0,\"time\":1,\"process\":0,\"type\":\"invoke\",\"f\":\"read\"}\n{oops\n";
        let err = parse_history("history.jsonl", text.as_bytes()).unwrap_err();
        let message = err.to_string();
        assert!(message.starts_with("history.jsonl:2: "), "{message}");
        let text = r#"{"index":0,"time":1,"process":"client","type":"invoke","f":"read"}"#;
        assert!(parse_history("h", text.as_bytes()).is_err());
    }

    const WHOLE: &str =
        "{\"index\":0,\"time\":1,\"process\":0,\"type\":\"invoke\",\"f\":\"read\"}\n";

    #[test]
    fn a_last_line_cut_mid_line_is_left_out_and_said() {
        // The writer died in the middle of the second line (and of a UTF-8 sequence).
        let mut text = WHOLE.as_bytes().to_vec();
        text.extend_from_slice(
            b"{\"index\":1,\"time\":2,\"process\":0,\"type\":\"ok\",\"f\":\"re\xc3",
        );
        let lines: JsonLines<Event> = parse_jsonl("h", &text[..]).unwrap();
        assert_eq!(lines.items.len(), 1);
        let cut = lines.cut.expect("the cut line is reported");
        assert_eq!((cut.line, cut.bytes), (2, text.len() - WHOLE.len()));
        assert_eq!(
            cut.to_string(),
            format!(
                "the last line (2) is cut off mid-line ({} bytes, no newline): read up to line 1",
                cut.bytes
            )
        );
        assert_eq!(parse_history("h", &text[..]).unwrap().len(), 1);
        // Power loss can leave zeros where the last lines were.
        let zeros = [WHOLE.as_bytes(), &[0u8; 300][..]].concat();
        let lines: JsonLines<Event> = parse_jsonl("h", &zeros[..]).unwrap();
        assert_eq!((lines.items.len(), lines.cut.map(|c| c.line)), (1, Some(2)));
    }

    #[test]
    fn only_the_unterminated_last_line_is_forgiven() {
        // A whole last line without its newline is a line like any other.
        let unterminated = WHOLE.trim_end();
        let lines: JsonLines<Event> = parse_jsonl("h", unterminated.as_bytes()).unwrap();
        assert_eq!((lines.items.len(), lines.cut), (1, None));
        // A bad line that ends with a newline is an error, last or not.
        let text = format!("{WHOLE}{{\"index\":1,\"ti\n");
        let err = parse_jsonl::<Event>("h", text.as_bytes()).unwrap_err();
        assert!(err.to_string().starts_with("h:2: "), "{err}");
        let text = format!("{{\"index\":1,\"ti\n{WHOLE}");
        let err = parse_jsonl::<Event>("h", text.as_bytes()).unwrap_err();
        assert!(err.to_string().starts_with("h:1: "), "{err}");
        // Blank lines after the cut one do not hide it: it is then not the last line.
        let text = format!("{WHOLE}{{\"index\":1\n\n");
        assert!(parse_jsonl::<Event>("h", text.as_bytes()).is_err());
    }
}
