//! The message-sequence (Lamport) diagram of a run: one vertical line per process, time
//! running down, an arrow from each send to each delivery, and a cross where the network
//! dropped a message, with the reason. This is the space-time diagram of the course's lecture
//! on logical time. It shows the first messages of a run, or, when a check failed, the window
//! around the first failure: the messages that carried the failure's value are drawn in their
//! own colour, and the faults of the window (a kill, a partition) as marks across the lines
//! of the nodes they hit.
//!
//! Rows, not a time scale: events are laid out in time order, each on the earliest row that
//! keeps every process's own events in order and every delivery below its send; events of
//! different processes that are close in time share a row, and a fault has a row of its own.
//! The time of each row is written in the margin.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use super::html::Esc;
use super::journal::{Fate, JournalScan, Message};
use super::scale::fmt_ms;
use super::timeline::node_order;

const COLUMN: f64 = 84.0;
const ROW: f64 = 13.0;
const GUTTER: f64 = 64.0;
const HEADER: f64 = 28.0;
/// How far toward the destination a dropped message's arrow goes.
const DROP_REACH: f64 = 0.55;

/// Where an event sits: its process (none for a drop, which happens on the wire) and time.
#[derive(Debug, Clone, Copy)]
struct Slot<'a> {
    time: u64,
    process: Option<&'a str>,
    /// The row of the send this event must come after.
    after: Option<usize>,
}

/// A fault drawn across the diagram at its time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mark {
    pub time: u64,
    /// `kill n0 n3`, `partition n0 | n1 n2`, `stop-partition`.
    pub label: String,
    /// The nodes it hits (a kill's, a pause's); none for a partition, drawn as a line alone.
    pub nodes: Vec<String>,
}

/// The rows of the sends and of the fates of `messages`, in the same shape, the rows of the
/// `marks`, and the time of each row.
type Layout = (Vec<usize>, Vec<Vec<usize>>, Vec<usize>, Vec<u64>);

/// Lay out `messages` and `marks` in rows.
fn layout(messages: &[Message], marks: &[Mark]) -> Layout {
    // Sends first in time order, then fates; a fate needs its send's row, so place all events
    // in time order with sends before fates at equal times. A mark takes a row of its own.
    let mut events: Vec<(u64, u8, usize, usize)> = Vec::new();
    for (i, mark) in marks.iter().enumerate() {
        events.push((mark.time, 2, i, 0));
    }
    for (m, message) in messages.iter().enumerate() {
        events.push((message.sent, 0, m, 0));
        for (k, fate) in message.fates.iter().enumerate() {
            let time = match fate {
                Fate::Delivered(t) => *t,
                Fate::Dropped { time, .. } => *time,
            };
            events.push((time.max(message.sent), 1, m, k));
        }
    }
    events.sort_unstable();
    let mut send_rows = vec![0; messages.len()];
    let mut fate_rows: Vec<Vec<usize>> = messages.iter().map(|m| vec![0; m.fates.len()]).collect();
    let mut mark_rows = vec![0; marks.len()];
    let mut row_times: Vec<u64> = Vec::new();
    let mut last_row: BTreeMap<&str, usize> = BTreeMap::new();
    // Processes with an event on the current (last) row.
    let mut busy: BTreeSet<&str> = BTreeSet::new();
    // The current row holds a mark: nothing else goes on it.
    let mut full = false;
    for (time, phase, m, k) in events {
        if phase == 2 {
            row_times.push(time);
            busy.clear();
            full = true;
            mark_rows[m] = row_times.len() - 1;
            continue;
        }
        let message = &messages[m];
        let slot = if phase == 0 {
            Slot {
                time,
                process: Some(&message.src),
                after: None,
            }
        } else {
            Slot {
                time,
                process: match message.fates[k] {
                    Fate::Delivered(_) => Some(&message.dest),
                    Fate::Dropped { .. } => None,
                },
                after: Some(send_rows[m]),
            }
        };
        let current = row_times.len().checked_sub(1).filter(|_| !full);
        let fits = current.is_some_and(|row| {
            slot.process.is_none_or(|p| !busy.contains(p))
                && slot.after.is_none_or(|a| a < row)
                && slot
                    .process
                    .is_none_or(|p| last_row.get(p).is_none_or(|&r| r < row))
        });
        let row = match (fits, current) {
            (true, Some(row)) => row,
            _ => {
                row_times.push(slot.time);
                busy.clear();
                full = false;
                row_times.len() - 1
            }
        };
        if let Some(p) = slot.process {
            busy.insert(p);
            last_row.insert(p, row);
        }
        if phase == 0 {
            send_rows[m] = row;
        } else {
            fate_rows[m][k] = row;
        }
    }
    (send_rows, fate_rows, mark_rows, row_times)
}

