//! The message journal of a run: `messages.jsonl`, one network event per line.
//!
//! ```json
//! {"time":1200,"event":"send","id":17,"src":"n0","dest":"n1","body":{"type":"gossip","msg_id":3}}
//! {"time":101200,"event":"deliver","id":17,"src":"n0","dest":"n1"}
//! {"time":101200,"event":"drop","id":18,"src":"n0","dest":"n2","reason":"partition"}
//! ```
//!
//! `id` is the harness's id for one message on the wire (a duplicated message is one `send`
//! and two `deliver`s). Only `send` carries the body. Client traffic (`c…`) is journalled like
//! the rest.
//!
//! A node may write a line whose `src` is another member of the network: a node that forwards a
//! client's request to the leader keeps the client's `src` (Maelstrom checks only that `src`
//! names a member), so the reply goes to the client. Such a message is journaled with the
//! line's `src` and, on each of its events, `via`: the node that wrote it. It travels the
//! simulated network from `via` (latency, partitions and loss apply between servers):
//!
//! ```json
//! {"time":1300,"event":"send","id":18,"src":"c3","via":"n1","dest":"n0","body":{"type":"write","msg_id":4}}
//! ```
//!
//! A message to a node is `deliver`ed when the node's stdin pipe has taken the whole line, at
//! the time it did: messages wait in the harness's input queue for the node until then (while
//! the node is paused, while its pipe is full). Taken by the pipe is not yet read by the node:
//! a node killed with lines in its pipe buffer never reads them. To a service or a client, a
//! message is delivered when it arrives.
//!
//! A `drop` says why:
//!
//! - `partition`: a partition separated the two ends when the message arrived;
//! - `loss`: the network lost it (`--nemesis loss`);
//! - `node-down`: the destination was killed or not yet restarted when the message arrived;
//! - `backlog`: the destination's input queue was full (it had stopped reading);
//! - `queued`: the message was in the destination's input queue, never taken by its pipe,
//!   when the node was killed, exited, closed its input, or the run ended;
//! - `unknown-dest`: no node, service or client has that id;
//! - `byzantine`: a Byzantine node's message that the harness dropped (`--nemesis byzantine`).
//!
//! A message of a Byzantine node that the harness altered, or made up, has a `byzantine` key
//! on its `send`: `{"how": "corrupt"|"equivocate", "original": <the body the node wrote>}`
//! (its `body` is what went on the wire), `{"how": "drop", "original": ...}` before its drop,
//! or `{"how": "forge", "of": <id of the message it was copied from>}` for a message the node
//! never wrote (see `runner/src/nemesis/byzantine.rs`).
//!
//! A body nested deeper than [`JOURNAL_MAX_BODY_DEPTH`] (a node may write one: Maelstrom
//! accepts up to 1000 levels) is stored as a JSON *string* holding the body's text, so that
//! every reader of the journal, which parses lines with serde_json's recursion limit of 128,
//! can still read the line. Bodies are objects, so a string body is never anything else;
//! readers that look into bodies see no `type` in it.
//!
//! A journal whose last line was cut off mid-line (the harness was killed while writing it) is
//! read up to its last whole line, and the cut is reported ([`crate::history::CutLine`]).

use std::io::BufRead;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::history::{HistoryError, JsonLines, parse_jsonl, read_jsonl_file};

/// Bodies nested deeper than this are journaled as a string of their text (see the module
/// documentation): well under serde_json's recursion limit (128), with the line's own level.
pub const JOURNAL_MAX_BODY_DEPTH: usize = 100;

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
    /// The message's `src`, as the line that carried it says.
    pub src: String,
    /// The node that really wrote the line, when `src` names another member of the network:
    /// a node that forwards a client's request with the client's `src`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    pub dest: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl NetEvent {
    /// Who put the message on the wire: `via` when there is one, else `src`. A forward is
    /// server-to-server traffic, whatever its `src` says.
    pub fn sender(&self) -> &str {
        self.via.as_deref().unwrap_or(&self.src)
    }
}

/// True for a client id (`c0`, `c17`, ...).
pub fn is_client(id: &str) -> bool {
    id.len() > 1 && id.starts_with('c') && id[1..].bytes().all(|b| b.is_ascii_digit())
}

/// Parse `messages.jsonl` text; `path` names the source in errors. A last line cut off
/// mid-line is left out and reported.
pub fn parse_journal(path: &str, text: impl BufRead) -> Result<JsonLines<NetEvent>, HistoryError> {
    parse_jsonl(path, text)
}

/// Read a `messages.jsonl` file (see [`parse_journal`]).
pub fn read_journal_file(path: &Path) -> Result<JsonLines<NetEvent>, HistoryError> {
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
        let events = parse_journal("m", text.as_bytes()).unwrap().items;
        assert_eq!(events[0].event, NetEventKind::Send);
        assert_eq!(events[2].reason.as_deref(), Some("partition"));
        assert!(is_client("c12") && !is_client("n1") && !is_client("c") && !is_client("cx"));
    }

    #[test]
    fn a_journal_cut_mid_line_is_read_up_to_its_last_whole_line() {
        let text = "{\"time\":2,\"event\":\"deliver\",\"id\":1,\"src\":\"c0\",\"dest\":\"n0\"}\n{\"time\":3,\"event\":\"dr";
        let lines = parse_journal("m", text.as_bytes()).unwrap();
        assert_eq!(lines.items.len(), 1);
        assert_eq!(lines.cut.map(|c| c.line), Some(2));
    }
}
