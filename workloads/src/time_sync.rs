//! `time-sync`: each node keeps a synchronised clock from the harness's `time-server`, and
//! clients ask what it reads (the course's 3.2 "Clock synchronisation", NTP; the physical
//! clocks of 3.1). The harness knows the true time, so it can say how far off each node was.
//!
//! As the workload starts, the harness bends every node's wall clock by an offset drawn from
//! the seed ([`initial_offsets`]): some a few milliseconds off (to be slewed away), some
//! seconds off (to be stepped), and `--unfixable` of them (1 by default) thousands of seconds
//! off, beyond NTP's panic threshold of 1000 s (the node should refuse them and say so). The
//! offsets are clock steps in the history, as the clock nemesis records them, so
//! [`checker::clocks`] knows every clock; `--nemesis clock` bends them further as the run goes.
//!
//! Op mix: every op is `read_time` (invoke value `null`); request `read_time`, reply
//! `read_time_ok {time, state}` with `time` in microseconds since the Unix epoch and `state`
//! one of `synchronised`, `slewing`, `unsynchronised`, `panicked` (missing: unsynchronised);
//! the `ok` value is `{time, state}`. A read is idempotent (`fail` on a timeout). No final
//! op: nothing heals at the end, so the clocks stay as they were bent.
//!
//! Checked by [`checker::time_sync`]: after the convergence allowance (`--convergence-s`, 3 s
//! by default) every read from a node that says it is synchronised must be within the target
//! skew (`--target-skew-ms`; by default 25 ms plus the `--latency` mean, since NTP's offset
//! is off by up to half the round trip).

use std::time::Duration;

use proto::{Body, Payload};
use rand::Rng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::op::{Completion, ErrorInfo, Op, OpError, complete_with, unexpected};
use checker::{Check, Event};

use crate::{Spec, Workload, WorkloadKind, WorkloadOptions, client_events};

/// The workload's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeSyncOptions {
    /// How far a synchronised clock may be from the true time, in ms (`--target-skew-ms`).
    pub target_skew_ms: u64,
    /// How long after a change of its clock a node's claim is not judged, in ms
    /// (`--convergence-s`).
    pub convergence_ms: u64,
    /// How many nodes start beyond the panic threshold (`--unfixable`).
    pub unfixable: u32,
}

impl Default for TimeSyncOptions {
    fn default() -> Self {
        let check = checker::time_sync::TimeSyncOptions::default();
        TimeSyncOptions {
            target_skew_ms: check.target_skew.as_millis() as u64,
            convergence_ms: check.convergence.as_millis() as u64,
            unfixable: 1,
        }
    }
}

impl TimeSyncOptions {
    /// What the checker allows.
    pub fn check(&self) -> checker::time_sync::TimeSyncOptions {
        checker::time_sync::TimeSyncOptions {
            target_skew: Duration::from_millis(self.target_skew_ms),
            convergence: Duration::from_millis(self.convergence_ms),
        }
    }
}

/// The offset (ms) of each of `nodes` nodes' wall clocks as the workload starts, drawn from
/// `rng`: in a random order of the nodes, `unfixable` of them (at most all but one) ±1500 to
/// 3000 s off; of the rest, the first ±1 to 100 ms off (a slew), the second ±0.2 to 5 s (a
/// step), and each other one of the two at random. Never 0.
pub fn initial_offsets(nodes: usize, unfixable: u32, rng: &mut ChaCha8Rng) -> Vec<i64> {
    let mut order: Vec<usize> = (0..nodes).collect();
    order.shuffle(rng);
    let unfixable = (unfixable as usize).min(nodes.saturating_sub(1));
    let mut offsets = vec![0; nodes];
    for (rank, &node) in order.iter().enumerate() {
        let sign = if rng.random_bool(0.5) { 1 } else { -1 };
        let size = if rank < unfixable {
            rng.random_range(1_500_000..=3_000_000)
        } else {
            let near = match rank - unfixable {
                0 => true,
                1 => false,
                _ => rng.random_bool(0.5),
            };
            if near {
                rng.random_range(1..=100)
            } else {
                rng.random_range(200..=5_000)
            }
        };
        offsets[node] = sign * size;
    }
    offsets
}

/// The time-sync workload.
#[derive(Debug, Clone, Default)]
pub struct TimeSync {
    options: TimeSyncOptions,
}

impl Spec for TimeSync {
    const NAME: &'static str = "time-sync";
    const ABOUT: &'static str =
        "read_time -> read_time_ok {time, state}: synchronised clocks within the target skew";
    const SEMANTICS: &'static str = "after the convergence allowance, every read of a node that says it is synchronised is within the target skew of the true time; a node that panicked is named, not failed";
    const CHECK: Check = Check::TimeSync;

    fn start(options: &WorkloadOptions) -> Self {
        TimeSync {
            options: options.time_sync,
        }
    }

    fn shows(events: &[Event]) -> bool {
        client_events(events).any(|e| e.f == "read_time")
    }
}

impl Workload for TimeSync {
    fn kind(&self) -> WorkloadKind {
        WorkloadKind::TimeSync
    }

    fn next_op(&mut self, _rng: &mut ChaCha8Rng) -> Op {
        Op::new("read_time", Value::Null)
    }

    fn request(&self, op: &Op) -> Result<Payload, OpError> {
        match op.f.as_str() {
            "read_time" => Ok(Payload::ReadTime),
            _ => Err(OpError::new(Self::NAME, op)),
        }
    }

    fn complete(&self, op: &Op, reply: &Body) -> Completion {
        complete_with(op, true, reply, |reply| match &reply.payload {
            Payload::ReadTimeOk { time, state } => Ok(json!({
                "time": time,
                "state": state.as_deref().unwrap_or("unsynchronised"),
            })),
            _ => Err(unexpected(reply, "read_time_ok")),
        })
    }

    fn timeout(&self, op: &Op) -> Completion {
        Completion::uncertain(op, true, ErrorInfo::timeout())
    }

    fn final_op(&self) -> Option<Op> {
        None
    }

    fn sends_topology(&self) -> bool {
        false
    }

    fn initial_clock_offsets(&self, nodes: usize, rng: &mut ChaCha8Rng) -> Vec<i64> {
        initial_offsets(nodes, self.options.unfixable, rng)
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn initial_offsets_include_a_slew_a_step_and_the_unfixable_node_and_follow_the_seed() {
        for seed in 0..20 {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let offsets = initial_offsets(5, 1, &mut rng);
            let abs: Vec<i64> = offsets.iter().map(|o| o.abs()).collect();
            assert_eq!(
                abs.iter().filter(|&&a| a >= 1_500_000).count(),
                1,
                "{offsets:?}"
            );
            assert!(abs.iter().any(|&a| (1..=100).contains(&a)), "{offsets:?}");
            assert!(
                abs.iter().any(|&a| (200..=5_000).contains(&a)),
                "{offsets:?}"
            );
            let mut again = ChaCha8Rng::seed_from_u64(seed);
            assert_eq!(initial_offsets(5, 1, &mut again), offsets);
        }
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let one = initial_offsets(1, 1, &mut rng);
        assert!(
            one[0].abs() <= 100,
            "a lone node is never unfixable: {one:?}"
        );
    }

    #[test]
    fn a_read_time_ok_is_the_time_and_the_state() {
        let w = TimeSync::default();
        let op = Op::new("read_time", Value::Null);
        let reply = Body::new(Payload::ReadTimeOk {
            time: 5,
            state: None,
        });
        let c = w.complete(&op, &reply);
        assert_eq!(c.value, json!({"time": 5, "state": "unsynchronised"}));
    }
}
