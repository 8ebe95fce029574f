//! Checking independent sub-histories on several threads, under one time and memory budget.
//!
//! Every sub-history first gets one slice on the calling thread (small histories end there);
//! the rest advance in slices of a growing number of search steps, taken in turn
//! from one queue by every thread, so a cheap failure is found early even when other keys
//! need a long search (as Porcupine's goroutines do). The failure reported is the one found
//! with the fewest search steps (ties: the first key): once a failure is found after `s`
//! steps, every other search stops when it has done `s` steps without failing, since it can
//! no longer win. So the witness does not depend on thread timing.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Instant;

use super::prepare::Partition;
use super::search::{Progress, Search, SearchOutcome, Stop};

/// The first slice of search steps a sub-history gets; each later slice doubles its total.
const FIRST_SLICE: u64 = 1 << 14;

/// The shared budget and stop flags.
#[derive(Debug)]
pub(crate) struct Control {
    deadline: Option<Instant>,
    memory_limit: Option<u64>,
    memory_used: AtomicU64,
    memory_peak: AtomicU64,
    /// 0 none, 1 time, 2 memory.
    exhausted: AtomicU8,
    /// The fewest steps after which a failure was found (`u64::MAX`: none yet).
    failure_steps: AtomicU64,
}

impl Control {
    pub(crate) fn new(deadline: Option<Instant>, memory_limit: Option<u64>) -> Control {
        Control {
            deadline,
            memory_limit,
            memory_used: AtomicU64::new(0),
            memory_peak: AtomicU64::new(0),
            exhausted: AtomicU8::new(0),
            failure_steps: AtomicU64::new(u64::MAX),
        }
    }

    /// Account `bytes` more memory; then say whether a search that has done `steps` steps
    /// without a verdict must stop.
    pub(crate) fn should_stop(&self, steps: u64, bytes: u64) -> Option<Stop> {
        let used = self.add_memory(bytes);
        match self.exhausted.load(Ordering::Relaxed) {
            1 => return Some(Stop::Time),
            2 => return Some(Stop::Memory),
            _ => {}
        }
        if steps >= self.failure_steps.load(Ordering::Relaxed) {
            return Some(Stop::Aborted);
        }
        if self.memory_limit.is_some_and(|limit| used > limit) {
            self.exhausted.store(2, Ordering::Relaxed);
            return Some(Stop::Memory);
        }
        if self.deadline.is_some_and(|d| Instant::now() > d) {
            self.exhausted.store(1, Ordering::Relaxed);
            return Some(Stop::Time);
        }
        None
    }

    /// Account `bytes` more memory; the total now held.
    pub(crate) fn add_memory(&self, bytes: u64) -> u64 {
        let used = self.memory_used.fetch_add(bytes, Ordering::Relaxed) + bytes;
        self.memory_peak.fetch_max(used, Ordering::Relaxed);
        used
    }

    /// A search ended and freed its memo of `bytes`.
    fn release_memory(&self, bytes: u64) {
        self.memory_used.fetch_sub(bytes, Ordering::Relaxed);
    }

    /// The most memo memory held at once, as sampled (every few thousand search steps).
    pub(crate) fn memory_peak(&self) -> u64 {
        self.memory_peak.load(Ordering::Relaxed)
    }
}

struct Slot<'p> {
    partition: &'p mut Partition,
    search: Option<Search>,
    outcome: Option<SearchOutcome>,
    /// Steps done when the verdict came.
    steps: u64,
}

struct Queue {
    ready: VecDeque<usize>,
    running: usize,
}

/// Search every partition on up to `threads` threads. Returns one outcome per partition, in
/// order, and the index of the reported failure, if any.
pub(crate) fn run_all(
    partitions: &mut [Partition],
    threads: usize,
    ctl: &Control,
) -> (Vec<SearchOutcome>, Option<usize>) {
    let count = partitions.len();
    let slots: Vec<Mutex<Slot<'_>>> = partitions
        .iter_mut()
        .map(|partition| {
            Mutex::new(Slot {
                partition,
                search: None,
                outcome: None,
                steps: 0,
            })
        })
        .collect();
    // A first slice of every search on this thread: small histories finish here, without
    // the cost of starting threads.
    let mut ready = VecDeque::new();
    for (i, slot) in slots.iter().enumerate() {
        if let Ok(mut slot) = slot.lock()
            && run_slice(&mut slot, ctl)
        {
            ready.push_back(i);
        }
    }
    let queue = Mutex::new(Queue { ready, running: 0 });
    let wake = Condvar::new();
    let work = || {
        loop {
            let i = {
                let Ok(mut q) = queue.lock() else { return };
                loop {
                    if let Some(i) = q.ready.pop_front() {
                        q.running += 1;
                        break i;
                    }
                    if q.running == 0 {
                        wake.notify_all();
                        return;
                    }
                    q = match wake.wait(q) {
                        Ok(q) => q,
                        Err(_) => return,
                    };
                }
            };
            let paused = match slots[i].lock() {
                Ok(mut slot) => run_slice(&mut slot, ctl),
                Err(_) => false,
            };
            let Ok(mut q) = queue.lock() else { return };
            q.running -= 1;
            if paused {
                q.ready.push_back(i);
            }
            wake.notify_all();
        }
    };
    let remaining = queue.lock().map_or(0, |q| q.ready.len());
    let threads = threads.clamp(1, remaining.max(1));
    if threads > 1 {
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(work);
            }
        });
    } else if remaining > 0 {
        work();
    }
    let mut outcomes = Vec::with_capacity(count);
    let mut failure: Option<(u64, usize)> = None;
    for (i, slot) in slots.into_iter().enumerate() {
        let (outcome, steps) = match slot.into_inner() {
            Ok(slot) => (
                slot.outcome
                    .unwrap_or(SearchOutcome::Stopped(Stop::Aborted)),
                slot.steps,
            ),
            Err(_) => (SearchOutcome::Stopped(Stop::Aborted), 0),
        };
        if matches!(outcome, SearchOutcome::NotLinearizable(_))
            && failure.is_none_or(|(s, _)| steps < s)
        {
            failure = Some((steps, i));
        }
        outcomes.push(outcome);
    }
    (outcomes, failure.map(|(_, i)| i))
}

/// Run one slice of a partition's search; true when it paused and must be queued again.
fn run_slice(slot: &mut Slot<'_>, ctl: &Control) -> bool {
    let partition = &mut *slot.partition;
    let search = slot.search.get_or_insert_with(|| Search::new(partition));
    let budget = (search.steps * 2).max(FIRST_SLICE);
    match search.run(partition, ctl, budget) {
        Progress::Paused => true,
        Progress::Done(outcome) => {
            slot.steps = search.steps;
            if matches!(outcome, SearchOutcome::NotLinearizable(_)) {
                ctl.failure_steps.fetch_min(search.steps, Ordering::Relaxed);
            }
            ctl.release_memory(search.reported_bytes());
            slot.search = None;
            slot.outcome = Some(outcome);
            false
        }
    }
}
