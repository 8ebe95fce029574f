//! The message journal of a run: `messages.jsonl`, one network event per line.
//!
//! ```json
//! {"time":1200,"event":"send","id":17,"src":"n0","dest":"n1","body":{"type":"gossip","msg_id":3}}
//! {"time":101200,"event":"deliver","id":17,"src":"n0","dest":"n1"}
//! {"time":101200,"event":"drop","id":18,"src":"n0","dest":"n2","reason":"partition"}
//! ```
//!
//! `id` is the harness's id for one message on the wire (a duplicated message is one `send`
//! and two `deliver`s). Only `send` carries the body. A `drop` says why: `partition`, `loss`,
//! `node-down` (killed or not yet restarted), `unknown-dest`, `backlog` (the node's input
//! queue was full). Client traffic (`c…`) is journalled like the rest.

use std::io::BufRead;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::history::{HistoryError, parse_jsonl, read_jsonl_file};

/// What happened to a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NetEventKind {
    Send,
    Deliver,
    Drop,
}

/// One line of `messages.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetEvent {
    /// Nanoseconds since the run started.
    pub time: u64,
    pub event: NetEventKind,
    pub id: u64,
    pub src: String,
    pub dest: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// True for a client id (`c0`, `c17`, ...).
pub fn is_client(id: &str) -> bool {
    id.len() > 1 && id.starts_with('c') && id[1..].bytes().all(|b| b.is_ascii_digit())
}

/// Parse `messages.jsonl` text; `path` names the source in errors.
pub fn parse_journal(path: &str, text: impl BufRead) -> Result<Vec<NetEvent>, HistoryError> {
    parse_jsonl(path, text)
}

/// Read a `messages.jsonl` file.
pub fn read_journal_file(path: &Path) -> Result<Vec<NetEvent>, HistoryError> {
    read_jsonl_file(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_events() {
        let text = r#"{"time":1,"event":"send","id":1,"src":"c0","dest":"n0","body":{"type":"read","msg_id":0}}
{"time":2,"event":"deliver","id":1,"src":"c0","dest":"n0"}
{"time":3,"event":"drop","id":2,"src":"n0","dest":"n1","reason":"partition"}
"#;
        let events = parse_journal("m", text.as_bytes()).unwrap();
        assert_eq!(events[0].event, NetEventKind::Send);
        assert_eq!(events[2].reason.as_deref(), Some("partition"));
        assert!(is_client("c12") && !is_client("n1") && !is_client("c") && !is_client("cx"));
    }
}
