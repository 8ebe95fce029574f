//! `time-sync`: a node that keeps a synchronised clock by asking a time server, as an NTP
//! client does (the course's 3.2 "Clock synchronisation", on the physical clocks of 3.1).
//!
//! **Algorithm.** Every poll interval the node sends `time {t1}` to the harness's
//! `time-server`, `t1` read on its own wall clock ([`Ctx::wall_clock`]); the server answers
//! `time_ok {t2, t3}` from the true time, and the node reads `t4` when the answer arrives. The
//! round-trip delay and the offset of its wall clock from the server's are NTP's
//! ([`delay_and_offset`]):
//!
//! ```text
//! δ = (t4 − t1) − (t3 − t2)        θ = ((t2 − t1) + (t3 − t4)) / 2
//! ```
//!
//! θ is exact when both legs of the round trip take as long; otherwise it is off by half the
//! difference of the legs (at most δ/2). NTP's *clock filter* keeps the last samples and trusts
//! the one with the smallest delay, whose error bound is smallest: so does this node, over the
//! last [`FILTER`] samples (each kept sample is carried forward across any change of the wall
//! clock since, measured against the monotonic clock, so a step of the wall clock does not
//! leave stale offsets in the filter). A sample during which the wall clock jumped (its
//! elapsed time disagrees with the monotonic clock's) is thrown away.
//!
//! The node's *synchronised clock* is its wall clock plus a correction. With the filter's
//! offset θ, the error of the synchronised clock is θ minus the correction, and the node
//! corrects it as ntpd does:
//!
//! - |error| < `--step-ms` (125 ms, ntpd's): **slew**: the correction moves toward θ at no
//!   more than `--max-slew-ppm` (the synchronised clock runs that many millionths fast or
//!   slow until it is right: it never jumps, and never runs backwards);
//! - `--step-ms` ≤ |error| < `--panic-s` (1000 s): **step**: the correction jumps to θ at
//!   once (the synchronised clock jumps, backwards too when it was ahead);
//! - |error| ≥ `--panic-s`: **panic**: the node refuses to touch its clock (ntpd exits and
//!   waits for a human), says so in its log and answers `panicked`.
//!
//! ntpd slews at most 500 ppm, so a 100 ms offset takes 200 s to slew away; the default here
//! is 50 000 ppm (5%) so that a run of seconds shows a slew complete.
//!
//! **Guarantee.** After a poll whose round trip took δ, a synchronised clock is within δ/2 of
//! the true time (plus the slew still to go), as long as the wall clock does not move against
//! the monotonic clock. When it does (a clock fault: step, leap second, strobe, a fast or slow
//! clock), the node sees the change at its next event, says `unsynchronised` and polls at
//! once.
//!
//! **When it acknowledges.** `read_time` is answered at once with `read_time_ok {time,
//! state}`: `time` the synchronised clock in microseconds since the Unix epoch; `state`
//! `unsynchronised` (fewer than [`TRUSTED`] samples yet, or the wall clock moved since the
//! last one), `slewing`
//! (the correction is still on its way), `synchronised`, or `panicked`.
//!
//! **Topology.** None: each node talks to the time server alone; `topology` is acknowledged
//! and ignored.
//!
//! **Cost.** Two messages (a request and its reply) per node per poll interval, whatever the
//! client load.
//!
//! **Partition.** The time server is never partitioned from the nodes; a lost or late reply
//! (after one poll interval) is forgotten and the next poll tries again.
//!
//! **Crash.** Nothing is persisted: a restarted node starts unsynchronised and corrects its
//! clock from its first sample (by a step when far off, as ntpd's `-g` allows at start).

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use proto::{Message, Payload};

use crate::ctx::Ctx;
use crate::flags::{Flag, Flags, ms_default};
use crate::node::{Node, TimerId};

/// The service the node asks.
pub const TIME_SERVER: &str = "time-server";

/// How many samples the clock filter keeps (NTP's clock filter keeps 8).
pub const FILTER: usize = 8;

/// How far (ns) the wall clock may move against the monotonic clock before the node stops
/// calling itself synchronised, and how far a sample's two clocks may disagree about its round
/// trip before it is thrown away.
const JUMP_NS: i64 = 2_000_000;

