//! One streaming pass over `messages.jsonl`: the counts the summary needs, and the messages
//! the message-sequence diagram draws, with their fates: the first ones after the opening
//! handshake, or those sent within a window of the run around its first failure (see
//! [`Selection`]). Only the messages that may be drawn are kept, so a journal of any length
//! reads in bounded memory.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::Path;

use checker::{CutLine, HistoryError, NetEventKind, is_client};
use rustc_hash::{FxHashMap, FxHashSet};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::html::truncate;

/// How many messages the diagram draws.
pub const DIAGRAM_MESSAGES: usize = 150;

/// Bytes of a message body kept for its tooltip.
const BODY_BYTES: usize = 400;

/// At most this many messages of a window are kept while reading; past it only the marked
/// ones are.
const WINDOW_KEPT: usize = 20_000;

/// Which messages the diagram draws.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Selection {
    /// The first ones after the opening handshake.
    #[default]
    First,
    /// Those sent from `from` to `to` (nanoseconds), the `marked` ones (journal ids) first
    /// and then those closest in time to them, up to the cap.
    Window {
        from: u64,
        to: u64,
        marked: FxHashSet<u64>,
    },
}

/// The body types of the opening handshake, left out of the diagram.
const HANDSHAKE: [&str; 4] = ["init", "init_ok", "topology", "topology_ok"];

/// What became of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fate {
    Delivered(u64),
    Dropped { time: u64, reason: String },
}

/// A message drawn in the diagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: u64,
    pub src: String,
    pub dest: String,
    pub sent: u64,
    /// The body's `type` (empty if it has none).
    pub kind: String,
    /// The body as sent, cut after a few hundred bytes.
    pub body: String,
    /// Deliveries (two for a duplicated message) and drops, in journal order; empty if the
    /// journal never says (the run ended with it in flight).
    pub fates: Vec<Fate>,
    /// One of the messages the window is about (it carried the failure's value).
    pub marked: bool,
}

/// Counts of one class of network events.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub sends: u64,
    pub delivers: u64,
    pub drops: u64,
}

impl Counts {
    fn add(&mut self, kind: NetEventKind) {
        match kind {
            NetEventKind::Send => self.sends += 1,
            NetEventKind::Deliver => self.delivers += 1,
            NetEventKind::Drop => self.drops += 1,
        }
    }
}

/// The result of the pass.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JournalScan {
    pub all: Counts,
    /// Between servers (nodes and services): both ends are not clients.
    pub servers: Counts,
    pub drop_reasons: BTreeMap<String, u64>,
    /// Messages of the opening handshake (`init`, `topology` and their replies, before the
    /// first other message), not drawn.
    pub handshake: u64,
    /// The drawn messages, in order of sending.
    pub drawn: Vec<Message>,
    /// Messages sent (after the handshake) that are not drawn.
    pub left_out: u64,
    /// With a window: how many messages were sent within it.
    pub in_window: u64,
    /// The time of the last event (nanoseconds).
    pub end: u64,
    /// The journal's last line, when it was cut off mid-line (the harness was killed while
    /// writing it): left out.
    pub cut: Option<CutLine>,
}

#[derive(Deserialize)]
struct Line<'a> {
    time: u64,
    event: NetEventKind,
    id: u64,
    #[serde(borrow)]
    src: Cow<'a, str>,
    /// The node that wrote a forwarded line (see `checker::journal`): the message's sender.
    #[serde(borrow, default)]
    via: Option<Cow<'a, str>>,
    #[serde(borrow)]
    dest: Cow<'a, str>,
    #[serde(borrow, default)]
    body: Option<&'a RawValue>,
    #[serde(borrow, default)]
    reason: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct BodyType<'a> {
    #[serde(borrow, default, rename = "type")]
    kind: Option<Cow<'a, str>>,
}

