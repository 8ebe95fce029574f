//! Every reference node by its name: one table that both the node binaries (`src/bin/`) and the
//! harness's simulator (`harness test --sim --node NAME`) build nodes from, so a node runs with
//! the same flags, the same defaults and the same code in a process and in virtual time.
//!
//! Each entry names the node, says in one line what it is (and, for a planted bug, what it
//! breaks), lists the flags it takes, and builds the node from them.

use crate::broadcast::Service;
use crate::broadcast::bracha::{Bracha, BrachaConfig};
use crate::broadcast::causal::Causal;
use crate::broadcast::causal_forgets::CausalForgets;
use crate::broadcast::eager::{Eager, EagerConfig};
use crate::broadcast::fifo::Fifo;
use crate::broadcast::fifo_reorder::FifoReorder;
use crate::broadcast::gossip::{GossipConfig, GossipNode, Peers};
use crate::broadcast::quorum::{QuorumConfig, Watermark};
use crate::broadcast::total_lamport::{TotalLamport, TotalOrderConfig};
use crate::broadcast::total_leader::TotalLeader;
use crate::broadcast::total_tiebreak::TotalTiebreak;
use crate::crdt::g_set::GSet;
use crate::crdt::g_set_lossy::GSetLossy;
use crate::crdt::pn_counter::PnCounter;
use crate::crdt::pn_counter_double_count::PnCounterDoubleCount;
use crate::crdt::{Replica, ReplicaConfig};
use crate::failure_detector::{DetectorConfig, FailureDetector};
use crate::flags::{Flag, Flags, ms_default};
use crate::kv::gossip::{GossipKv, GossipKvConfig, Stamps};
use crate::kv::tob::TobKvConfig;
use crate::node::Node;
use crate::txn::replicated::{ReplicatedConfig, ReplicatedTxn, Replication};

/// A node, boxed, so that nodes of different types come out of one table.
pub type BoxedNode = Box<dyn Node + Send>;

/// One node of the catalog.
pub struct Entry {
    /// The binary's name, and `--node`'s value under the simulator.
    pub name: &'static str,
    /// What it is, in one line.
    pub about: &'static str,
    /// True for a node with a bug planted on purpose (the harness must catch it).
    pub planted_bug: bool,
    /// The flags it takes, with their defaults (its `--help`).
    pub flags: &'static [Flag],
    build: fn(&Flags) -> Result<BoxedNode, String>,
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry").field("name", &self.name).finish()
    }
}

impl Entry {
    /// The node program's `--help`.
    pub fn help(&self) -> String {
        crate::flags::help(self.name, self.about, self.flags)
    }

    /// A node built from `args` (the words after the node's name), or why it cannot be.
    pub fn build(&self, args: &[String]) -> Result<BoxedNode, String> {
        let names: Vec<&str> = self.flags.iter().map(|f| f.name).collect();
        let flags = Flags::parse(args, &names).map_err(|e| format!("{}: {e}", self.name))?;
        (self.build)(&flags).map_err(|e| format!("{}: {e}", self.name))
    }
}

/// `--interval-ms` of the nodes built on the quorum layer (FIFO, causal, the leader's total
/// order).
const INTERVAL: &[Flag] = &[Flag {
    name: "interval-ms",
    value: "N",
    what: "how long the links batch messages before sending, in ms",
    default: || ms_default(QuorumConfig::new(Watermark::Stable).link.interval),
}];
/// The flags of the Lamport total orders.
const TOTAL: &[Flag] = &[
    Flag {
        name: "interval-ms",
        value: "N",
        what: "how long the links batch messages before sending, in ms",
        default: || ms_default(TotalOrderConfig::default().quorum.link.interval),
    },
    Flag {
        name: "tick-ms",
        value: "N",
        what: "at most one Lamport tick per this many ms (ticks let deliveries advance)",
        default: || ms_default(TotalOrderConfig::default().tick),
    },
];

/// The quorum settings of the FIFO, causal and leader nodes: `--interval-ms N`.
fn quorum(f: &Flags, watermark: Watermark) -> Result<QuorumConfig, String> {
    let config = QuorumConfig::new(watermark);
    let interval = f.ms("interval-ms", config.link.interval)?;
    Ok(config.with_interval(interval))
}

