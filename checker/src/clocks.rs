//! The nodes' physical clocks as the clock nemesis bent them: the course's 3.1 ("Physical
//! time"): quartz clocks drift, NTP slews a clock (makes it run a little fast or slow) to
//! correct a small offset and steps it (jumps) to correct a large one, and a leap second makes
//! a clock repeat or skip a second. A node's *wall clock* (time of day) is the true time plus
//! an offset that these faults change; its *monotonic clock* never jumps and is not touched.
//!
//! One [`NodeClock`] per node says what the offset is at any instant; the harness applies the
//! faults to it as it runs them (writing the offset where the node's clock reads it), and a
//! checker rebuilds the same clocks from the history's nemesis events ([`ClockTimeline`]), so
//! a failure can name the skew that caused it.
//!
//! History events (process `"nemesis"`, type `info`):
//!
//! | `f` | `value` | what happens to each node named |
//! |---|---|---|
//! | `clock-step` | `{nodes, delta_ms}` | its clock jumps by `delta_ms` (back when negative) |
//! | `clock-slew` | `{nodes, rate_ppm}` | its clock runs fast (slow when negative) by `rate_ppm` millionths |
//! | `clock-strobe` | `{nodes, delta_ms, period_ms}` | its clock jumps `delta_ms` ahead and back every `period_ms` |
//! | `clock-leap` | `{nodes, insert}` | a leap second: inserted (the clock repeats a second) or removed (skips one) |
//! | `clock-reset` | `[nodes]` | its clock is set right (offset 0, normal rate): a step too |

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Value, json};

use crate::faults::{nemesis_events, seconds};
use crate::history::Event;

/// One second in nanoseconds: a leap second's size.
const SECOND_NS: i64 = 1_000_000_000;

/// A fault of a node's wall clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockFault {
    /// Jump by `delta_ms` (forward when positive): a clock set by hand, or stepped by NTP.
    Step { delta_ms: i64 },
    /// Run fast (positive) or slow by `rate_ppm` millionths until reset: a drifting quartz,
    /// or NTP slewing.
    Slew { rate_ppm: i64 },
    /// Jump `delta_ms` ahead and back every `period_ms`, until reset.
    Strobe { delta_ms: i64, period_ms: u64 },
    /// A leap second: `insert` repeats a second (the clock steps back 1 s), otherwise one is
    /// skipped (it steps forward 1 s).
    Leap { insert: bool },
}

impl ClockFault {
    /// The history's `f`.
    pub fn f(&self) -> &'static str {
        match self {
            ClockFault::Step { .. } => "clock-step",
            ClockFault::Slew { .. } => "clock-slew",
            ClockFault::Strobe { .. } => "clock-strobe",
            ClockFault::Leap { .. } => "clock-leap",
        }
    }

    /// The history's `value` for this fault on `nodes`.
    pub fn value(&self, nodes: &[String]) -> Value {
        match *self {
            ClockFault::Step { delta_ms } => json!({"nodes": nodes, "delta_ms": delta_ms}),
            ClockFault::Slew { rate_ppm } => json!({"nodes": nodes, "rate_ppm": rate_ppm}),
            ClockFault::Strobe {
                delta_ms,
                period_ms,
            } => json!({"nodes": nodes, "delta_ms": delta_ms, "period_ms": period_ms}),
            ClockFault::Leap { insert } => json!({"nodes": nodes, "insert": insert}),
        }
    }

    /// The fault a history event records, if it is one.
    pub fn from_event(f: &str, value: &Value) -> Option<ClockFault> {
        let int = |k: &str| value.get(k).and_then(Value::as_i64);
        Some(match f {
            "clock-step" => ClockFault::Step {
                delta_ms: int("delta_ms")?,
            },
            "clock-slew" => ClockFault::Slew {
                rate_ppm: int("rate_ppm")?,
            },
            "clock-strobe" => ClockFault::Strobe {
                delta_ms: int("delta_ms")?,
                period_ms: value.get("period_ms").and_then(Value::as_u64)?.max(1),
            },
            "clock-leap" => ClockFault::Leap {
                insert: value.get("insert").and_then(Value::as_bool)?,
            },
            _ => return None,
        })
    }
}

impl fmt::Display for ClockFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ClockFault::Step { delta_ms } => write!(f, "stepped {}", signed_ms(delta_ms)),
            ClockFault::Slew { rate_ppm } => write!(
                f,
                "slewed to run {:.1}% {}",
                rate_ppm.unsigned_abs() as f64 / 10_000.0,
                if rate_ppm >= 0 { "fast" } else { "slow" }
            ),
            ClockFault::Strobe {
                delta_ms,
                period_ms,
            } => write!(f, "strobed by {} every {period_ms} ms", signed_ms(delta_ms)),
            ClockFault::Leap { insert: true } => f.write_str("given a leap second (repeated)"),
            ClockFault::Leap { insert: false } => f.write_str("had a leap second removed"),
        }
    }
}