/// The diagram of `scan.drawn`, with `marks` across it.
pub fn diagram(out: &mut String, scan: &JournalScan, marks: &[Mark]) {
    let messages = &scan.drawn;
    if messages.is_empty() {
        out.push_str(if scan.in_window > 0 || scan.left_out > 0 {
            r#"<p class="note">No message to draw here.</p>"#
        } else {
            r#"<p class="note">The journal holds no messages beyond the opening handshake.</p>"#
        });
        return;
    }
    let mut processes: Vec<&str> = messages
        .iter()
        .flat_map(|m| [m.src.as_str(), m.dest.as_str()])
        .chain(
            marks
                .iter()
                .flat_map(|m| m.nodes.iter().map(String::as_str)),
        )
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    processes.sort_by_key(|p| node_order(p));
    let column: BTreeMap<&str, f64> = processes
        .iter()
        .enumerate()
        .map(|(i, p)| (*p, GUTTER + COLUMN * (i as f64 + 0.5)))
        .collect();
    let (send_rows, fate_rows, mark_rows, row_times) = layout(messages, marks);
    // One more row for messages the journal never delivered nor dropped.
    let undelivered = messages.iter().any(|m| m.fates.is_empty());
    let rows = row_times.len() + usize::from(undelivered);
    let y_of = |row: usize| HEADER + 10.0 + ROW * row as f64;
    let width = GUTTER + COLUMN * processes.len() as f64 + 8.0;
    let height = y_of(rows) + HEADER;
    let _ = write!(
        out,
        r#"<svg id="lamport" class="lamport" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0} {height:.0}" width="{width:.0}" height="{height:.0}" role="img" aria-label="message-sequence diagram"><defs><marker id="arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0 0L8 4L0 8z" fill="context-stroke"/></marker></defs>"#,
    );
    // Process lines and names, top and bottom.
    for p in &processes {
        let x = column[p];
        let _ = write!(
            out,
            r#"<line class="life" x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}"/><text class="proc" x="{x:.1}" y="18" text-anchor="middle">{name}</text><text class="proc" x="{x:.1}" y="{:.1}" text-anchor="middle">{name}</text>"#,
            HEADER,
            y_of(rows) + 2.0,
            y_of(rows) + 18.0,
            name = Esc(p)
        );
    }
    // Times in the margin, on every fourth row.
    for (row, time) in row_times.iter().enumerate().step_by(4) {
        let _ = write!(
            out,
            r#"<text class="time" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            GUTTER - 6.0,
            y_of(row) + 3.0,
            row_time(*time)
        );
    }
    for (mark, &row) in marks.iter().zip(&mark_rows) {
        let y = y_of(row);
        let hit: Vec<f64> = mark
            .nodes
            .iter()
            .filter_map(|n| column.get(n.as_str()).copied())
            .collect();
        let _ = write!(
            out,
            r#"<g class="fault"><title>{} at {}</title><line class="fault-line" x1="{GUTTER:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}"/>"#,
            Esc(&mark.label),
            fmt_ms(mark.time as f64 / 1e6),
            width - 8.0
        );
        for x in &hit {
            let _ = write!(
                out,
                r#"<rect class="fault-hit" x="{:.1}" y="{:.1}" width="12" height="8"/>"#,
                x - 6.0,
                y - 4.0
            );
        }
        let _ = write!(
            out,
            r#"<text class="fault-label" x="{:.1}" y="{:.1}">{}</text></g>"#,
            hit.first().copied().unwrap_or(GUTTER) + 9.0,
            y - 5.0,
            Esc(&mark.label)
        );
    }
    for (m, message) in messages.iter().enumerate() {
        let (x0, y0) = (column[message.src.as_str()], y_of(send_rows[m]));
        let x1 = column[message.dest.as_str()];
        let client = checker::is_client(&message.src) || checker::is_client(&message.dest);
        let class = match (message.marked, client) {
            (true, _) => "msg carried",
            (false, true) => "msg client",
            (false, false) => "msg",
        };
        let mut title = format!(
            "message {}: {} → {}, sent at {}",
            message.id,
            message.src,
            message.dest,
            fmt_ms(message.sent as f64 / 1e6)
        );
        for fate in &message.fates {
            match fate {
                Fate::Delivered(t) => {
                    let _ = write!(title, ", delivered at {}", fmt_ms(*t as f64 / 1e6));
                }
                Fate::Dropped { time, reason } => {
                    let _ = write!(
                        title,
                        ", dropped at {} ({reason})",
                        fmt_ms(*time as f64 / 1e6)
                    );
                }
            }
        }
        if message.fates.is_empty() {
            title.push_str(", never delivered nor dropped in the journal");
        }
        let _ = write!(
            out,
            r#"<g class="{class}"><title>{}
{}</title>"#,
            Esc(&title),
            Esc(&message.body)
        );
        for (k, fate) in message.fates.iter().enumerate() {
            let y1 = y_of(fate_rows[m][k]);
            match fate {
                Fate::Delivered(_) => arrow(out, (x0, y0), (x1, y1)),
                Fate::Dropped { reason, .. } => {
                    let xd = x0 + (x1 - x0) * DROP_REACH;
                    let xd = if x1 == x0 { x0 + 24.0 } else { xd };
                    let _ = write!(
                        out,
                        r#"<line class="dropped" x1="{x0:.1}" y1="{y0:.1}" x2="{xd:.1}" y2="{y1:.1}"/><path class="cross" d="M{:.1} {:.1}l8 8m0 -8l-8 8"/><text class="reason" x="{:.1}" y="{:.1}">{}</text>"#,
                        xd - 4.0,
                        y1 - 4.0,
                        xd + 7.0,
                        y1 + 3.5,
                        Esc(reason)
                    );
                }
            }
        }
        if message.fates.is_empty() {
            let xd = if x1 == x0 {
                x0 + 24.0
            } else {
                x0 + (x1 - x0) * 0.35
            };
            let _ = write!(
                out,
                r#"<line class="in-flight" x1="{x0:.1}" y1="{y0:.1}" x2="{xd:.1}" y2="{:.1}"/>"#,
                y_of(rows - 1)
            );
        }
        // The body's type, next to the sender.
        let dir = if x1 >= x0 { 1.0 } else { -1.0 };
        let anchor = if x1 >= x0 { "start" } else { "end" };
        let _ = write!(
            out,
            r#"<text class="kind" x="{:.1}" y="{:.1}" text-anchor="{anchor}">{}</text></g>"#,
            x0 + dir * 5.0,
            y0 - 2.0,
            Esc(&message.kind)
        );
    }
    out.push_str("</svg>");
}