/// The Lamport total order's settings: `--interval-ms N`, `--tick-ms N`.
fn total_order(f: &Flags) -> Result<TotalOrderConfig, String> {
    let mut config = TotalOrderConfig::default();
    let interval = f.ms("interval-ms", config.quorum.link.interval)?;
    config.quorum = config.quorum.with_interval(interval);
    config.tick = f.ms("tick-ms", config.tick)?;
    Ok(config)
}
const TOB: &[Flag] = &TobKvConfig::FLAGS;
const REPLICATED_TXN: &[Flag] = &ReplicatedConfig::FLAGS;

/// The transactional replicas' settings: `--retry-ms N`.
fn replicated_txn(f: &Flags, replication: Replication) -> Result<ReplicatedConfig, String> {
    let mut config = ReplicatedConfig::new(replication);
    config.retry = f.ms("retry-ms", config.retry)?;
    Ok(config)
}
const CRDT: &[Flag] = &ReplicaConfig::FLAGS;
const DETECTOR: &[Flag] = &DetectorConfig::FLAGS;

/// kv-gossip's `--interval-ms`.
const KV_GOSSIP_INTERVAL: Flag = Flag {
    name: "interval-ms",
    value: "N",
    what: "how often a node gossips the writes it learnt, in ms",
    default: || ms_default(GossipKvConfig::default().interval),
};
/// kv-gossip's `--anti-entropy-ms`.
const KV_GOSSIP_ANTI_ENTROPY: Flag = Flag {
    name: "anti-entropy-ms",
    value: "N",
    what: "time between anti-entropy exchanges of the whole store, in ms",
    default: || ms_default(GossipKvConfig::default().anti_entropy),
};

/// kv-gossip with its timing flags and `stamps`.
fn kv_gossip(f: &Flags, stamps: Stamps) -> Result<BoxedNode, String> {
    let mut config = GossipKvConfig {
        stamps,
        ..GossipKvConfig::default()
    };
    config.interval = f.ms("interval-ms", config.interval)?;
    config.anti_entropy = f.ms("anti-entropy-ms", config.anti_entropy)?;
    Ok(Box::new(GossipKv::new(config)))
}

