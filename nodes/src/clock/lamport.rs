//! Lamport clocks (the course's "Lamport clocks"): a counter `t` per node, incremented on every
//! local event, and on receipt of a timestamp `t'` set to `max(t, t') + 1`. If event `a`
//! happens before event `b` then `L(a) < L(b)`; the converse does not hold.

use serde::{Deserialize, Serialize};

/// A Lamport clock. Its value only ever grows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LamportClock {
    time: u64,
}

impl LamportClock {
    /// A clock reading 0: no event has happened yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The current value: the timestamp of the last event.
    pub fn time(&self) -> u64 {
        self.time
    }

    /// A local event (for example sending a message): `t = t + 1`. Returns the event's
    /// timestamp.
    pub fn tick(&mut self) -> u64 {
        self.time = self.time.saturating_add(1);
        self.time
    }

    /// Receipt of a message stamped `remote`: `t = max(t, remote) + 1`. Returns the receive
    /// event's timestamp, which is greater than both the old value and `remote`.
    pub fn observe(&mut self, remote: u64) -> u64 {
        self.time = self.time.max(remote).saturating_add(1);
        self.time
    }

    /// Move the clock forward to at least `floor` without counting an event (used when a
    /// restarted node learns which timestamps its earlier incarnation issued).
    pub fn advance_to(&mut self, floor: u64) {
        self.time = self.time.max(floor);
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn tick_counts_local_events() {
        let mut clock = LamportClock::new();
        assert_eq!(clock.time(), 0);
        assert_eq!(clock.tick(), 1);
        assert_eq!(clock.tick(), 2);
    }

    #[test]
    fn observe_jumps_past_the_remote_timestamp() {
        let mut clock = LamportClock::new();
        assert_eq!(clock.observe(7), 8);
        // An older remote timestamp still counts as an event.
        assert_eq!(clock.observe(3), 9);
    }

    #[test]
    fn advance_to_never_goes_back() {
        let mut clock = LamportClock::new();
        clock.advance_to(5);
        assert_eq!(clock.time(), 5);
        clock.advance_to(2);
        assert_eq!(clock.time(), 5);
        assert_eq!(clock.tick(), 6);
    }

    proptest! {
        /// Send/receive along any sequence of messages: every receive is stamped later than
        /// the send it observes (the clock condition), and each clock is strictly increasing.
        #[test]
        fn receive_is_later_than_send(events in prop::collection::vec((0usize..3, 0usize..3), 1..60)) {
            let mut clocks = [LamportClock::new(); 3];
            for (from, to) in events {
                let before_from = clocks[from].time();
                let sent = clocks[from].tick();
                prop_assert!(sent > before_from);
                let before_to = clocks[to].time();
                let received = clocks[to].observe(sent);
                prop_assert!(received > sent);
                prop_assert!(received > before_to);
            }
        }
    }
}