/// How close (ns) the correction must be to its target for the node to call itself
/// synchronised rather than slewing.
const SETTLED_NS: i64 = 1_000_000;

/// How many samples the filter must hold before the node calls itself synchronised: one
/// exchange may have had a slow leg, and its offset be off by half of it (ntpd, too, waits
/// for several samples before it trusts its clock).
pub const TRUSTED: usize = 4;

/// The node's settings (its flags).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeSyncConfig {
    /// How often the time server is asked (`--poll-ms`).
    pub poll: Duration,
    /// Offsets at least this large are stepped, smaller ones slewed (`--step-ms`).
    pub step: Duration,
    /// Offsets at least this large are refused (`--panic-s`).
    pub panic: Duration,
    /// The fastest the correction moves while slewing, in millionths (`--max-slew-ppm`).
    pub max_slew_ppm: u64,
}

impl Default for TimeSyncConfig {
    fn default() -> Self {
        TimeSyncConfig {
            poll: Duration::from_millis(500),
            step: Duration::from_millis(125),
            panic: Duration::from_secs(1000),
            max_slew_ppm: 50_000,
        }
    }
}

impl TimeSyncConfig {
    /// The flags of the catalog's entry.
    pub const FLAGS: [Flag; 4] = [
        Flag {
            name: "poll-ms",
            value: "N",
            what: "how often the time server is asked, in ms",
            default: || ms_default(TimeSyncConfig::default().poll),
        },
        Flag {
            name: "step-ms",
            value: "N",
            what: "offsets at least this large (ms) are stepped, smaller ones slewed",
            default: || ms_default(TimeSyncConfig::default().step),
        },
        Flag {
            name: "panic-s",
            value: "N",
            what: "offsets at least this large (s) are refused: the node panics, as ntpd does",
            default: || TimeSyncConfig::default().panic.as_secs().to_string(),
        },
        Flag {
            name: "max-slew-ppm",
            value: "N",
            what: "the fastest a slew corrects, in millionths (ntpd: 500)",
            default: || TimeSyncConfig::default().max_slew_ppm.to_string(),
        },
    ];

    /// The settings the flags give.
    pub fn from_flags(f: &Flags) -> Result<TimeSyncConfig, String> {
        let default = TimeSyncConfig::default();
        let config = TimeSyncConfig {
            poll: f.ms("poll-ms", default.poll)?,
            step: f.ms("step-ms", default.step)?,
            panic: Duration::from_secs(f.get("panic-s", default.panic.as_secs())?),
            max_slew_ppm: f.get("max-slew-ppm", default.max_slew_ppm)?,
        };
        if config.max_slew_ppm == 0 || config.max_slew_ppm > 1_000_000 {
            return Err("--max-slew-ppm must be between 1 and 1000000".to_owned());
        }
        if config.panic <= config.step {
            return Err("--panic-s must be larger than --step-ms".to_owned());
        }
        Ok(config)
    }
}

/// NTP's round-trip delay δ and clock offset θ of one exchange, in the unit of its four
/// times: `t1` the client's clock when it sent the request, `t2` the server's when it received
/// it, `t3` the server's when it replied, `t4` the client's when the reply came. θ is what to
/// add to the client's clock to read the server's.
pub fn delay_and_offset(t1: i64, t2: i64, t3: i64, t4: i64) -> (i64, i64) {
    let [t1, t2, t3, t4] = [t1, t2, t3, t4].map(i128::from);
    let delay = (t4 - t1) - (t3 - t2);
    let offset = ((t2 - t1) + (t3 - t4)) / 2;
    let clamp = |v: i128| v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64;
    (clamp(delay), clamp(offset))
}

/// Where the synchronisation stands, as `read_time_ok`'s `state` says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncState {
    Unsynchronised,
    Slewing,
    Synchronised,
    Panicked,
}

impl SyncState {
    /// The name `read_time_ok` carries.
    pub fn name(self) -> &'static str {
        match self {
            SyncState::Unsynchronised => "unsynchronised",
            SyncState::Slewing => "slewing",
            SyncState::Synchronised => "synchronised",
            SyncState::Panicked => "panicked",
        }
    }
}

/// One exchange with the time server.
#[derive(Debug, Clone, Copy)]
struct Sample {
    offset: i64,
    delay: i64,
    /// The wall clock minus the monotonic clock when the reply came (ns).
    base: i64,
}

