//! The op schedule of a run, and fingerprints of what a seed decides.
//!
//! With real processes, a run is reproducible only in part: the seed decides *what* the clients
//! ask and *when* the faults come, while the machine's timing decides how the nodes interleave.
//! So the op schedule is drawn from the seed alone, apart from anything timing can touch: the
//! invocation times (Jepsen's stagger, uniform in `[0, 2 / rate]`) from one ChaCha stream, the
//! ops from another, in their own order. A run invokes a prefix of this schedule (an op waits,
//! and is not skipped, while every client is busy), so two runs with one seed ask the same
//! things in the same order; which client asks, and how the nodes answer, may differ.
//!
//! `results.json` records a [`Fingerprint`] of the planned op schedule and of the fault
//! schedule ([`crate::nemesis::plan`]), with how much of each the run carried out, so two runs
//! can be compared: equal fingerprints mean the same ops and faults were planned; what still
//! differed was timing.

use std::io::Write as _;
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use workloads::{Op, Workload, WorkloadKind, WorkloadOptions};

use crate::nemesis::ScheduledAction;

/// The ChaCha streams of the op schedule, apart from every other user of the run's seed.
const TIMES_STREAM: u64 = 0x6f_70_74;
const OPS_STREAM: u64 = 0x6f_70_73;

/// At most this many planned ops are fingerprinted (a run at an absurd rate plans more than
/// it could ever invoke).
pub const FINGERPRINTED_OPS: u64 = 10_000_000;

/// A stable 64-bit hash (FNV-1a) of a sequence of texts, shown as 16 hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint(u64);

impl Default for Fingerprint {
    fn default() -> Self {
        Fingerprint(0xcbf2_9ce4_8422_2325)
    }
}

impl Fingerprint {
    /// Add one item (its text, then a separator).
    pub fn add(&mut self, text: &str) {
        self.bytes(text.as_bytes());
        self.end();
    }

    fn bytes(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }

    /// End an item written piece by piece (through [`std::io::Write`]): the separator.
    fn end(&mut self) {
        self.bytes(b"\n");
    }

    /// The hex digits.
    pub fn hex(self) -> String {
        format!("{:016x}", self.0)
    }
}

