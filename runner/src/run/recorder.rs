//! The recorder: what a run writes down as it goes, shared by both backends. Every message is
//! journaled and counted in one call ([`Recorder::send`], [`Recorder::deliver`],
//! [`Recorder::drop`]), so `messages.jsonl` and the network counts of `results.json` can never
//! disagree; operations and faults go to the history, what the nodes did wrong to the
//! problems.

use checker::NetEventKind;

use crate::problems::Problems;
use crate::record::{HistoryWriter, Journal};

pub(super) struct Recorder {
    pub journal: Journal,
    pub history: HistoryWriter,
    pub problems: Problems,
    /// Send / deliver / drop counts, by who sent: a forward counts for the node that wrote
    /// it (`via`), not for the client whose id it carries.
    pub net: checker::stats::NetStats,
    /// The id of the next message.
    next_message: u64,
    /// Whether message bodies are scanned for broadcast values (broadcast runs only: the
    /// scan is work on every send).
    count_copies: bool,
}

impl Recorder {
    /// A recorder writing to `journal` and `history`; `count_copies` for a broadcast run.
    pub fn new(journal: Journal, history: HistoryWriter, count_copies: bool) -> Recorder {
        Recorder {
            journal,
            history,
            problems: Problems::default(),
            net: checker::stats::NetStats::default(),
            next_message: 0,
            count_copies,
        }
    }

    /// A fresh message id.
    pub fn next_id(&mut self) -> u64 {
        let id = self.next_message;
        self.next_message += 1;
        id
    }

    /// The id the next message will get (without taking it).
    pub fn peek_id(&self) -> u64 {
        self.next_message
    }

    /// Message `id`, from `src` (written by `via` when it is a forward) to `dest`, with `body`.
    #[allow(clippy::too_many_arguments)]
    pub fn send(&mut self, at: u64, id: u64, src: &str, via: Option<&str>, dest: &str, body: &str) {
        self.journal.send(at, id, src, via, dest, body);
        self.net
            .record(NetEventKind::Send, via.unwrap_or(src), dest);
        if self.count_copies {
            self.net.record_body(via.unwrap_or(src), dest, body);
        }
    }

    /// [`Recorder::send`] of a message the Byzantine nemesis altered or made up, with `note`
    /// (what was done, and the original) in the journal.
    #[allow(clippy::too_many_arguments)]
    pub fn send_altered(
        &mut self,
        at: u64,
        id: u64,
        src: &str,
        dest: &str,
        body: &str,
        note: &str,
    ) {
        self.journal
            .send_altered(at, id, src, None, dest, body, note);
        self.net.record(NetEventKind::Send, src, dest);
        if self.count_copies {
            self.net.record_body(src, dest, body);
        }
    }

    pub fn deliver(&mut self, at: u64, id: u64, src: &str, via: Option<&str>, dest: &str) {
        self.journal.deliver(at, id, src, via, dest);
        self.net
            .record(NetEventKind::Deliver, via.unwrap_or(src), dest);
    }

    #[allow(clippy::too_many_arguments)]
    pub fn drop(
        &mut self,
        at: u64,
        id: u64,
        src: &str,
        via: Option<&str>,
        dest: &str,
        reason: &str,
    ) {
        self.journal.drop(at, id, src, via, dest, reason);
        self.net
            .record(NetEventKind::Drop, via.unwrap_or(src), dest);
    }
}