/// `+1.250 s`, `-0.300 s`.
fn signed_ms(ms: i64) -> String {
    format!(
        "{}{:.3} s",
        if ms < 0 { '-' } else { '+' },
        ms.unsigned_abs() as f64 / 1e3
    )
}

/// `+1.250 s` for an offset in nanoseconds.
pub fn signed_offset(ns: i64) -> String {
    format!(
        "{}{:.3} s",
        if ns < 0 { '-' } else { '+' },
        ns.unsigned_abs() as f64 / 1e9
    )
}

/// One node's wall clock: its offset from true time at any instant (times are nanoseconds
/// since the run started).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NodeClock {
    /// The offset at `since`, strobing aside.
    base_ns: i64,
    /// How fast the offset grows from `since`, in millionths.
    rate_ppm: i64,
    since: u64,
    /// `(delta_ns, period_ns, start)` while strobing.
    strobe: Option<(i64, u64, u64)>,
}

impl NodeClock {
    /// The offset (wall clock minus true time) at `t`, in nanoseconds.
    pub fn offset_at(&self, t: u64) -> i64 {
        let elapsed = i128::from(t.saturating_sub(self.since));
        let drift = elapsed * i128::from(self.rate_ppm) / 1_000_000;
        let strobe = match self.strobe {
            Some((delta, period, start)) if (t.saturating_sub(start) / period.max(1)) % 2 == 0 => {
                delta
            }
            _ => 0,
        };
        let total = i128::from(self.base_ns) + drift + i128::from(strobe);
        total.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
    }

    /// True while the offset changes by itself (slewing or strobing): a process's clock
    /// control must then be rewritten as time goes.
    pub fn is_moving(&self) -> bool {
        self.rate_ppm != 0 || self.strobe.is_some()
    }

    /// Fold the drift so far into the base, as of `at`.
    fn settle(&mut self, at: u64) {
        let strobe = self.strobe.take();
        self.base_ns = self.offset_at(at);
        self.since = at;
        self.strobe = strobe;
    }

    /// Apply `fault` at `at`.
    pub fn apply(&mut self, fault: ClockFault, at: u64) {
        self.settle(at);
        match fault {
            ClockFault::Step { delta_ms } => {
                self.base_ns = self
                    .base_ns
                    .saturating_add(delta_ms.saturating_mul(1_000_000));
            }
            ClockFault::Slew { rate_ppm } => self.rate_ppm = rate_ppm,
            ClockFault::Strobe {
                delta_ms,
                period_ms,
            } => {
                let period = period_ms.max(1).saturating_mul(1_000_000);
                self.strobe = Some((delta_ms.saturating_mul(1_000_000), period, at));
            }
            ClockFault::Leap { insert } => {
                self.base_ns =
                    self.base_ns
                        .saturating_add(if insert { -SECOND_NS } else { SECOND_NS });
            }
        }
    }

    /// Set the clock right at `at`: no offset, normal rate.
    pub fn reset(&mut self, at: u64) {
        *self = NodeClock {
            since: at,
            ..NodeClock::default()
        };
    }
}

/// Every node's clock over a run, rebuilt from the history's clock events.
#[derive(Debug, Clone, Default)]
pub struct ClockTimeline {
    /// Per node: each change (time, the clock after it, what changed it), in time order.
    changes: BTreeMap<String, Vec<ClockChange>>,
}

/// One change of a node's clock.
#[derive(Debug, Clone, PartialEq)]
pub struct ClockChange {
    pub time: u64,
    pub clock: NodeClock,
    /// The fault, or None for a reset.
    pub fault: Option<ClockFault>,
}

impl ClockTimeline {
    /// The clocks of the history `events`.
    pub fn of(events: &[Event]) -> ClockTimeline {
        let mut timeline = ClockTimeline::default();
        for e in nemesis_events(events) {
            let fault = ClockFault::from_event(e.f, e.value);
            if fault.is_none() && e.f != "clock-reset" {
                continue;
            }
            for node in &e.nodes {
                let changes = timeline.changes.entry((*node).to_owned()).or_default();
                let mut clock = changes.last().map(|c| c.clock).unwrap_or_default();
                match fault {
                    Some(fault) => clock.apply(fault, e.time),
                    None => clock.reset(e.time),
                }
                changes.push(ClockChange {
                    time: e.time,
                    clock,
                    fault,
                });
            }
        }
        timeline
    }