/// Every node, correct ones first, then the planted bugs.
pub const CATALOG: &[Entry] = &[
    Entry {
        name: "echo",
        about: "echoes every message back (Gossip Glomers 1)",
        planted_bug: false,
        flags: &[],
        build: |_| Ok(Box::new(crate::echo::Echo)),
    },
    Entry {
        name: "unique-ids",
        about: "ids from node, incarnation and counter, no coordination (Gossip Glomers 2)",
        planted_bug: false,
        flags: &[],
        build: |_| Ok(Box::new(crate::unique_ids::UniqueIds::default())),
    },
    Entry {
        name: "time-sync",
        about: "an NTP client: polls the time server, slews small offsets, steps large ones, \
                panics beyond its threshold",
        planted_bug: false,
        flags: &crate::time_sync::TimeSyncConfig::FLAGS,
        build: |f| {
            Ok(Box::new(crate::time_sync::TimeSync::new(
                crate::time_sync::TimeSyncConfig::from_flags(f)?,
            )))
        },
    },
    Entry {
        name: "broadcast-eager",
        about: "eager reliable broadcast: every node relays every new value to every other",
        planted_bug: false,
        flags: &[Flag {
            name: "interval-ms",
            value: "N",
            what: "how long the links batch messages before sending, in ms; 0: no batching, \
                   one message per copy of a value (the textbook)",
            default: || ms_default(EagerConfig::default().link.interval),
        }],
        build: |f| {
            let mut config = EagerConfig::default();
            config.link.interval = f.ms_or_zero("interval-ms", config.link.interval)?;
            Ok(Box::new(Service::new(Eager::new(config))))
        },
    },
    Entry {
        name: "broadcast-bracha",
        about: "Bracha's reliable broadcast: INITIAL, ECHO, READY quorums; correct despite f \
                Byzantine nodes when n >= 3f + 1",
        planted_bug: false,
        flags: &[
            Flag {
                name: "faulty",
                value: "F|auto",
                what: "how many Byzantine nodes to tolerate (quorums: ceil((n + f + 1) / 2) \
                       echoes, f + 1 or 2f + 1 readies); auto: floor((n - 1) / 3)",
                default: || "auto".into(),
            },
            Flag {
                name: "retry-ms",
                value: "N",
                what: "how often a node sends again what a peer has not acknowledged, in ms; \
                       0: never",
                default: || ms_default(BrachaConfig::default().retry),
            },
        ],
        build: |f| {
            let mut config = BrachaConfig::default();
            config.faulty = match f.get::<String>("faulty", "auto".into())?.as_str() {
                "auto" => None,
                given => Some(given.parse().map_err(|e| {
                    format!("--faulty: cannot parse {given:?}: {e} (a number, or auto)")
                })?),
            };
            config.retry = f.ms_or_zero("retry-ms", config.retry)?;
            Ok(Box::new(Service::new(Bracha::new(config))))
        },
    },
    Entry {
        name: "broadcast-gossip",
        about: "gossip with batching and anti-entropy, along a spanning tree or to random peers",
        planted_bug: false,
        flags: &[
            Flag {
                name: "peers",
                value: "tree|random",
                what: "where pushes go: down a spanning tree, or to random peers",
                default: || "tree".into(),
            },
            Flag {
                name: "fanout",
                value: "N",
                what: "children per node in the push tree, or random peers per push (default 3 \
                       with --peers random)",
                default: || GossipConfig::default().fanout.to_string(),
            },
            Flag {
                name: "interval-ms",
                value: "N",
                what: "how often a node pushes what it learnt since the last push, in ms; 0: \
                       no batching, each value pushed at once in a message of its own",
                default: || ms_default(GossipConfig::default().interval),
            },
            Flag {
                name: "anti-entropy-ms",
                value: "N",
                what: "time between anti-entropy exchanges of digests with a peer, in ms",
                default: || ms_default(GossipConfig::default().anti_entropy),
            },
        ],
        build: |f| {
            let defaults = GossipConfig::default();
            let peers: Peers = f.get("peers", defaults.peers)?;
            let config = GossipConfig {
                peers,
                fanout: f.get("fanout", peers.default_fanout())?.max(1),
                interval: f.ms_or_zero("interval-ms", defaults.interval)?,
                anti_entropy: f.ms("anti-entropy-ms", defaults.anti_entropy)?,
                ..defaults
            };
            Ok(Box::new(Service::new(GossipNode::new(config))))
        },
    },
    Entry {
        name: "broadcast-fifo",
        about: "FIFO broadcast: per-sender sequence numbers and a hold-back queue",
        planted_bug: false,
        flags: INTERVAL,
        build: |f| {
            Ok(Box::new(Service::new(Fifo::new(quorum(
                f,
                Watermark::Stable,
            )?))))
        },
    },
    Entry {
        name: "broadcast-causal",
        about: "causal broadcast with vector clocks",
        planted_bug: false,
        flags: INTERVAL,
        build: |f| {
            Ok(Box::new(Service::new(Causal::new(quorum(
                f,
                Watermark::Committed,
            )?))))
        },
    },
    Entry {
        name: "broadcast-total-leader",
        about: "total-order broadcast through a leader that numbers every value",
        planted_bug: false,
        flags: INTERVAL,
        build: |f| {
            Ok(Box::new(Service::new(TotalLeader::new(quorum(
                f,
                Watermark::Stable,
            )?))))
        },
    },
    Entry {
        name: "broadcast-total-lamport",
        about: "total-order broadcast by Lamport timestamps, delivered once every node is past",
        planted_bug: false,
        flags: TOTAL,
        build: |f| Ok(Box::new(Service::new(TotalLamport::new(total_order(f)?)))),
    },
    Entry {
        name: "g-counter",
        about: "a grow-only counter on the seq-kv service (Gossip Glomers 4)",
        planted_bug: false,
        flags: &[],
        build: |_| Ok(Box::new(crate::g_counter::GCounter::default())),
    },
    Entry {
        name: "g-set",
        about: "a state-based grow-only set CRDT, gossiped",
        planted_bug: false,
        flags: CRDT,
        build: |f| {
            Ok(Box::new(Replica::<GSet>::new(ReplicaConfig::from_flags(
                f,
            )?)))
        },
    },
    Entry {
        name: "pn-counter",
        about: "a state-based PN-counter CRDT, gossiped",
        planted_bug: false,
        flags: CRDT,
        build: |f| {
            Ok(Box::new(Replica::<PnCounter>::new(
                ReplicaConfig::from_flags(f)?,
            )))
        },
    },
    Entry {
        name: "lin-kv-leader",
        about: "a linearizable key-value store: every operation through a fixed leader",
        planted_bug: false,
        flags: &[],
        build: |_| Ok(Box::new(crate::kv::leader::LeaderKv::default())),
    },
    Entry {
        name: "lin-kv-tob",
        about: "a linearizable key-value store over total-order broadcast, reads ordered too",
        planted_bug: false,
        flags: TOB,
        build: |f| {
            Ok(Box::new(crate::kv::tob::TobKv::new(
                TobKvConfig::from_flags(f)?,
            )))
        },
    },
    Entry {
        name: "txn-single",
        about: "transactions run one at a time at n0, the one copy; strict serializable (Gossip Glomers 6a)",
        planted_bug: false,
        flags: &[],
        build: |_| Ok(Box::new(crate::txn::single::SingleCopy::default())),
    },
    Entry {
        name: "txn-rc",
        about: "totally available transactions, last-writer-wins by Lamport timestamp; read committed, rw-register (Gossip Glomers 6c)",
        planted_bug: false,
        flags: REPLICATED_TXN,
        build: |f| {
            Ok(Box::new(ReplicatedTxn::new(replicated_txn(
                f,
                Replication::Committed,
            )?)))
        },
    },
    Entry {
        name: "failure-detector",
        about: "heartbeats and timeouts that grow after a false suspicion: an eventually perfect failure detector",
        planted_bug: false,
        flags: DETECTOR,
        build: |f| {
            Ok(Box::new(FailureDetector::new(DetectorConfig::from_flags(
                f,
            )?)))
        },
    },
    Entry {
        name: "kv-gossip",
        about: "a key-value store replicated by gossip, last writer wins: not linearizable",
        planted_bug: true,
        flags: &[
            KV_GOSSIP_INTERVAL,
            KV_GOSSIP_ANTI_ENTROPY,
            Flag {
                name: "stamps",
                value: "lamport|wall",
                what: "what stamps a write: the node's Lamport clock, or its wall clock (loses \
                       writes when clocks are skewed)",
                default: || Stamps::Lamport.name().into(),
            },
        ],
        build: |f| kv_gossip(f, f.get("stamps", Stamps::Lamport)?),
    },
    Entry {
        name: "kafka-lin-kv",
        about: "Kafka-style logs with offsets and commits kept in the lin-kv service",
        planted_bug: false,
        flags: &[],
        build: |_| Ok(Box::new(crate::kafka::lin_kv::LinKvLogs::default())),
    },
    Entry {
        name: "kafka-replicated",
        about: "Kafka-style logs replicated over total-order broadcast",
        planted_bug: false,
        flags: TOB,
        build: |f| {
            Ok(Box::new(crate::kafka::replicated::Replicated::new(
                TobKvConfig::from_flags(f)?,
            )))
        },
    },
    Entry {
        name: "kv-stale-reads",
        about: "writes through total order, reads from local state: stale reads",
        planted_bug: true,
        flags: TOB,
        build: |f| {
            Ok(Box::new(crate::kv::stale_reads::StaleReadsKv::new(
                TobKvConfig::from_flags(f)?,
            )))
        },
    },
    Entry {
        name: "g-set-lossy",
        about: "a g-set whose merge drops the peer's newest element",
        planted_bug: true,
        flags: CRDT,
        build: |f| {
            Ok(Box::new(Replica::<GSetLossy>::new(
                ReplicaConfig::from_flags(f)?,
            )))
        },
    },
    Entry {
        name: "pn-counter-double-count",
        about: "a PN-counter whose merge adds instead of taking the maximum",
        planted_bug: true,
        flags: CRDT,
        build: |f| {
            Ok(Box::new(Replica::<PnCounterDoubleCount>::new(
                ReplicaConfig::from_flags(f)?,
            )))
        },
    },
    Entry {
        name: "kafka-racy-offsets",
        about: "Kafka-style logs whose offsets are read, then written: two sends get one offset",
        planted_bug: true,
        flags: &[],
        build: |_| Ok(Box::new(crate::kafka::racy::RacyOffsets::default())),
    },
    Entry {
        name: "broadcast-fifo-reorder",
        about: "FIFO broadcast that delivers a message at once when only its predecessor is missing",
        planted_bug: true,
        flags: INTERVAL,
        build: |f| {
            Ok(Box::new(Service::new(FifoReorder::new(quorum(
                f,
                Watermark::Stable,
            )?))))
        },
    },
    Entry {
        name: "broadcast-causal-forgets",
        about: "causal broadcast whose vector clock misses the node's latest delivery",
        planted_bug: true,
        flags: INTERVAL,
        build: |f| {
            Ok(Box::new(Service::new(CausalForgets::new(quorum(
                f,
                Watermark::Committed,
            )?))))
        },
    },
    Entry {
        name: "broadcast-total-tiebreak",
        about: "Lamport total order that breaks timestamp ties by arrival, not by sender",
        planted_bug: true,
        flags: TOTAL,
        build: |f| {
            Ok(Box::new(Service::new(TotalTiebreak::with_order(
                total_order(f)?,
            ))))
        },
    },
    Entry {
        name: "lin-kv-forgets-on-restart",
        about: "the leader store, saving each write only when the next one arrives",
        planted_bug: true,
        flags: &[],
        build: |_| Ok(Box::new(crate::kv::forgets_on_restart::forgets_on_restart())),
    },
    Entry {
        name: "g-counter-double-count",
        about: "a counter that forwards each add and counts every copy that arrives",
        planted_bug: true,
        flags: &[],
        build: |_| {
            Ok(Box::new(
                crate::crdt::g_counter_double_count::GCounterDoubleCount::default(),
            ))
        },
    },
    Entry {
        name: "unique-ids-restart",
        about: "ids from node and counter only: a restarted node mints them again",
        planted_bug: true,
        flags: &[],
        build: |_| Ok(Box::new(crate::unique_ids_restart::unique_ids_restart())),
    },
    Entry {
        name: "failure-detector-one-clock",
        about: "a failure detector with one last-heard time for all peers: never suspects a crashed node while another is alive",
        planted_bug: true,
        flags: DETECTOR,
        build: |f| {
            Ok(Box::new(FailureDetector::one_clock(
                DetectorConfig::from_flags(f)?,
            )))
        },
    },
    Entry {
        name: "time-sync-once",
        about: "time-sync that synchronises once and claims to be right ever after, whatever \
                its clock does",
        planted_bug: true,
        flags: &crate::time_sync::TimeSyncConfig::FLAGS,
        build: |f| {
            Ok(Box::new(crate::time_sync::time_sync_once(
                crate::time_sync::TimeSyncConfig::from_flags(f)?,
            )))
        },
    },
    Entry {
        name: "txn-dirty-writes",
        about: "txn-rc replicating each write alone, applied in arrival order: G0 write cycles",
        planted_bug: true,
        flags: REPLICATED_TXN,
        build: |f| {
            Ok(Box::new(crate::txn::dirty_writes::dirty_writes(
                replicated_txn(f, Replication::ArrivalOrder)?,
            )))
        },
    },
    Entry {
        name: "txn-intermediate-reads",
        about: "txn-rc replicating each write micro-op as it runs: G1b intermediate reads (rw-register)",
        planted_bug: true,
        flags: REPLICATED_TXN,
        build: |f| {
            Ok(Box::new(
                crate::txn::intermediate_reads::intermediate_reads(replicated_txn(
                    f,
                    Replication::EachWrite,
                )?),
            ))
        },
    },
    Entry {
        name: "txn-aborted-reads",
        about: "txn-single answering error 30 to every n-th writer, its writes kept: G1a aborted reads",
        planted_bug: true,
        flags: &[Flag {
            name: "abort-every",
            value: "N",
            what: "every Nth transaction that writes is answered as aborted, its writes kept \
                   (the bug)",
            default: || crate::txn::aborted_reads::ABORT_EVERY.to_string(),
        }],
        build: |f| {
            let every = f.get("abort-every", crate::txn::aborted_reads::ABORT_EVERY)?;
            if every == 0 {
                return Err("--abort-every must be positive".to_owned());
            }
            Ok(Box::new(crate::txn::aborted_reads::aborted_reads(every)))
        },
    },
    Entry {
        name: "txn-lost-updates",
        about: "txn-single reading at arrival, writing later unchecked: G-single lost updates",
        planted_bug: true,
        flags: &[Flag {
            name: "commit-delay-ms",
            value: "N",
            what: "how long after its reads a transaction's writes are applied, unchecked, in \
                   ms (the bug)",
            default: || ms_default(crate::txn::lost_updates::COMMIT_DELAY),
        }],
        build: |f| {
            let delay = f.ms("commit-delay-ms", crate::txn::lost_updates::COMMIT_DELAY)?;
            Ok(Box::new(crate::txn::lost_updates::lost_updates(delay)))
        },
    },
    Entry {
        name: "kv-gossip-wall-clock",
        about: "kv-gossip stamping writes with wall clocks (--stamps wall): skewed clocks lose \
                writes",
        planted_bug: true,
        flags: &[KV_GOSSIP_INTERVAL, KV_GOSSIP_ANTI_ENTROPY],
        build: |f| kv_gossip(f, Stamps::Wall),
    },
];