/// Text written to a fingerprint is hashed as it comes, with no copy: the same bytes give the
/// same fingerprint as [`Fingerprint::add`] of their concatenation.
impl std::io::Write for Fingerprint {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.bytes(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The client ops of a run, in order, with the time each is due (since the workload began).
pub struct OpSchedule {
    workload: Box<dyn Workload>,
    /// How many ops were taken.
    taken: u64,
    times: ChaCha8Rng,
    ops: ChaCha8Rng,
    mean_gap_ns: f64,
    next_at: u64,
}

impl OpSchedule {
    /// The schedule of `workload` at `rate` ops per second, drawn from `seed`.
    pub fn new(workload: Box<dyn Workload>, rate: f64, seed: u64) -> Self {
        let mut times = ChaCha8Rng::seed_from_u64(seed);
        times.set_stream(TIMES_STREAM);
        let mut ops = ChaCha8Rng::seed_from_u64(seed);
        ops.set_stream(OPS_STREAM);
        let mean_gap_ns = if rate > 0.0 {
            1e9 / rate
        } else {
            f64::INFINITY
        };
        let mut schedule = OpSchedule {
            workload,
            taken: 0,
            times,
            ops,
            mean_gap_ns,
            next_at: 0,
        };
        schedule.next_at = schedule.gap();
        schedule
    }

    fn gap(&mut self) -> u64 {
        // Jepsen's stagger: uniform in [0, 2 / rate], so the mean rate is `rate`.
        let gap = self.times.random::<f64>() * 2.0 * self.mean_gap_ns;
        if gap.is_finite() {
            gap as u64
        } else {
            u64::MAX
        }
    }

    /// When the next invocation is due (nanoseconds since the workload began; `u64::MAX`
    /// when the rate is 0).
    pub fn next_at(&self) -> u64 {
        self.next_at
    }

    /// The invocation due now has happened (or was put off): the next one's time.
    pub fn tick(&mut self) -> u64 {
        self.next_at = self.next_at.saturating_add(self.gap());
        self.next_at
    }

    /// The next op, in schedule order.
    pub fn next_op(&mut self) -> Op {
        self.taken += 1;
        self.workload.next_op(&mut self.ops)
    }

    /// How many ops were taken with [`OpSchedule::next_op`].
    pub fn taken(&self) -> u64 {
        self.taken
    }

    /// The workload, for requests and completions.
    pub fn workload(&self) -> &dyn Workload {
        self.workload.as_ref()
    }

    /// The workload, for what its clients keep between ops ([`Workload::prepare`],
    /// [`Workload::observe`]). The planned ops do not depend on it: they come from the seed.
    pub fn workload_mut(&mut self) -> &mut dyn Workload {
        self.workload.as_mut()
    }
}

/// What a seed planned, and how much of it a run carried out (`results.json`, `run.schedule`).
#[derive(Debug, Clone, Serialize)]
pub struct ScheduleRecord {
    /// Fingerprint of the planned ops (time due and op, in order) up to the time limit (for a
    /// run interrupted, up to the moment it stopped: it is only compared with itself, and a
    /// signal is honoured at once).
    pub ops_fingerprint: String,
    /// How many ops were planned up to the time limit, or for a run interrupted up to the
    /// moment it stopped (at most [`FINGERPRINTED_OPS`]).
    pub ops_planned: u64,
    /// How many of them the run invoked (always the first ones).
    pub ops_invoked: u64,
    /// How many were invoked later than planned because every client was busy.
    pub ops_late: u64,
    /// Fingerprint of the fault schedule.
    pub faults_fingerprint: String,
    /// How many fault actions were planned.
    pub faults_planned: u64,
    /// How many the run carried out.
    pub faults_done: u64,
}

/// The fingerprint of the op schedule that `kind` with `options` plans at `rate` from `seed`
/// over `limit`, and how many ops it plans.
pub fn ops_fingerprint(
    kind: WorkloadKind,
    options: &WorkloadOptions,
    rate: f64,
    seed: u64,
    limit: Duration,
) -> (Fingerprint, u64) {
    let mut schedule = OpSchedule::new(workloads::workload(kind, options), rate, seed);
    let limit = u64::try_from(limit.as_nanos()).unwrap_or(u64::MAX);
    let mut print = Fingerprint::default();
    let mut count = 0;
    while schedule.next_at() < limit && count < FINGERPRINTED_OPS {
        let op = schedule.next_op();
        // `{next_at} {f} {value as JSON}`, hashed without building the text.
        let _ = write!(print, "{} {} ", schedule.next_at(), op.f);
        let _ = serde_json::to_writer(&mut print, &op.value);
        print.end();
        schedule.tick();
        count += 1;
    }
    (print, count)
}

/// The fingerprint of a fault schedule.
pub fn faults_fingerprint(plan: &[ScheduledAction]) -> Fingerprint {
    let mut print = Fingerprint::default();
    for step in plan {
        print.add(&format!(
            "{} {} {} {}",
            step.at.as_nanos(),
            step.episode,
            step.action.f(),
            step.action.value()
        ));
    }
    print
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_seed_one_op_schedule_and_the_fingerprint_tells_seeds_apart() {
        let kind = WorkloadKind::Broadcast;
        let options = WorkloadOptions::default();
        let limit = Duration::from_secs(10);
        let a = ops_fingerprint(kind, &options, 20.0, 1, limit);
        assert_eq!(a, ops_fingerprint(kind, &options, 20.0, 1, limit));
        assert_ne!(a.0, ops_fingerprint(kind, &options, 20.0, 2, limit).0);
        assert!((150..250).contains(&a.1), "about 200 ops: {}", a.1);
        let mut schedule = OpSchedule::new(workloads::workload(kind, &options), 20.0, 1);
        let first: Vec<(u64, String)> = (0..5)
            .map(|_| {
                let op = schedule.next_op();
                let at = schedule.next_at();
                schedule.tick();
                (at, format!("{} {}", op.f, op.value))
            })
            .collect();
        let mut again = OpSchedule::new(workloads::workload(kind, &options), 20.0, 1);
        // Consuming ops later (clients busy) does not change which ops come, nor when they
        // were due.
        let times: Vec<u64> = (0..5).map(|_| (again.next_at(), again.tick()).0).collect();
        let ops: Vec<String> = (0..5)
            .map(|_| {
                let op = again.next_op();
                format!("{} {}", op.f, op.value)
            })
            .collect();
        assert_eq!(first.iter().map(|(t, _)| *t).collect::<Vec<_>>(), times);
        assert_eq!(first.into_iter().map(|(_, o)| o).collect::<Vec<_>>(), ops);
    }

    #[test]
    fn the_fingerprint_hashes_each_op_as_its_text() {
        let kind = WorkloadKind::LinKv;
        let options = WorkloadOptions::default();
        let limit = Duration::from_secs(2);
        let mut schedule = OpSchedule::new(workloads::workload(kind, &options), 50.0, 3);
        let mut by_text = Fingerprint::default();
        let mut count = 0;
        while schedule.next_at() < limit.as_nanos() as u64 {
            let op = schedule.next_op();
            by_text.add(&format!("{} {} {}", schedule.next_at(), op.f, op.value));
            schedule.tick();
            count += 1;
        }
        assert_eq!(
            ops_fingerprint(kind, &options, 50.0, 3, limit),
            (by_text, count)
        );
    }

    #[test]
    fn a_zero_rate_plans_nothing() {
        let (_, count) = ops_fingerprint(
            WorkloadKind::Echo,
            &WorkloadOptions::default(),
            0.0,
            1,
            Duration::from_secs(5),
        );
        assert_eq!(count, 0);
    }
}
