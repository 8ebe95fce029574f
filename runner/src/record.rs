//! Recording a run as it goes: `history.jsonl` (every op event, flushed line by line, so a
//! crash of the harness leaves every op recorded up to that moment) and `messages.jsonl`
//! (every network event: send, deliver, drop).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use checker::{ErrorInfo, Event, EventType, Process};
use serde_json::Value;

/// Sync a file's data to disk; a file that cannot be synced (`/dev/null`) needs no sync.
fn sync(file: &File) -> std::io::Result<()> {
    match file.sync_data() {
        Err(err) if err.raw_os_error() == Some(nix::libc::EINVAL) => Ok(()),
        result => result,
    }
}

/// Appends op events to `history.jsonl` and keeps them for the checkers.
pub struct HistoryWriter {
    out: BufWriter<File>,
    events: Vec<Event>,
    failed: Option<std::io::Error>,
}

/// One op event before it gets its index.
pub struct OpEvent<'a> {
    pub time: u64,
    pub process: Process,
    pub node: Option<&'a str>,
    pub kind: EventType,
    pub f: &'a str,
    pub value: Value,
    pub error: Option<ErrorInfo>,
    pub is_final: bool,
}

impl HistoryWriter {
    pub fn create(path: &Path) -> std::io::Result<Self> {
        Ok(HistoryWriter {
            out: BufWriter::new(File::create(path)?),
            events: Vec::new(),
            failed: None,
        })
    }

    /// Record one event; returns its index.
    pub fn append(&mut self, op: OpEvent<'_>) -> u64 {
        let index = self.events.len() as u64;
        let event = Event {
            index,
            time: op.time,
            process: op.process,
            node: op.node.map(str::to_owned),
            kind: op.kind,
            f: op.f.to_owned(),
            value: op.value,
            error: op.error,
            is_final: op.is_final,
        };
        if self.failed.is_none() {
            let written = serde_json::to_writer(&mut self.out, &event)
                .map_err(std::io::Error::from)
                .and_then(|()| self.out.write_all(b"\n"))
                .and_then(|()| self.out.flush());
            if let Err(err) = written {
                self.failed = Some(err);
            }
        }
        self.events.push(event);
        index
    }

    /// Every event so far.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// Flush, sync to disk (before results.json says the run is complete) and hand over the
    /// events; an error if any write failed.
    pub fn finish(mut self) -> std::io::Result<Vec<Event>> {
        self.out.flush()?;
        sync(self.out.get_ref())?;
        match self.failed {
            Some(err) => Err(err),
            None => Ok(self.events),
        }
    }
}

/// Put the journal at `path` in time order (stable: events of one time keep their order).
/// A run on several hosts journals each host's events as they arrive, stamped with corrected
/// times that may be earlier than events already written.
pub fn sort_journal(path: &Path) -> std::io::Result<()> {
    let text = std::fs::read_to_string(path)?;
    let mut lines: Vec<(u64, &str)> = text
        .lines()
        .map(|line| {
            let time = line
                .strip_prefix("{\"time\":")
                .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
                .and_then(|digits| digits.parse().ok())
                .unwrap_or(0);
            (time, line)
        })
        .collect();
    lines.sort_by_key(|(time, _)| *time);
    let tmp = path.with_extension("jsonl.sorting");
    {
        let mut out = BufWriter::new(File::create(&tmp)?);
        for (_, line) in &lines {
            out.write_all(line.as_bytes())?;
            out.write_all(b"\n")?;
        }
        out.flush()?;
        sync(out.get_ref())?;
    }
    std::fs::rename(&tmp, path)
}

/// Appends network events to `messages.jsonl`.
pub struct Journal {
    out: BufWriter<File>,
    failed: Option<std::io::Error>,
    scratch: Vec<u8>,
}

impl Journal {
    pub fn create(path: &Path) -> std::io::Result<Self> {
        Ok(Journal {
            out: BufWriter::with_capacity(1 << 20, File::create(path)?),
            failed: None,
            scratch: Vec::with_capacity(512),
        })
    }

    fn head(&mut self, time: u64, event: &str, id: u64, src: &str, via: Option<&str>, dest: &str) {
        let s = &mut self.scratch;
        s.clear();
        let _ = write!(
            s,
            "{{\"time\":{time},\"event\":\"{event}\",\"id\":{id},\"src\":"
        );
        let _ = serde_json::to_writer(&mut *s, src);
        if let Some(via) = via {
            s.extend_from_slice(b",\"via\":");
            let _ = serde_json::to_writer(&mut *s, via);
        }
        s.extend_from_slice(b",\"dest\":");
        let _ = serde_json::to_writer(&mut *s, dest);
    }

    fn emit(&mut self) {
        self.scratch.extend_from_slice(b"}\n");
        if self.failed.is_none()
            && let Err(err) = self.out.write_all(&self.scratch)
        {
            self.failed = Some(err);
        }
    }

