//! `failure-detector`: a heartbeat failure detector (the course's "System models": failure
//! detectors, and the eventually perfect failure detector ◇P of partial synchrony), the node of
//! the `failure-detector` workload.
//!
//! **Algorithm.** Every `--heartbeat-ms` each node sends a `heartbeat {incarnation}` to every
//! other node. It remembers when it last heard from each peer (any message counts). It
//! *suspects* a peer it has not heard from for longer than that peer's timeout (at first
//! `--timeout-ms`), and stops suspecting it as soon as it hears from it again. A client asks
//! `suspect` and gets `suspect_ok {suspects: [node ids]}`, in the order of `init`'s node ids;
//! the answer is computed at that moment, so it is exact to the millisecond, not to the
//! heartbeat interval.
//!
//! **Guarantee.** In a synchronous system (messages take at most d, heartbeats leave on time)
//! a timeout above `--heartbeat-ms` + d would make this a *perfect* detector P. Here the network
//! and the nodes are only partially synchronous, and no detector is perfect: a paused node, or
//! one behind a partition or slow links, looks crashed until it is heard again. What this node
//! promises is ◇P's: *strong completeness*, a crashed peer is suspected by every correct node
//! within its timeout plus a heartbeat interval of its crash, and for good; and *eventual
//! strong accuracy*, once the system behaves (faults healed, delays bounded) no correct node
//! is suspected any more. For the accuracy part the timeout adapts, as ◇P implementations
//! do: each time a peer turns out to have been suspected wrongly (it speaks again in the same
//! incarnation), its timeout grows by `--grow-ms`, up to `--max-timeout-ms`; a peer that comes
//! back in a new incarnation (it restarted) was rightly suspected, and its timeout is kept. So
//! once delays are bounded below the largest timeout, false suspicions stop. `--grow-ms 0`
//! keeps every timeout fixed.
//!
//! **When it answers.** `suspect` is answered at once from local state: the detector never
//! waits for anybody, which is the point of it.
//!
//! **Topology.** The suggested topology is ignored: every node heartbeats every other.
//!
//! **Cost.** n(n-1) heartbeats per `--heartbeat-ms`, whatever the load: 20 messages per 100 ms
//! with 5 nodes. A shorter heartbeat interval or timeout detects sooner and suspects wrongly
//! more often; that trade-off is the subject of the workload.
//!
//! **Partition.** Each side suspects the other side (false suspicions: those nodes are up);
//! once the partition heals, the first heartbeat across ends them and grows those timeouts.
//!
//! **Pause.** A paused node is suspected by the others after its timeout, and un-suspected on
//! its first heartbeat after it resumes. The paused node itself sees, when it runs again, that
//! its own last event is older than a timeout: it cannot tell its peers' silence from its own,
//! so it gives every peer a fresh timeout from that moment instead of suspecting them all.
//!
//! **Crash and restart.** The detector's state is soft and not persisted: a restarted node
//! trusts every peer for one timeout, then suspects those it has not heard from. Its heartbeats
//! carry its incarnation, so its peers know it restarted.
//!
//! **Planted bug (`failure-detector-one-clock`).** One last-heard time for all peers instead of
//! one per peer: while any peer is alive nobody is suspected, so a crashed node is never
//! suspected (completeness broken), which the workload's checker reports as a missed
//! detection.

use std::collections::BTreeMap;
use std::time::Duration;

use proto::Message;
use serde::{Deserialize, Serialize};

use crate::ctx::Ctx;
use crate::flags::{Flag, Flags, ms_default};
use crate::node::{Node, TimerId};

/// The detector's timing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DetectorConfig {
    /// How often a node sends a heartbeat to every peer.
    pub heartbeat: Duration,
    /// How long a peer may be silent before it is suspected, at first.
    pub timeout: Duration,
    /// How much a peer's timeout grows after it was suspected wrongly (0: fixed timeouts).
    pub grow: Duration,
    /// The largest a timeout grows.
    pub max_timeout: Duration,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        DetectorConfig {
            heartbeat: Duration::from_millis(100),
            timeout: Duration::from_millis(500),
            grow: Duration::from_millis(250),
            max_timeout: Duration::from_millis(2000),
        }
    }
}