/// A request in flight: the wall and monotonic clocks when it left (ns).
#[derive(Debug, Clone, Copy)]
struct Sent {
    wall: i64,
    mono: i64,
}

/// The time-sync node.
#[derive(Debug, Clone)]
pub struct TimeSync {
    config: TimeSyncConfig,
    sent: BTreeMap<u64, Sent>,
    samples: VecDeque<Sample>,
    /// The correction (ns) as of `since` (monotonic ns), moving toward `target`.
    correction: i64,
    target: i64,
    since: i64,
    /// True once a sample was beyond the panic threshold (until one is not).
    panicked: bool,
    /// The wall clock minus the monotonic clock at the last sample used (None before one).
    base: Option<i64>,
    poll_timer: Option<TimerId>,
    /// The planted bug of `time-sync-once` ([`time_sync_once`]).
    once: bool,
}

/// `time-sync-once`, a planted bug: it synchronises from its first answer, then never asks
/// again nor looks at its wall clock against the monotonic one, and says `synchronised` ever
/// after. A clock stepped later (the time-sync workload's initial offsets come after the
/// nodes' `init`; a clock fault) leaves it off while it claims to be right: the checker must
/// catch it.
pub fn time_sync_once(config: TimeSyncConfig) -> TimeSync {
    TimeSync {
        once: true,
        ..TimeSync::new(config)
    }
}

impl TimeSync {
    pub fn new(config: TimeSyncConfig) -> TimeSync {
        TimeSync {
            config,
            sent: BTreeMap::new(),
            samples: VecDeque::new(),
            correction: 0,
            target: 0,
            since: 0,
            panicked: false,
            base: None,
            poll_timer: None,
            once: false,
        }
    }

    /// The correction at monotonic time `mono`: on its way to the target at the slew rate.
    fn correction_at(&self, mono: i64) -> i64 {
        let elapsed = i128::from(mono.saturating_sub(self.since).max(0));
        let reach = elapsed * i128::from(self.config.max_slew_ppm) / 1_000_000;
        let gap = i128::from(self.target) - i128::from(self.correction);
        let moved = gap.clamp(-reach, reach);
        (i128::from(self.correction) + moved) as i64
    }

    /// The synchronised clock (ns since the Unix epoch) and its state, now.
    pub fn read(&self, ctx: &Ctx) -> (i64, SyncState) {
        let (wall, mono) = clocks(ctx);
        let correction = self.correction_at(mono);
        let state = if self.panicked {
            SyncState::Panicked
        } else if self.once && self.base.is_some() {
            SyncState::Synchronised
        } else {
            match self.base {
                None => SyncState::Unsynchronised,
                Some(base)
                    if wall
                        .saturating_sub(mono)
                        .saturating_sub(base)
                        .saturating_abs()
                        > JUMP_NS =>
                {
                    SyncState::Unsynchronised
                }
                Some(_) if self.samples.len() < TRUSTED => SyncState::Unsynchronised,
                Some(_) if self.target.saturating_sub(correction).saturating_abs() > SETTLED_NS => {
                    SyncState::Slewing
                }
                Some(_) => SyncState::Synchronised,
            }
        };
        (wall.saturating_add(correction), state)
    }

    fn poll(&mut self, ctx: &mut Ctx) {
        let (wall, mono) = clocks(ctx);
        let t1 = u64::try_from(wall / 1_000).unwrap_or(0);
        let id = ctx.rpc(
            TIME_SERVER,
            &Payload::Time { t1: Some(t1) },
            self.config.poll,
        );
        self.sent.insert(id, Sent { wall, mono });
    }