/// The type of a raw JSON body, or "" if it has none.
fn body_type(body: Option<&RawValue>) -> String {
    body.and_then(|b| serde_json::from_str::<BodyType<'_>>(b.get()).ok())
        .and_then(|b| b.kind)
        .map(Cow::into_owned)
        .unwrap_or_default()
}

/// Read `messages.jsonl` at `path`, keeping at most `cap` messages for the diagram.
pub fn scan_file(
    path: &Path,
    cap: usize,
    selection: &Selection,
) -> Result<JournalScan, HistoryError> {
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|error| HistoryError::Io {
        path: name.clone(),
        error,
    })?;
    scan(
        &name,
        std::io::BufReader::with_capacity(1 << 16, file),
        cap,
        selection,
    )
}

/// Keep at most `cap` of a window's messages: the marked ones, then those sent closest in
/// time to a marked one (with none marked, the first ones), in order of sending.
fn choose(scan: &mut JournalScan, cap: usize) {
    if scan.drawn.len() <= cap {
        return;
    }
    let marked: Vec<u64> = scan
        .drawn
        .iter()
        .filter(|m| m.marked)
        .map(|m| m.sent)
        .collect();
    let distance = |t: u64| marked.iter().map(|&s| s.abs_diff(t)).min().unwrap_or(t);
    let mut order: Vec<usize> = (0..scan.drawn.len()).collect();
    order.sort_by_key(|&i| {
        let m = &scan.drawn[i];
        (!m.marked, distance(m.sent), i)
    });
    let mut keep = vec![false; scan.drawn.len()];
    for &i in order.iter().take(cap) {
        keep[i] = true;
    }
    let before = scan.drawn.len();
    let mut k = keep.iter();
    scan.drawn.retain(|_| *k.next().unwrap_or(&false));
    scan.left_out += (before - scan.drawn.len()) as u64;
}

/// Read journal text; `name` names the source in errors (`name:line: reason`). A last line cut
/// off mid-line is left out and said in [`JournalScan::cut`], as `checker::parse_jsonl` does.
pub fn scan(
    name: &str,
    mut reader: impl BufRead,
    cap: usize,
    selection: &Selection,
) -> Result<JournalScan, HistoryError> {
    let mut scan = JournalScan::default();
    let mut drawn_at: FxHashMap<u64, usize> = FxHashMap::default();
    let mut in_handshake = true;
    let mut text = Vec::new();
    let mut number = 0;
    loop {
        text.clear();
        let read = reader
            .read_until(b'\n', &mut text)
            .map_err(|error| HistoryError::Io {
                path: name.to_owned(),
                error,
            })?;
        if read == 0 {
            break;
        }
        number += 1;
        if text.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let line: Line<'_> = match serde_json::from_slice(&text) {
            Ok(line) => line,
            Err(e) if text.last() != Some(&b'\n') && !e.is_data() => {
                scan.cut = Some(CutLine {
                    line: number,
                    bytes: text.len(),
                });
                break;
            }
            Err(e) => {
                return Err(HistoryError::Parse {
                    path: name.to_owned(),
                    line: number,
                    reason: e.to_string(),
                });
            }
        };
        scan.end = scan.end.max(line.time);
        scan.all.add(line.event);
        let sender = line.via.as_deref().unwrap_or(&line.src);
        if !is_client(sender) && !is_client(&line.dest) {
            scan.servers.add(line.event);
        }
        match line.event {
            NetEventKind::Send => {
                if in_handshake {
                    let kind = body_type(line.body);
                    if HANDSHAKE.contains(&kind.as_str()) {
                        scan.handshake += 1;
                        continue;
                    }
                    in_handshake = false;
                }
                let marked = match selection {
                    Selection::First => {
                        if scan.drawn.len() >= cap {
                            scan.left_out += 1;
                            continue;
                        }
                        false
                    }
                    Selection::Window { from, to, marked } => {
                        if line.time < *from || line.time > *to {
                            scan.left_out += 1;
                            continue;
                        }
                        scan.in_window += 1;
                        let marked = marked.contains(&line.id);
                        if !marked && scan.drawn.len() >= WINDOW_KEPT {
                            scan.left_out += 1;
                            continue;
                        }
                        marked
                    }
                };
                let body = line.body.map_or("", |b| b.get());
                let (head, cut) = truncate(body, BODY_BYTES);
                drawn_at.insert(line.id, scan.drawn.len());
                scan.drawn.push(Message {
                    id: line.id,
                    // A forward is drawn from the node that wrote it.
                    src: line.via.unwrap_or(line.src).into_owned(),
                    dest: line.dest.into_owned(),
                    sent: line.time,
                    kind: body_type(line.body),
                    body: if cut {
                        format!("{head}…")
                    } else {
                        head.to_owned()
                    },
                    fates: Vec::new(),
                    marked,
                });
            }
            NetEventKind::Deliver => {
                if let Some(&i) = drawn_at.get(&line.id) {
                    scan.drawn[i].fates.push(Fate::Delivered(line.time));
                }
            }
            NetEventKind::Drop => {
                let reason = line.reason.as_deref().unwrap_or("unknown").to_owned();
                if let Some(&i) = drawn_at.get(&line.id) {
                    scan.drawn[i].fates.push(Fate::Dropped {
                        time: line.time,
                        reason: reason.clone(),
                    });
                }
                *scan.drop_reasons.entry(reason).or_default() += 1;
            }
        }
    }
    choose(&mut scan, cap);
    Ok(scan)
}