impl DetectorConfig {
    /// The node program's flags.
    pub const FLAGS: [Flag; 4] = [
        Flag {
            name: "heartbeat-ms",
            value: "N",
            what: "how often a node sends a heartbeat to every other node, in ms",
            default: || ms_default(DetectorConfig::default().heartbeat),
        },
        Flag {
            name: "timeout-ms",
            value: "N",
            what: "how long a peer may be silent before it is suspected, in ms",
            default: || ms_default(DetectorConfig::default().timeout),
        },
        Flag {
            name: "grow-ms",
            value: "N",
            what: "how much a peer's timeout grows each time it was suspected wrongly, in ms; 0: \
                   fixed timeouts",
            default: || ms_default(DetectorConfig::default().grow),
        },
        Flag {
            name: "max-timeout-ms",
            value: "N",
            what: "the largest a peer's timeout grows to, in ms",
            default: || ms_default(DetectorConfig::default().max_timeout),
        },
    ];

    /// The settings from a node program's flags.
    pub fn from_flags(flags: &Flags) -> Result<DetectorConfig, String> {
        let defaults = DetectorConfig::default();
        let timeout = flags.ms("timeout-ms", defaults.timeout)?;
        let config = DetectorConfig {
            heartbeat: flags.ms("heartbeat-ms", defaults.heartbeat)?,
            timeout,
            grow: flags.ms_or_zero("grow-ms", defaults.grow)?,
            max_timeout: flags.ms("max-timeout-ms", defaults.max_timeout.max(timeout))?,
        };
        if config.max_timeout < config.timeout {
            return Err(format!(
                "--max-timeout-ms ({} ms) must be at least --timeout-ms ({} ms)",
                config.max_timeout.as_millis(),
                config.timeout.as_millis()
            ));
        }
        Ok(config)
    }
}

/// What a node knows of one peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Peer {
    /// When this node last heard from it.
    last_heard: Duration,
    /// How long it may be silent before it is suspected.
    timeout: Duration,
    /// Its incarnation, from its last heartbeat.
    incarnation: Option<u64>,
    /// Suspected at the last look.
    suspected: bool,
}

/// The messages of the detector: the client's request and the peers' heartbeat.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Request {
    Suspect,
    Heartbeat { incarnation: u64 },
}

/// The reply to `suspect`.
#[derive(Serialize)]
struct SuspectOk {
    #[serde(rename = "type")]
    kind: &'static str,
    suspects: Vec<String>,
}

/// The heartbeat failure detector (see the module documentation).
#[derive(Debug)]
pub struct FailureDetector {
    config: DetectorConfig,
    /// Every peer, by id.
    peers: BTreeMap<String, Peer>,
    /// When this node last handled an event (to notice that it was paused itself).
    last_event: Duration,
    /// The planted bug: one last-heard time for every peer.
    one_clock: bool,
}

impl FailureDetector {
    /// A detector with `config`.
    pub fn new(config: DetectorConfig) -> Self {
        FailureDetector {
            config,
            peers: BTreeMap::new(),
            last_event: Duration::ZERO,
            one_clock: false,
        }
    }

    /// The planted bug `failure-detector-one-clock`: any peer's message counts as a sign of
    /// life of every peer.
    pub fn one_clock(config: DetectorConfig) -> Self {
        FailureDetector {
            one_clock: true,
            ..FailureDetector::new(config)
        }
    }

    /// The peers suspected at the last look, in `init`'s order.
    pub fn suspects(&self, ctx: &Ctx) -> Vec<String> {
        ctx.peers()
            .filter(|p| self.peers.get(*p).is_some_and(|s| s.suspected))
            .map(str::to_owned)
            .collect()
    }

    /// The timeout of `peer` now (for tests and logs).
    pub fn timeout_of(&self, peer: &str) -> Option<Duration> {
        self.peers.get(peer).map(|p| p.timeout)
    }

    /// Every event begins here: if this node's own last event is older than the timeout (its
    /// heartbeat timer fires far more often), it was not running (paused, or starved of the
    /// processor), and its peers' silence means nothing: each gets a fresh timeout from now.
    fn wake(&mut self, now: Duration) {
        if now.saturating_sub(self.last_event) > self.config.timeout {
            for peer in self.peers.values_mut() {
                peer.last_heard = peer.last_heard.max(now);
            }
        }
        self.last_event = now;
    }

    /// Suspect the peers silent for longer than their timeout, and log the changes.
    fn look(&mut self, ctx: &Ctx) {
        let now = ctx.now();
        for (id, peer) in &mut self.peers {
            let silent = now.saturating_sub(peer.last_heard) > peer.timeout;
            if silent && !peer.suspected {
                ctx.log(format!(
                    "suspect {id}: silent for {} ms (timeout {} ms)",
                    now.saturating_sub(peer.last_heard).as_millis(),
                    peer.timeout.as_millis()
                ));
            }
            peer.suspected = silent;
        }
    }