    fn on_time(&mut self, ctx: &mut Ctx, sent: Sent, t2: u64, t3: u64) {
        let (t4, mono) = clocks(ctx);
        let (t2, t3) = (micros_to_ns(t2), micros_to_ns(t3));
        if (t4.saturating_sub(sent.wall))
            .saturating_sub(mono.saturating_sub(sent.mono))
            .saturating_abs()
            > JUMP_NS
        {
            ctx.log("the wall clock moved during an exchange with the time server; sample dropped");
            return;
        }
        let (delay, offset) = delay_and_offset(sent.wall, t2, t3, t4);
        let base = t4.saturating_sub(mono);
        self.samples.push_back(Sample {
            offset,
            delay,
            base,
        });
        while self.samples.len() > FILTER {
            self.samples.pop_front();
        }
        // The clock filter: the sample of least delay, its offset carried forward across any
        // change of the wall clock since.
        let Some(best) = self.samples.iter().min_by_key(|s| s.delay).copied() else {
            return;
        };
        let theta = best.offset.saturating_sub(base.saturating_sub(best.base));
        let correction = self.correction_at(mono);
        let error = theta.saturating_sub(correction);
        let magnitude = error.unsigned_abs();
        self.base = Some(base);
        if magnitude >= self.config.panic.as_nanos() as u64 {
            if !self.panicked {
                ctx.log(format!(
                    "panic: the clock is {} off, beyond the panic threshold of {} s; leaving it \
                     alone (a human must look)",
                    seconds(error),
                    self.config.panic.as_secs()
                ));
            }
            self.panicked = true;
            return;
        }
        self.panicked = false;
        if magnitude >= self.config.step.as_nanos() as u64 {
            ctx.log(format!(
                "step: offset {} (delay {}), clock stepped",
                seconds(error),
                seconds(delay)
            ));
            self.correction = theta;
        } else {
            self.correction = correction;
        }
        self.target = theta;
        self.since = mono;
    }
}

impl Default for TimeSync {
    fn default() -> Self {
        TimeSync::new(TimeSyncConfig::default())
    }
}

/// The wall clock and the monotonic clock, in ns.
fn clocks(ctx: &Ctx) -> (i64, i64) {
    let wall = i64::try_from(ctx.wall_clock().as_nanos()).unwrap_or(i64::MAX);
    let mono = i64::try_from(ctx.now().as_nanos()).unwrap_or(i64::MAX);
    (wall, mono)
}

fn micros_to_ns(us: u64) -> i64 {
    i64::try_from(us)
        .unwrap_or(i64::MAX / 1_000)
        .saturating_mul(1_000)
}

/// `+0.125 s` for a time in ns.
fn seconds(ns: i64) -> String {
    format!(
        "{}{:.6} s",
        if ns < 0 { '-' } else { '+' },
        ns.unsigned_abs() as f64 / 1e9
    )
}

impl Node for TimeSync {
    fn on_init(&mut self, ctx: &mut Ctx) {
        self.poll(ctx);
        self.poll_timer = Some(ctx.set_timer(self.config.poll));
    }

    fn on_message(&mut self, ctx: &mut Ctx, msg: Message) {
        match &msg.body.payload {
            Payload::ReadTime => {
                let (time, state) = self.read(ctx);
                if state == SyncState::Unsynchronised
                    && self.base.is_some()
                    && self.sent.is_empty()
                    && !self.once
                {
                    // The wall clock moved since the last sample: ask again now.
                    self.poll(ctx);
                }
                ctx.reply(
                    &msg,
                    &Payload::ReadTimeOk {
                        time: u64::try_from(time / 1_000).unwrap_or(0),
                        state: Some(state.name().to_owned()),
                    },
                );
            }
            Payload::Topology { .. } => ctx.reply(&msg, &Payload::TopologyOk),
            Payload::TimeOk { t2, t3, .. } => {
                let sent = msg.body.in_reply_to.and_then(|id| self.sent.remove(&id));
                if let Some(sent) = sent {
                    self.on_time(ctx, sent, *t2, *t3);
                }
            }
            Payload::Error { .. } if msg.body.in_reply_to.is_some() => {
                // A lost or late answer: the next poll tries again.
                if let Some(id) = msg.body.in_reply_to {
                    self.sent.remove(&id);
                }
            }
            _ => ctx.not_supported(&msg),
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx, timer: TimerId) {
        if Some(timer) == self.poll_timer {
            if self.once && self.base.is_some() {
                return;
            }
            self.poll(ctx);
            self.poll_timer = Some(ctx.set_timer(self.config.poll));
        }
    }
}

#[cfg(test)]
mod tests {
    use proto::Body;
    use serde_json::json;

    use super::*;
    use crate::{Runtime, WALL_CLOCK_EPOCH, sends};

    const MS: i64 = 1_000_000;