/// The catalog entry named `name`.
pub fn entry(name: &str) -> Option<&'static Entry> {
    CATALOG.iter().find(|e| e.name == name)
}

/// The node named `name`, built from `args`; or why not (an unknown name lists the known ones).
pub fn build(name: &str, args: &[String]) -> Result<BoxedNode, String> {
    match entry(name) {
        Some(entry) => entry.build(args),
        None => Err(format!(
            "no node named {name:?}; the nodes are: {}",
            names()
        )),
    }
}

/// The names of every node of the catalog, comma-separated (for messages).
pub fn names() -> String {
    CATALOG
        .iter()
        .map(|e| e.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The `main` of node binary `name`: build it from the program's arguments and run it on
/// stdin/stdout; a bad flag is one line on stderr and exit code 2.
pub fn main(name: &str) -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if crate::flags::asks_for_help(&args)
        && let Some(entry) = entry(name)
    {
        print!("{}", entry.help());
        return std::process::ExitCode::SUCCESS;
    }
    match build(name, &args) {
        Ok(node) => crate::driver::run(node),
        Err(err) => {
            eprintln!("{err}");
            std::process::ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_node_helps_with_each_flag_and_a_default_it_accepts() {
        for entry in CATALOG {
            let help = entry.help();
            assert!(help.starts_with(&format!("{}: {}", entry.name, entry.about)));
            assert!(help.contains("-h, --help"), "{help}");
            for flag in entry.flags {
                let default = (flag.default)();
                assert!(
                    help.contains(&format!("--{} {}", flag.name, flag.value))
                        && help.contains(&format!("[default: {default}]")),
                    "{}: --{}\n{help}",
                    entry.name,
                    flag.name
                );
                // The default shown is one the node takes.
                let args = [format!("--{}", flag.name), default.clone()];
                assert!(
                    entry.build(&args).is_ok(),
                    "{} --{} {default}",
                    entry.name,
                    flag.name
                );
            }
        }
        let gossip = entry("broadcast-gossip").unwrap().help();
        assert!(gossip.contains("--interval-ms N"), "{gossip}");
        assert!(gossip.contains("[default: 150]"), "{gossip}");
        assert!(gossip.contains("[default: 24]"), "{gossip}");
        let eager = entry("broadcast-eager").unwrap().help();
        assert!(eager.contains("[default: 250]"), "{eager}");
    }

    #[test]
    fn every_binary_is_in_the_catalog_and_every_entry_has_a_binary() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/bin");
        let mut binaries: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| {
                let name = e.unwrap().file_name().into_string().unwrap();
                name.trim_end_matches(".rs").to_owned()
            })
            .collect();
        binaries.sort();
        let mut names: Vec<String> = CATALOG.iter().map(|e| e.name.to_owned()).collect();
        names.sort();
        assert_eq!(binaries, names);
        for name in &names {
            let text = std::fs::read_to_string(dir.join(format!("{name}.rs"))).unwrap();
            assert!(
                text.contains(&format!("nodes::catalog::main({name:?})")),
                "src/bin/{name}.rs must run its catalog entry"
            );
        }
    }

    #[test]
    fn every_entry_builds_with_its_defaults_and_refuses_a_bad_flag() {
        for entry in CATALOG {
            assert!(entry.build(&[]).is_ok(), "{}", entry.name);
            let err = entry
                .build(&["--no-such-flag".into(), "1".into()])
                .err()
                .unwrap();
            assert!(err.starts_with(&format!("{}: unknown argument", entry.name)));
        }
        let err = build("nope", &[]).err().unwrap();
        assert!(err.contains("broadcast-fifo"), "{err}");
        let err = build("broadcast-fifo", &["--interval-ms".into(), "x".into()])
            .err()
            .unwrap();
        assert!(err.contains("cannot parse"), "{err}");
    }
}