#[cfg(test)]
mod tests {
    use std::fmt::Write;

    use super::*;

    fn journal(messages: u64) -> String {
        let mut text = String::new();
        for (i, t) in [
            ("init", 1),
            ("init_ok", 2),
            ("topology", 3),
            ("topology_ok", 4),
        ] {
            writeln!(
                text,
                r#"{{"time":{t},"event":"send","id":{t},"src":"c0","dest":"n0","body":{{"type":"{i}","msg_id":1}}}}"#
            )
            .unwrap();
        }
        for id in 100..100 + messages {
            let t = id * 10;
            writeln!(
                text,
                r#"{{"time":{t},"event":"send","id":{id},"src":"n0","dest":"n1","body":{{"type":"gossip","msg_id":{id}}}}}"#
            )
            .unwrap();
            if id % 2 == 0 {
                writeln!(
                    text,
                    r#"{{"time":{},"event":"deliver","id":{id},"src":"n0","dest":"n1"}}"#,
                    t + 5
                )
                .unwrap();
            } else {
                writeln!(
                    text,
                    r#"{{"time":{},"event":"drop","id":{id},"src":"n0","dest":"n1","reason":"partition"}}"#,
                    t + 5
                )
                .unwrap();
            }
        }
        text
    }

    #[test]
    fn caps_the_drawn_messages_and_counts_the_rest() {
        let scan = scan(
            "m",
            journal(300).as_bytes(),
            DIAGRAM_MESSAGES,
            &Selection::First,
        )
        .unwrap();
        assert_eq!(scan.handshake, 4);
        assert_eq!(scan.drawn.len(), DIAGRAM_MESSAGES);
        assert_eq!(scan.left_out, 300 - DIAGRAM_MESSAGES as u64);
        assert_eq!(scan.all.sends, 304);
        assert_eq!(scan.servers.sends, 300);
        assert_eq!(scan.all.delivers, 150);
        assert_eq!(scan.drop_reasons["partition"], 150);
        assert_eq!(scan.end, 399 * 10 + 5);
        let first = &scan.drawn[0];
        assert_eq!((first.id, first.kind.as_str()), (100, "gossip"));
        assert_eq!(first.fates, vec![Fate::Delivered(1005)]);
        assert_eq!(
            scan.drawn[1].fates,
            vec![Fate::Dropped {
                time: 1015,
                reason: "partition".into()
            }]
        );
        assert_eq!(first.body, r#"{"type":"gossip","msg_id":100}"#);
    }

    #[test]
    fn a_later_init_is_drawn_and_a_duplicate_has_two_deliveries() {
        let text = r#"{"time":1,"event":"send","id":1,"src":"c1","dest":"n0","body":{"type":"broadcast","message":3}}
{"time":2,"event":"send","id":2,"src":"c0","dest":"n0","body":{"type":"init"}}
{"time":3,"event":"deliver","id":1,"src":"c1","dest":"n0"}
{"time":4,"event":"deliver","id":1,"src":"c1","dest":"n0"}
{"time":5,"event":"send","id":3,"src":"n0","dest":"n1","body":"not an object"}
"#;
        let scan = scan("m", text.as_bytes(), 10, &Selection::First).unwrap();
        assert_eq!(scan.handshake, 0);
        let kinds: Vec<_> = scan.drawn.iter().map(|m| m.kind.as_str()).collect();
        assert_eq!(kinds, vec!["broadcast", "init", ""]);
        assert_eq!(scan.drawn[0].fates.len(), 2);
        assert!(scan.drawn[1].fates.is_empty());
        assert_eq!(scan.all.sends, 3);
        assert_eq!(scan.servers.sends, 1);
    }

    #[test]
    fn a_bad_line_names_file_line_and_reason() {
        let text =
            "{\"time\":1,\"event\":\"deliver\",\"id\":1,\"src\":\"a\",\"dest\":\"b\"}\n\n{oops\n";
        let err = scan("messages.jsonl", text.as_bytes(), 10, &Selection::First).unwrap_err();
        let message = err.to_string();
        assert!(message.starts_with("messages.jsonl:3: "), "{message}");
        let err = scan_file(
            Path::new("/nonexistent/messages.jsonl"),
            10,
            &Selection::First,
        )
        .unwrap_err();
        assert!(
            err.to_string().starts_with("/nonexistent/messages.jsonl: "),
            "{err}"
        );
    }

    #[test]
    fn a_journal_cut_mid_line_is_scanned_up_to_its_last_whole_line() {
        let whole = journal(2);
        let text = format!("{whole}{{\"time\":9999,\"event\":\"send\",\"id\":7,\"src\":\"n");
        let scan = scan("m", text.as_bytes(), 10, &Selection::First).unwrap();
        assert_eq!(scan.all.sends, 6);
        let cut = scan.cut.expect("the cut line is said");
        assert_eq!(cut.line, whole.lines().count() + 1);
        assert!(
            super::scan("m", whole.as_bytes(), 10, &Selection::First)
                .unwrap()
                .cut
                .is_none()
        );
    }

    #[test]
    fn a_window_keeps_its_marked_messages_and_those_nearest_to_them() {
        // Messages 100..400 every 10 ns; the window is 1500..2500 (messages 150..250), 200
        // is marked, and 11 may be drawn: 200 and the ten sent closest to it.
        let marked: FxHashSet<u64> = [200].into_iter().collect();
        let selection = Selection::Window {
            from: 1500,
            to: 2500,
            marked,
        };
        let scan = scan("m", journal(300).as_bytes(), 11, &selection).unwrap();
        assert_eq!(scan.in_window, 101);
        let ids: Vec<u64> = scan.drawn.iter().map(|m| m.id).collect();
        assert_eq!(ids, (195..=205).collect::<Vec<_>>());
        assert!(scan.drawn[5].marked && !scan.drawn[4].marked);
        assert_eq!(scan.left_out, 300 - 11);
        assert_eq!(scan.drawn[5].fates, vec![Fate::Delivered(2005)]);
    }

    #[test]
    fn long_bodies_are_cut() {
        let long = "x".repeat(2000);
        let text = format!(
            r#"{{"time":1,"event":"send","id":1,"src":"n0","dest":"n1","body":{{"type":"t","pad":"{long}"}}}}"#
        );
        let scan = scan("m", text.as_bytes(), 10, &Selection::First).unwrap();
        assert!(scan.drawn[0].body.len() <= BODY_BYTES + 3);
        assert!(scan.drawn[0].body.ends_with('…'));
    }
}