    #[test]
    fn offset_and_delay_are_ntps_and_an_asymmetric_trip_errs_by_half_the_asymmetry() {
        // The client's clock is 300 ms behind the server's. The request takes 10 ms, the
        // server holds it 5 ms, the reply takes 10 ms.
        let (t1, t2, t3, t4) = (1_000, 1_310, 1_315, 1_025);
        assert_eq!(delay_and_offset(t1, t2, t3, t4), (20, 300));
        // Same clocks, the request takes 10 ms and the reply 30 ms: δ is 40 ms and θ is off
        // by (30 - 10) / 2 = 10 ms (the reply's longer leg looks like a clock further behind).
        let (t1, t2, t3, t4) = (1_000, 1_310, 1_315, 1_045);
        let (delay, offset) = delay_and_offset(t1, t2, t3, t4);
        assert_eq!(delay, 40);
        assert_eq!(offset, 300 - (30 - 10) / 2);
        assert!((offset - 300).abs() <= delay / 2);
    }

    /// A node `n0` whose wall clock is `offset` ns off true time, the time server played by
    /// hand with a one-way delay of `leg` each way.
    struct Rig {
        rt: Runtime<TimeSync>,
        now: Duration,
        offset: i64,
        leg: Duration,
        log: Vec<(Duration, i64, String)>,
    }

    impl Rig {
        fn new(config: TimeSyncConfig, offset_ms: i64) -> Rig {
            let mut rig = Rig {
                rt: Runtime::new(TimeSync::new(config), 0, 0),
                now: Duration::ZERO,
                offset: offset_ms * MS,
                leg: Duration::from_millis(5),
                log: Vec::new(),
            };
            let init = json!({"type": "init", "msg_id": 1, "node_id": "n0", "node_ids": ["n0"]});
            let effects = rig.event(|rt, now| {
                rt.handle_message(
                    now,
                    Message::new("c0", "n0", serde_json::from_value(init).unwrap()),
                )
            });
            rig.serve(effects);
            rig
        }

        fn true_ns(&self, at: Duration) -> i64 {
            (WALL_CLOCK_EPOCH + at).as_nanos() as i64
        }

        fn event(
            &mut self,
            f: impl FnOnce(&mut Runtime<TimeSync>, Duration) -> Vec<crate::Effect>,
        ) -> Vec<crate::Effect> {
            let wall = self.true_ns(self.now) + self.offset;
            self.rt
                .set_wall_clock(Duration::from_nanos(u64::try_from(wall).unwrap()));
            f(&mut self.rt, self.now)
        }

        /// Answer every time request in `effects` after a round trip of two legs (which
        /// must be shorter than any timer's wait).
        fn serve(&mut self, effects: Vec<crate::Effect>) {
            for msg in sends(&effects) {
                if msg.dest != TIME_SERVER {
                    continue;
                }
                let server = self.now + self.leg;
                let t = u64::try_from(self.true_ns(server) / 1_000).unwrap();
                let reply = Body {
                    msg_id: None,
                    in_reply_to: msg.body.msg_id,
                    payload: Payload::TimeOk {
                        t1: None,
                        t2: t,
                        t3: t,
                    },
                };
                self.now = server + self.leg;
                let effects = self.event(|rt, now| {
                    rt.handle_message(now, Message::new(TIME_SERVER, "n0", reply))
                });
                self.serve(effects);
            }
        }

        /// Let `by` pass in steps of `step`, reading the node's clock after each.
        fn run(&mut self, by: Duration, step: Duration) {
            let end = self.now + by;
            while self.now < end {
                self.now += step;
                let effects = self.event(|rt, now| rt.advance(now));
                self.serve(effects);
                let read = Body {
                    msg_id: Some(7),
                    in_reply_to: None,
                    payload: Payload::ReadTime,
                };
                let effects =
                    self.event(|rt, now| rt.handle_message(now, Message::new("c1", "n0", read)));
                for msg in sends(&effects) {
                    if let Payload::ReadTimeOk { time, state } = &msg.body.payload {
                        let error = *time as i64 * 1_000 - self.true_ns(self.now);
                        self.log
                            .push((self.now, error, state.clone().unwrap_or_default()));
                    }
                }
                self.serve(effects);
            }
        }
    }