    /// True when no clock was ever touched.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// `node`'s clock offset at `t` (0 for a clock never touched).
    pub fn offset_at(&self, node: &str, t: u64) -> i64 {
        self.clock_at(node, t).map_or(0, |c| c.clock.offset_at(t))
    }

    /// The last change of `node`'s clock at or before `t`.
    pub fn clock_at(&self, node: &str, t: u64) -> Option<&ClockChange> {
        self.changes
            .get(node)?
            .iter()
            .take_while(|c| c.time <= t)
            .last()
    }

    /// The changes of `node`'s clock.
    pub fn changes(&self, node: &str) -> &[ClockChange] {
        self.changes.get(node).map_or(&[], Vec::as_slice)
    }

    /// `n1's clock was +3.200 s off (stepped +3.200 s at 4.10 s)`, or None when `node`'s clock
    /// was right at `t`.
    pub fn describe(&self, node: &str, t: u64) -> Option<String> {
        let change = self.clock_at(node, t)?;
        let offset = change.clock.offset_at(t);
        let fault = change.fault?;
        Some(format!(
            "{node}'s clock was {} off at {} ({fault} at {})",
            signed_offset(offset),
            seconds(t),
            seconds(change.time)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    #[test]
    fn a_step_moves_the_clock_at_once_and_a_reset_sets_it_right() {
        let mut c = NodeClock::default();
        c.apply(ClockFault::Step { delta_ms: -2500 }, 10 * MS);
        assert_eq!(c.offset_at(10 * MS), -2_500 * MS as i64);
        assert_eq!(c.offset_at(900 * MS), -2_500 * MS as i64);
        assert!(!c.is_moving());
        c.reset(1000 * MS);
        assert_eq!(c.offset_at(1000 * MS), 0);
    }

    #[test]
    fn a_slewed_clock_drifts_at_its_rate_and_keeps_the_drift_when_stepped() {
        let mut c = NodeClock::default();
        c.apply(ClockFault::Slew { rate_ppm: 100_000 }, 0);
        assert!(c.is_moving());
        assert_eq!(c.offset_at(1000 * MS), 100 * MS as i64, "10% fast for 1 s");
        c.apply(ClockFault::Step { delta_ms: 50 }, 1000 * MS);
        assert_eq!(c.offset_at(2000 * MS), 250 * MS as i64);
    }

    #[test]
    fn a_strobing_clock_alternates_and_a_leap_second_repeats_a_second() {
        let mut c = NodeClock::default();
        c.apply(
            ClockFault::Strobe {
                delta_ms: 200,
                period_ms: 10,
            },
            0,
        );
        assert_eq!(c.offset_at(5 * MS), 200 * MS as i64);
        assert_eq!(c.offset_at(15 * MS), 0);
        assert_eq!(c.offset_at(25 * MS), 200 * MS as i64);
        let mut leap = NodeClock::default();
        leap.apply(ClockFault::Leap { insert: true }, 0);
        assert_eq!(leap.offset_at(1), -1_000 * MS as i64);
    }

    #[test]
    fn faults_round_trip_through_the_history_and_the_timeline_names_the_skew() {
        let faults = [
            ClockFault::Step { delta_ms: 3200 },
            ClockFault::Slew { rate_ppm: -50_000 },
            ClockFault::Strobe {
                delta_ms: 100,
                period_ms: 20,
            },
            ClockFault::Leap { insert: false },
        ];
        for fault in faults {
            let value = fault.value(&["n1".to_owned()]);
            assert_eq!(ClockFault::from_event(fault.f(), &value), Some(fault));
        }
        let history = format!(
            "{}\n{}\n",
            r#"{"index":0,"time":4100000000,"process":"nemesis","type":"info","f":"clock-step","value":{"nodes":["n1"],"delta_ms":3200}}"#,
            r#"{"index":1,"time":9000000000,"process":"nemesis","type":"info","f":"clock-reset","value":["n1"]}"#
        );
        let events = crate::parse_history("h", history.as_bytes()).unwrap();
        let t = ClockTimeline::of(&events);
        assert_eq!(t.offset_at("n1", 5_000 * MS), 3_200 * MS as i64);
        assert_eq!(t.offset_at("n1", 9_500 * MS), 0);
        assert_eq!(t.offset_at("n0", 5_000 * MS), 0);
        assert_eq!(
            t.describe("n1", 5_000 * MS).unwrap(),
            "n1's clock was +3.200 s off at 5.00 s (stepped +3.200 s at 4.10 s)"
        );
        assert_eq!(t.describe("n1", 9_500 * MS), None);
    }
}