    /// `from` was heard from now, in `incarnation` when the message says.
    fn heard(&mut self, ctx: &Ctx, from: &str, incarnation: Option<u64>) {
        let now = ctx.now();
        let config = self.config;
        if self.one_clock {
            for peer in self.peers.values_mut() {
                peer.last_heard = now;
            }
        }
        let Some(peer) = self.peers.get_mut(from) else {
            return;
        };
        let restarted = match (peer.incarnation, incarnation) {
            (Some(known), Some(new)) => known != new,
            _ => false,
        };
        let was_suspected = peer.suspected || now.saturating_sub(peer.last_heard) > peer.timeout;
        if was_suspected {
            if restarted {
                ctx.log(format!("trust {from} again: it restarted"));
            } else {
                peer.timeout = (peer.timeout + config.grow).min(config.max_timeout);
                ctx.log(format!(
                    "trust {from} again: suspected wrongly, its timeout is now {} ms",
                    peer.timeout.as_millis()
                ));
            }
        }
        peer.last_heard = now;
        peer.suspected = false;
        if incarnation.is_some() {
            peer.incarnation = incarnation;
        }
    }

    fn heartbeat(&self, ctx: &mut Ctx) {
        let beat = Request::Heartbeat {
            incarnation: ctx.incarnation(),
        };
        let peers: Vec<String> = ctx.peers().map(str::to_owned).collect();
        for peer in peers {
            ctx.send(&peer, &beat);
        }
    }
}

impl Node for FailureDetector {
    fn on_init(&mut self, ctx: &mut Ctx) {
        let now = ctx.now();
        self.last_event = now;
        self.peers = ctx
            .peers()
            .map(|p| {
                (
                    p.to_owned(),
                    Peer {
                        last_heard: now,
                        timeout: self.config.timeout,
                        incarnation: None,
                        suspected: false,
                    },
                )
            })
            .collect();
        self.heartbeat(ctx);
        ctx.set_timer(self.config.heartbeat);
    }

