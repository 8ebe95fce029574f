//! The nodes' wall clocks (`--nemesis clock`): one [`NodeClock`] per node, bent and reset by the
//! nemesis. A simulated node reads its clock from here at every event (the simulator's time of
//! day plus the offset); a node process reads the system's clock through libfaketime, whose
//! control file ([`FakeTime`]) is rewritten here whenever the offset changes, and, while a
//! clock slews or strobes, every [`TICK`].

use std::collections::BTreeSet;
use std::time::Duration;

use checker::clocks::{ClockFault, NodeClock};

use crate::faketime::FakeTime;

/// How often a process's moving clock (slewing, strobing) is rewritten.
pub(super) const TICK: Duration = Duration::from_millis(10);

/// Every node's wall clock.
pub(super) struct NodeClocks {
    ids: Vec<String>,
    clocks: Vec<NodeClock>,
    /// The process backend's control files (None under `--sim`, and without clock faults).
    files: Option<FakeTime>,
    /// The nodes whose clocks are bent and not reset yet.
    bent: BTreeSet<usize>,
    /// True while a [`TICK`] is scheduled.
    pub ticking: bool,
}

impl NodeClocks {
    pub fn new(ids: &[String], files: Option<FakeTime>) -> NodeClocks {
        NodeClocks {
            ids: ids.to_vec(),
            clocks: vec![NodeClock::default(); ids.len()],
            files,
            bent: BTreeSet::new(),
            ticking: false,
        }
    }

    /// Node `node`'s offset from true time at `t` (ns since the run started).
    pub fn offset(&self, node: usize, t: u64) -> i64 {
        self.clocks.get(node).map_or(0, |c| c.offset_at(t))
    }

    /// What simulated node `node`'s wall clock reads at virtual time `t`.
    pub fn reading(&self, node: usize, t: u64) -> Duration {
        let true_time = ::nodes::WALL_CLOCK_EPOCH + Duration::from_nanos(t);
        let offset = self.offset(node, t);
        if offset >= 0 {
            true_time + Duration::from_nanos(offset.unsigned_abs())
        } else {
            true_time.saturating_sub(Duration::from_nanos(offset.unsigned_abs()))
        }
    }

    /// Bend node `node`'s clock by `fault` at `at`, or set it right (`None`).
    pub fn change(
        &mut self,
        node: usize,
        fault: Option<ClockFault>,
        at: u64,
    ) -> std::io::Result<()> {
        let Some(clock) = self.clocks.get_mut(node) else {
            return Ok(());
        };
        match fault {
            Some(fault) => {
                clock.apply(fault, at);
                self.bent.insert(node);
            }
            None => {
                clock.reset(at);
                self.bent.remove(&node);
            }
        }
        self.write(node, at)
    }

    /// The nodes whose clocks are bent and not reset yet.
    pub fn bent(&self) -> Vec<String> {
        self.bent.iter().map(|&i| self.ids[i].clone()).collect()
    }

    /// True when a process's clock must be rewritten as time goes.
    pub fn needs_ticks(&self) -> bool {
        self.files.is_some() && self.clocks.iter().any(NodeClock::is_moving)
    }

    /// Rewrite the control file of every moving clock for time `at`.
    pub fn tick(&self, at: u64) -> std::io::Result<()> {
        for node in 0..self.clocks.len() {
            if self.clocks[node].is_moving() {
                self.write(node, at)?;
            }
        }
        Ok(())
    }

    fn write(&self, node: usize, at: u64) -> std::io::Result<()> {
        match &self.files {
            Some(files) => files.write_offset(&self.ids[node], self.offset(node, at)),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_simulated_clock_reads_the_virtual_time_of_day_plus_its_offset() {
        let ids = vec!["n0".to_owned(), "n1".to_owned()];
        let mut clocks = NodeClocks::new(&ids, None);
        let t = 3_000_000_000;
        clocks
            .change(1, Some(ClockFault::Step { delta_ms: -1_500 }), t)
            .unwrap();
        let true_time = ::nodes::WALL_CLOCK_EPOCH + Duration::from_secs(4);
        assert_eq!(clocks.reading(0, 4_000_000_000), true_time);
        assert_eq!(
            clocks.reading(1, 4_000_000_000),
            true_time - Duration::from_millis(1_500)
        );
        assert_eq!(clocks.bent(), vec!["n1".to_owned()]);
        assert!(!clocks.needs_ticks(), "no process clocks to rewrite");
        clocks.change(1, None, 5_000_000_000).unwrap();
        assert!(clocks.bent().is_empty());
        assert_eq!(
            clocks.reading(1, 6_000_000_000),
            ::nodes::WALL_CLOCK_EPOCH + Duration::from_secs(6)
        );
    }
}