    #[test]
    fn a_small_offset_is_slewed_away_gradually_never_faster_than_the_slew_rate() {
        let config = TimeSyncConfig::default();
        let mut rig = Rig::new(config, -80);
        rig.run(Duration::from_secs(3), Duration::from_millis(10));
        let rate = config.max_slew_ppm as i64;
        for pair in rig.log.windows(2) {
            let ((t0, e0, _), (t1, e1, _)) = (&pair[0], &pair[1]);
            let dt = (*t1 - *t0).as_nanos() as i64;
            // The error shrinks by at most the slew rate (plus a microsecond of rounding).
            assert!(
                (e1 - e0).abs() <= dt * rate / 1_000_000 + 2_000,
                "jumped from {e0} to {e1} in {dt} ns"
            );
        }
        assert!(
            rig.log.iter().any(|(_, _, s)| s == "slewing"),
            "{:?}",
            &rig.log[..5]
        );
        let (_, last, state) = rig.log.last().unwrap();
        assert_eq!(state, "synchronised");
        assert!(last.abs() < 1_000, "within a microsecond, not {last} ns");
        // 80 ms at 5% takes 1.6 s.
        let settled = rig
            .log
            .iter()
            .find(|(_, _, s)| s == "synchronised")
            .unwrap()
            .0;
        assert!(settled >= Duration::from_millis(1500), "{settled:?}");
    }

    #[test]
    fn a_large_offset_is_stepped_at_the_first_answer() {
        let mut rig = Rig::new(TimeSyncConfig::default(), 2_500);
        rig.run(Duration::from_millis(100), Duration::from_millis(10));
        let (_, error, state) = &rig.log[0];
        // Corrected at once, trusted only after a few more samples.
        assert_eq!(state, "unsynchronised");
        assert!(error.abs() < 1_000, "{error} ns");
        rig.run(Duration::from_secs(2), Duration::from_millis(10));
        let (_, error, state) = rig.log.last().unwrap();
        assert_eq!(state, "synchronised");
        assert!(error.abs() < 1_000, "{error} ns");
        // A step of the wall clock later is seen at once and corrected at the next poll.
        rig.offset -= 700 * MS;
        rig.run(Duration::from_millis(10), Duration::from_millis(10));
        let (_, error, state) = rig.log.last().unwrap();
        assert_eq!(
            state, "unsynchronised",
            "it knows its clock moved ({error})"
        );
        rig.run(Duration::from_millis(600), Duration::from_millis(10));
        let (_, error, state) = rig.log.last().unwrap();
        assert_eq!(
            (state.as_str(), error.abs() < 1_000),
            ("synchronised", true)
        );
    }

    #[test]
    fn an_answer_with_absurd_times_is_no_panic_of_the_node() {
        for (t2, t3) in [(u64::MAX, 0), (0, u64::MAX), (u64::MAX, u64::MAX)] {
            let mut rt = Runtime::new(TimeSync::default(), 0, 0);
            let init = json!({"type": "init", "msg_id": 1, "node_id": "n0", "node_ids": ["n0"]});
            let effects = rt.handle_message(
                Duration::ZERO,
                Message::new("c0", "n0", serde_json::from_value(init).unwrap()),
            );
            let request = sends(&effects)
                .into_iter()
                .find(|m| m.dest == TIME_SERVER)
                .unwrap()
                .clone();
            let reply = Body {
                msg_id: None,
                in_reply_to: request.body.msg_id,
                payload: Payload::TimeOk { t1: None, t2, t3 },
            };
            rt.handle_message(
                Duration::from_millis(1),
                Message::new(TIME_SERVER, "n0", reply),
            );
            let read = Body {
                msg_id: Some(2),
                in_reply_to: None,
                payload: Payload::ReadTime,
            };
            let effects =
                rt.handle_message(Duration::from_millis(2), Message::new("c1", "n0", read));
            assert_eq!(sends(&effects)[0].body.kind(), "read_time_ok");
        }
    }

    #[test]
    fn an_offset_beyond_the_panic_threshold_is_refused_and_the_clock_left_alone() {
        let mut rig = Rig::new(TimeSyncConfig::default(), 1_200_000);
        rig.run(Duration::from_secs(2), Duration::from_millis(50));
        for (_, error, state) in &rig.log {
            assert_eq!(state, "panicked");
            assert_eq!(*error / MS, 1_200_000, "the clock is left as it was");
        }
    }
}
