//! The router's timed events, in time order (and in the order they were scheduled at one
//! time): deliveries, client invokes and timeouts, faults, phase changes. Both backends take
//! them from here; only what "now" is differs (real or virtual time).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::{Dest, Peer};

/// Something that happens at a time.
#[derive(Debug)]
pub(super) enum Timed {
    /// Deliver a message (the whole line) that was put on the wire by `src`; `claimed` is the
    /// line's own `src` when it names another member of the network (a forward).
    Deliver {
        id: u64,
        src: Peer,
        claimed: Option<Box<str>>,
        dest: Dest,
        line: String,
    },
    /// The next client op is due (the `--rate` schedule).
    Invoke,
    /// A client's op has waited [`CLIENT_TIMEOUT`].
    ClientTimeout { client: usize, seq: u64 },
    /// A final op is retried after a failure.
    RetryFinal { client: usize },
    /// The next nemesis action.
    Nemesis(usize),
    /// Rewrite the node processes' slewing or strobing clocks.
    ClockTick,
    /// A node's `init` (or `topology`) went unanswered.
    SetupTimeout {
        node: usize,
        incarnation: u32,
        msg_id: u64,
    },
    /// The workload's time is up: heal and wait for recovery.
    EndWorkload,
    /// Recovery is over: the final ops.
    FinalOps,
    /// Give up on final ops still outstanding.
    FinalDeadline,
}

#[derive(Debug)]
struct Scheduled {
    at: u64,
    seq: u64,
    what: Timed,
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Scheduled {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

/// The queue of timed events.
#[derive(Debug, Default)]
pub(super) struct Timers {
    heap: BinaryHeap<Reverse<Scheduled>>,
    seq: u64,
}

impl Timers {
    pub fn schedule(&mut self, at: u64, what: Timed) {
        self.seq += 1;
        self.heap.push(Reverse(Scheduled {
            at,
            seq: self.seq,
            what,
        }));
    }

    /// When the next event is due.
    pub fn next_at(&self) -> Option<u64> {
        self.heap.peek().map(|Reverse(s)| s.at)
    }

    /// The next event, if it is due at `now` or before.
    pub fn pop_due(&mut self, now: u64) -> Option<(u64, Timed)> {
        if self.next_at()? > now {
            return None;
        }
        self.pop()
    }

    /// The next event, whenever it is due.
    pub fn pop(&mut self) -> Option<(u64, Timed)> {
        self.heap.pop().map(|Reverse(s)| (s.at, s.what))
    }
}