    /// A message was put on the wire; `body` is its raw JSON body (written as it is, without
    /// a copy through the scratch buffer: bodies can be long). `src` is the line's, and `via`
    /// the node that really wrote it when that is another one (a forward).
    pub fn send(
        &mut self,
        time: u64,
        id: u64,
        src: &str,
        via: Option<&str>,
        dest: &str,
        body: &str,
    ) {
        self.head(time, "send", id, src, via, dest);
        self.scratch.extend_from_slice(b",\"body\":");
        if self.failed.is_none() {
            let written = self
                .out
                .write_all(&self.scratch)
                .and_then(|()| self.out.write_all(body.as_bytes()))
                .and_then(|()| self.out.write_all(b"}\n"));
            if let Err(err) = written {
                self.failed = Some(err);
            }
        }
    }

    /// A message the Byzantine nemesis altered or made up: [`Journal::send`] with a
    /// `"byzantine"` key holding `note` (raw JSON: what was done, and the original).
    #[allow(clippy::too_many_arguments)]
    pub fn send_altered(
        &mut self,
        time: u64,
        id: u64,
        src: &str,
        via: Option<&str>,
        dest: &str,
        body: &str,
        note: &str,
    ) {
        self.head(time, "send", id, src, via, dest);
        self.scratch.extend_from_slice(b",\"body\":");
        self.scratch.extend_from_slice(body.as_bytes());
        self.scratch.extend_from_slice(b",\"byzantine\":");
        self.scratch.extend_from_slice(note.as_bytes());
        self.emit();
    }

    /// A message reached its destination.
    pub fn deliver(&mut self, time: u64, id: u64, src: &str, via: Option<&str>, dest: &str) {
        self.head(time, "deliver", id, src, via, dest);
        self.emit();
    }

    /// A message was dropped, and why.
    pub fn drop(
        &mut self,
        time: u64,
        id: u64,
        src: &str,
        via: Option<&str>,
        dest: &str,
        reason: &str,
    ) {
        self.head(time, "drop", id, src, via, dest);
        self.scratch.extend_from_slice(b",\"reason\":");
        let _ = serde_json::to_writer(&mut self.scratch, reason);
        self.emit();
    }

    /// Push buffered lines to the file.
    pub fn flush(&mut self) {
        if self.failed.is_none()
            && let Err(err) = self.out.flush()
        {
            self.failed = Some(err);
        }
    }

    /// Flush and sync to disk (before results.json says the run is complete); an error if any
    /// write failed.
    pub fn finish(mut self) -> std::io::Result<()> {
        self.flush();
        if self.failed.is_none()
            && let Err(err) = sync(self.out.get_ref())
        {
            self.failed = Some(err);
        }
        match self.failed.take() {
            Some(err) => Err(err),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_journal_is_sorted_by_time_and_keeps_the_order_of_ties() {
        let dir = std::env::temp_dir().join(format!("journal-sort-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("messages.jsonl");
        std::fs::write(
            &path,
            "{\"time\":30,\"event\":\"a\"}\n{\"time\":5,\"event\":\"b\"}\n\
             {\"time\":30,\"event\":\"c\"}\n{\"time\":7,\"event\":\"d\"}\n",
        )
        .unwrap();
        sort_journal(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let order: Vec<&str> = text.lines().map(|l| &l[l.len() - 3..l.len() - 2]).collect();
        assert_eq!(order, ["b", "d", "a", "c"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn journal_lines_parse_as_net_events() {
        let path = std::env::temp_dir().join(format!("journal-{}.jsonl", std::process::id()));
        let mut journal = Journal::create(&path).unwrap();
        journal.send(5, 1, "n0", None, "n\"1", r#"{"type":"gossip","msg_id":0}"#);
        journal.deliver(9, 1, "n0", None, "n\"1");
        journal.drop(9, 2, "n0", None, "n2", "partition");
        journal.send(
            10,
            3,
            "c4",
            Some("n1"),
            "n0",
            r#"{"type":"write","msg_id":2}"#,
        );
        journal.finish().unwrap();
        let events = checker::read_journal_file(&path).unwrap().items;
        std::fs::remove_file(&path).unwrap();
        assert_eq!(events.len(), 4);
        assert_eq!(events[0].dest, "n\"1");
        assert_eq!(events[0].body.as_ref().unwrap()["type"], "gossip");
        assert_eq!(events[2].reason.as_deref(), Some("partition"));
        assert_eq!((events[0].via.as_deref(), events[0].sender()), (None, "n0"));
        assert_eq!((events[3].src.as_str(), events[3].sender()), ("c4", "n1"));
    }

    #[test]
    fn history_lines_parse_back() {
        let path = std::env::temp_dir().join(format!("history-{}.jsonl", std::process::id()));
        let mut history = HistoryWriter::create(&path).unwrap();
        history.append(OpEvent {
            time: 1,
            process: Process::Client(0),
            node: Some("n0"),
            kind: EventType::Invoke,
            f: "read",
            value: Value::Null,
            error: None,
            is_final: true,
        });
        let events = history.finish().unwrap();
        let back = checker::read_history_file(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(events, back);
        assert!(back[0].is_final);
    }
}
