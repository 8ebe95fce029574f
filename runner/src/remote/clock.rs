//! Time across machines: each agent's clock offset to the controller, measured as NTP does.
//!
//! The controller sends a probe at t0 (its clock), the agent reads it at t1 and answers at t2
//! (the agent's clock), and the answer arrives at t3 (the controller's clock). Then, as in the
//! course's lecture on physical clocks,
//!
//! - the round-trip delay is δ = (t3 − t0) − (t2 − t1), the time spent on the network;
//! - the offset is θ = ((t1 − t0) + (t2 − t3)) / 2, how far the agent's clock is ahead;
//! - the estimate is exact if both directions took equally long, and off by at most δ / 2
//!   otherwise: that is its uncertainty.
//!
//! Of all probes the one with the least delay is kept (its uncertainty is the smallest), as
//! NTP's clock filter does. An agent's timestamp `t` is then the controller's `t − θ`.

/// One probe's result, in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    pub offset: i64,
    pub delay: u64,
}

impl Sample {
    /// NTP's offset and delay from the four timestamps (t0 and t3 on the controller's clock,
    /// t1 and t2 on the agent's).
    pub fn from_timestamps(t0: i128, t1: i128, t2: i128, t3: i128) -> Sample {
        let delay = ((t3 - t0) - (t2 - t1)).max(0);
        let offset = ((t1 - t0) + (t2 - t3)) / 2;
        Sample {
            offset: offset.clamp(i64::MIN as i128, i64::MAX as i128) as i64,
            delay: delay.min(u64::MAX as i128) as u64,
        }
    }

    /// How far the true offset may be from `offset`.
    pub fn uncertainty(&self) -> u64 {
        self.delay / 2
    }
}

/// An agent's clock as the controller knows it: the best probe so far.
#[derive(Debug, Clone, Default)]
pub struct ClockEstimate {
    best: Option<Sample>,
    pub probes: u32,
}

impl ClockEstimate {
    pub fn add(&mut self, sample: Sample) {
        self.probes += 1;
        if self.best.is_none_or(|best| sample.delay < best.delay) {
            self.best = Some(sample);
        }
    }

    pub fn best(&self) -> Option<Sample> {
        self.best
    }

    /// The controller's clock reading for the agent's reading `t` (both in nanoseconds since
    /// the Unix epoch).
    pub fn to_controller(&self, t: u64) -> i128 {
        i128::from(t) - i128::from(self.best.map_or(0, |s| s.offset))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ntp_offset_and_delay_match_the_textbook() {
        // The agent is 5 s ahead; 10 ms out, 30 ms back, 1 ms to answer.
        let (t0, t1, t2, t3) = (0, 5_010, 5_011, 41);
        let s = Sample::from_timestamps(t0, t1, t2, t3);
        assert_eq!(s.delay, 40);
        // Asymmetric paths bias the estimate by (10 - 30) / 2 = -10, within delay / 2.
        assert_eq!(s.offset, 4_990);
        assert!((s.offset - 5_000).unsigned_abs() <= s.uncertainty());
        let mut clock = ClockEstimate::default();
        clock.add(s);
        clock.add(Sample::from_timestamps(100, 5_105, 5_105, 110));
        assert_eq!(clock.best().unwrap().delay, 10);
        assert_eq!(clock.best().unwrap().offset, 5_000);
        assert_eq!(clock.to_controller(6_000), 1_000);
        clock.add(Sample::from_timestamps(0, 9_000, 9_000, 500));
        assert_eq!(
            clock.best().unwrap().offset,
            5_000,
            "a slower probe is not kept"
        );
        assert_eq!(clock.probes, 3);
    }
}