/// A row's time in the margin, precise enough to tell close rows apart: `62.31 ms`,
/// `12.3457 s`.
fn row_time(ns: u64) -> String {
    let ms = ns as f64 / 1e6;
    if ms < 1000.0 {
        format!("{ms:.2} ms")
    } else {
        format!("{:.4} s", ms / 1000.0)
    }
}

/// An arrow from `a` to `b`; a message to oneself loops out to the right.
fn arrow(out: &mut String, (x0, y0): (f64, f64), (x1, y1): (f64, f64)) {
    if x0 == x1 {
        let _ = write!(
            out,
            r#"<path class="arrow" d="M{x0:.1} {y0:.1}L{:.1} {:.1}L{x1:.1} {y1:.1}" marker-end="url(#arrow)"/>"#,
            x0 + 24.0,
            (y0 + y1) / 2.0
        );
    } else {
        let _ = write!(
            out,
            r#"<line class="arrow" x1="{x0:.1}" y1="{y0:.1}" x2="{x1:.1}" y2="{y1:.1}" marker-end="url(#arrow)"/>"#,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::journal::{Selection, scan};
    use super::*;

    #[test]
    fn rows_keep_each_process_in_order_and_deliveries_below_sends() {
        let text = r#"{"time":10,"event":"send","id":1,"src":"n0","dest":"n1","body":{"type":"gossip"}}
{"time":11,"event":"send","id":2,"src":"n0","dest":"n2","body":{"type":"gossip"}}
{"time":12,"event":"send","id":3,"src":"n1","dest":"n2","body":{"type":"gossip"}}
{"time":13,"event":"deliver","id":1,"src":"n0","dest":"n1"}
{"time":14,"event":"drop","id":2,"src":"n0","dest":"n2","reason":"partition"}
{"time":15,"event":"deliver","id":3,"src":"n1","dest":"n2"}
"#;
        let scan = scan("m", text.as_bytes(), 10, &Selection::First).unwrap();
        let (sends, fates, _, times) = layout(&scan.drawn, &[]);
        // n0 sends twice: two rows. n1's send shares n0's second row. The delivery to n1
        // comes after n1's send, on a new row, where the drop and the delivery to n2 fit too.
        assert_eq!(sends, vec![0, 1, 1]);
        assert_eq!(fates, vec![vec![2], vec![2], vec![2]]);
        assert_eq!(times, vec![10, 11, 13]);
        assert_eq!(row_time(62_314_000), "62.31 ms");
        assert_eq!(row_time(12_345_678_000), "12.3457 s");
    }

    #[test]
    fn a_fault_takes_a_row_of_its_own_and_crosses_the_nodes_it_hits() {
        let text = r#"{"time":10,"event":"send","id":1,"src":"n0","dest":"n1","body":{"type":"gossip","messages":[17]}}
{"time":20,"event":"deliver","id":1,"src":"n0","dest":"n1"}
{"time":40,"event":"send","id":2,"src":"n2","dest":"n0","body":{"type":"gossip"}}
{"time":50,"event":"deliver","id":2,"src":"n2","dest":"n0"}
"#;
        let selection = Selection::Window {
            from: 0,
            to: 100,
            marked: [1].into_iter().collect(),
        };
        let scan = scan("m", text.as_bytes(), 10, &selection).unwrap();
        let marks = [Mark {
            time: 30,
            label: "kill n0 n1".into(),
            nodes: vec!["n0".into(), "n1".into()],
        }];
        let (sends, fates, mark_rows, times) = layout(&scan.drawn, &marks);
        assert_eq!(
            (sends, fates, mark_rows),
            (vec![0, 3], vec![vec![1], vec![4]], vec![2])
        );
        assert_eq!(times, vec![10, 20, 30, 40, 50]);
        let mut out = String::new();
        diagram(&mut out, &scan, &marks);
        assert_eq!(out.matches(r#"<g class="msg carried">"#).count(), 1);
        assert_eq!(out.matches(r#"<g class="msg">"#).count(), 1);
        assert_eq!(out.matches(r#"class="fault-hit""#).count(), 2);
        assert!(out.contains(">kill n0 n1</text>"));
    }

    #[test]
    fn draws_arrows_drops_and_escapes_names() {
        let text = r#"{"time":10,"event":"send","id":1,"src":"c1","dest":"n0","body":{"type":"<script>"}}
{"time":20,"event":"deliver","id":1,"src":"c1","dest":"n0"}
{"time":30,"event":"send","id":2,"src":"n0","dest":"n1","body":{"type":"gossip"}}
{"time":40,"event":"drop","id":2,"src":"n0","dest":"n1","reason":"partition"}
{"time":50,"event":"send","id":3,"src":"n1","dest":"n0","body":{"type":"gossip"}}
"#;
        let scan = scan("m", text.as_bytes(), 10, &Selection::First).unwrap();
        let mut out = String::new();
        diagram(&mut out, &scan, &[]);
        assert!(out.starts_with(r#"<svg id="lamport""#));
        assert_eq!(out.matches(r#"<line class="arrow""#).count(), 1);
        assert_eq!(out.matches(r#"class="cross""#).count(), 1);
        assert!(out.contains(r#"<text class="reason""#) && out.contains(">partition<"));
        assert_eq!(out.matches(r#"class="in-flight""#).count(), 1);
        assert!(out.contains("&lt;script&gt;") && !out.contains("<script>"));
        for name in ["c1", "n0", "n1"] {
            assert_eq!(out.matches(&format!(">{name}</text>")).count(), 2, "{name}");
        }
    }
}