    fn on_message(&mut self, ctx: &mut Ctx, msg: Message) {
        self.wake(ctx.now());
        match msg.body.parse_custom::<Request>() {
            Ok(Request::Heartbeat { incarnation }) => {
                self.heard(ctx, &msg.src, Some(incarnation));
            }
            Ok(Request::Suspect) => {
                self.look(ctx);
                let reply = SuspectOk {
                    kind: "suspect_ok",
                    suspects: self.suspects(ctx),
                };
                ctx.reply(&msg, &reply);
            }
            Err(_) if self.peers.contains_key(&msg.src) => {
                // Any message from a peer is a sign of life.
                self.heard(ctx, &msg.src, None);
                ctx.not_supported(&msg);
            }
            Err(_) => ctx.not_supported(&msg),
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx, _timer: TimerId) {
        self.wake(ctx.now());
        self.heartbeat(ctx);
        self.look(ctx);
        ctx.set_timer(self.config.heartbeat);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::script::Script;

    const MS: Duration = Duration::from_millis(1);

    fn config() -> DetectorConfig {
        DetectorConfig {
            heartbeat: 100 * MS,
            timeout: 500 * MS,
            grow: 250 * MS,
            max_timeout: 2000 * MS,
        }
    }

    /// n0 of n0, n1, n2, its init_ok and first heartbeats looked at.
    fn start(node: FailureDetector) -> Script<FailureDetector> {
        let mut s = Script::start(node, 1, &["n0", "n1", "n2"], "n1");
        s.expect("c0", "init_ok");
        s.expect("n1", "heartbeat");
        s.expect("n2", "heartbeat");
        s
    }

    /// Ask n0 who it suspects.
    fn suspects(s: &mut Script<FailureDetector>) -> Vec<String> {
        s.outbox.clear();
        s.deliver("c1", json!({"type": "suspect", "msg_id": 7}));
        let reply = s.expect("c1", "suspect_ok");
        assert_eq!(reply.body.in_reply_to, Some(7));
        let body = reply.body.to_value();
        serde_json::from_value(body["suspects"].clone()).unwrap()
    }

    fn beat(s: &mut Script<FailureDetector>, from: &str, incarnation: u64) {
        s.deliver(
            from,
            json!({"type": "heartbeat", "incarnation": incarnation}),
        );
    }

    /// Let `ms` pass in steps of 100 ms, `n2` alone heartbeating at each (n1 silent).
    fn only_n2_beats(s: &mut Script<FailureDetector>, ms: u64) {
        for _ in 0..ms / 100 {
            s.advance(100 * MS);
            beat(s, "n2", 1);
        }
    }

    #[test]
    fn a_node_heartbeats_every_peer_each_interval() {
        let mut s = start(FailureDetector::new(config()));
        s.advance(100 * MS);
        s.expect("n1", "heartbeat");
        let beat = s.expect("n2", "heartbeat");
        assert!(beat.body.to_value()["incarnation"].is_u64(), "{beat:?}");
        assert!(beat.body.msg_id.is_none(), "heartbeats are fire and forget");
        assert!(s.outbox.is_empty());
    }

    #[test]
    fn a_peer_silent_for_longer_than_the_timeout_is_suspected_and_not_before() {
        let mut s = start(FailureDetector::new(config()));
        beat(&mut s, "n1", 1);
        only_n2_beats(&mut s, 500);
        assert!(
            suspects(&mut s).is_empty(),
            "silent for exactly the timeout"
        );
        s.advance(MS);
        assert_eq!(suspects(&mut s), ["n1"]);
    }

    #[test]
    fn a_suspected_peer_is_trusted_again_on_its_next_heartbeat_and_its_timeout_grows() {
        let mut s = start(FailureDetector::new(config()));
        beat(&mut s, "n1", 1);
        only_n2_beats(&mut s, 700);
        assert_eq!(suspects(&mut s), ["n1"]);
        beat(&mut s, "n1", 1);
        assert!(suspects(&mut s).is_empty());
        // Suspected wrongly (same incarnation): its timeout grew by --grow-ms.
        assert_eq!(s.rt.node().timeout_of("n1"), Some(750 * MS));
        only_n2_beats(&mut s, 700);
        assert!(
            suspects(&mut s).is_empty(),
            "700 ms is within the new timeout"
        );
        only_n2_beats(&mut s, 100);
        assert_eq!(suspects(&mut s), ["n1"]);
    }

    #[test]
    fn a_peer_back_in_a_new_incarnation_was_rightly_suspected_and_keeps_its_timeout() {
        let mut s = start(FailureDetector::new(config()));
        beat(&mut s, "n1", 1);
        only_n2_beats(&mut s, 700);
        assert_eq!(suspects(&mut s), ["n1"]);
        beat(&mut s, "n1", 2);
        assert!(suspects(&mut s).is_empty());
        assert_eq!(s.rt.node().timeout_of("n1"), Some(500 * MS));
    }

    #[test]
    fn timeouts_grow_no_further_than_the_maximum() {
        let mut s = start(FailureDetector::new(config()));
        for _ in 0..10 {
            only_n2_beats(&mut s, 2100);
            beat(&mut s, "n1", 1);
        }
        assert_eq!(s.rt.node().timeout_of("n1"), Some(2000 * MS));
    }

    #[test]
    fn a_node_that_was_paused_itself_gives_its_peers_a_fresh_timeout() {
        let mut s = start(FailureDetector::new(config()));
        // Nothing runs for 3 s (the node was paused); then a client asks before any heartbeat
        // is handled.
        s.now += 3000 * MS;
        assert!(suspects(&mut s).is_empty());
        for _ in 0..6 {
            s.advance(100 * MS);
        }
        assert_eq!(suspects(&mut s), ["n1", "n2"]);
    }

    #[test]
    fn the_one_clock_bug_never_suspects_a_silent_peer_while_another_speaks() {
        let mut s = start(FailureDetector::one_clock(config()));
        only_n2_beats(&mut s, 3000);
        assert!(suspects(&mut s).is_empty(), "n1 is silent, yet trusted");
        let mut s = start(FailureDetector::new(config()));
        only_n2_beats(&mut s, 3000);
        assert_eq!(suspects(&mut s), ["n1"]);
    }

    #[test]
    fn other_requests_are_refused_and_flags_are_checked() {
        let mut s = start(FailureDetector::new(config()));
        s.deliver("c1", json!({"type": "read", "msg_id": 3}));
        let reply = s.expect("c1", "error");
        assert_eq!(
            reply.body.error_code(),
            Some(proto::ErrorCode::NotSupported)
        );
        let args = |a: &[&str]| a.iter().map(|w| (*w).to_owned()).collect::<Vec<_>>();
        let a = args(&["--timeout-ms", "900", "--max-timeout-ms", "300"]);
        let f = Flags::parse(&a, &["timeout-ms", "max-timeout-ms"]).unwrap();
        let err = DetectorConfig::from_flags(&f).unwrap_err();
        assert!(err.contains("--max-timeout-ms (300 ms)"), "{err}");
        let a = args(&["--timeout-ms", "5000"]);
        let f = Flags::parse(&a, &["timeout-ms"]).unwrap();
        let c = DetectorConfig::from_flags(&f).unwrap();
        assert_eq!(
            (c.timeout, c.max_timeout),
            (5000 * MS, 5000 * MS),
            "a long timeout raises the default maximum with it"
        );
    }
}
