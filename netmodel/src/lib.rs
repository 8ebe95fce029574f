//! The simulated network (DESIGN.md, "Network and faults"): the course's system model of the
//! network (2.3), made adjustable. Links between servers have a delay drawn from a latency
//! distribution; the nemesis can make them *fair-loss* (each message lost with probability p),
//! duplicate messages, and partition the nodes.
//!
//! [`Network`] is a pure component: it owns no clock, no socket and no thread. Whoever moves
//! the messages asks it, for every message, when the message is delivered ([`Network::route`]:
//! a time, two times if it is duplicated, or lost), and, when that time comes, whether a
//! partition blocks the delivery ([`Network::blocked`]: partitions are checked at delivery,
//! not at send, so a message in flight when a partition starts is cut off, and one sent during
//! a partition that arrives after it heals gets through). Times are nanoseconds since the run
//! started: the harness's process backend passes real time, its in-process backend and the
//! node library's test cluster (`nodes::sim`) virtual time.
//!
//! Which links suffer what:
//!
//! | link | latency | loss, duplication | partitions |
//! |---|---|---|---|
//! | node <-> node | yes | yes | yes |
//! | node <-> service (the harness's `lin-kv`, `seq-kv`, `lww-kv`, `lin-tso`) | yes | no | no |
//! | anything <-> client (`c<digits>`) | no (zero) | no | no |
//!
//! Service links are reliable on purpose: a duplicated `write` to `lin-kv` that arrives after
//! a later write would make the service itself non-linearizable, and the services stand for
//! systems that keep their own promises. Clients talk to their node over a perfect link, as in
//! Maelstrom. A destination that is none of the above (an id no one knows) is treated like a
//! node that no partition names.
//!
//! The model knows nodes by their ids and services only as data: the ids given to
//! [`Network::with_services`] (a caller that classifies its peers itself passes
//! [`Endpoint`]s and need not name them).
//!
//! Every random draw comes from one ChaCha8 stream seeded from the run's seed: the same seed
//! and the same sequence of calls give the same answers. The common path allocates nothing.

mod latency;
mod partition;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rustc_hash::FxHashMap;
use thiserror::Error;

pub use latency::{Latency, LatencyDist, UnknownLatencyDist};
pub use partition::{Grudge, UnknownNode};

use partition::Cuts;

/// The ChaCha stream the network draws from, so that it never shares numbers with the other
/// users of the run's seed.
const RNG_STREAM: u64 = 0x6e_65_74;

/// One end of a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// A node of the cluster, by its index in the node ids.
    Node(usize),
    /// One of the services (the ids given to [`Network::with_services`]).
    Service,
    /// A client (`c<digits>`).
    Client,
    /// Any other id.
    Other,
}

impl Endpoint {
    fn is_server_link(self, other: Endpoint) -> bool {
        self != Endpoint::Client && other != Endpoint::Client
    }

    fn is_faulty_link(self, other: Endpoint) -> bool {
        let faulty = |e: Endpoint| matches!(e, Endpoint::Node(_) | Endpoint::Other);
        faulty(self) && faulty(other)
    }
}

/// True for a client id: `c` followed by at least one digit and nothing else (Maelstrom's
/// naming).
fn is_client(id: &str) -> bool {
    id.len() > 1 && id.starts_with('c') && id[1..].bytes().all(|b| b.is_ascii_digit())
}

/// What happens to a message sent at some time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Lost on the way (the loss fault).
    Lost,
    /// Delivered once, at `at` (unless a partition blocks it then).
    Deliver { at: u64 },
    /// Delivered twice (the duplicate fault); each delivery is checked against partitions.
    Duplicate { first: u64, second: u64 },
}

impl Fate {
    /// The delivery times, earliest first: none, one or two.
    pub fn deliveries(self) -> impl Iterator<Item = u64> {
        let (times, count) = match self {
            Fate::Lost => ([0, 0], 0),
            Fate::Deliver { at } => ([at, 0], 1),
            Fate::Duplicate { first, second } => ([first.min(second), first.max(second)], 2),
        };
        times.into_iter().take(count)
    }
}

/// A probability outside `[0, 1]`.
#[derive(Debug, Clone, Copy, PartialEq, Error)]
#[error("a probability must be between 0 and 1, not {0}")]
pub struct BadProbability(pub f64);

fn probability(p: f64) -> Result<f64, BadProbability> {
    if (0.0..=1.0).contains(&p) {
        Ok(p)
    } else {
        Err(BadProbability(p))
    }
}

/// The simulated network of one run.
#[derive(Debug, Clone)]
pub struct Network {
    index: FxHashMap<String, usize>,
    latency: Latency,
    rng: ChaCha8Rng,
    cuts: Cuts,
    loss: f64,
    duplicate: f64,
    services: Vec<String>,
}

impl Network {
    /// The network among `node_ids`, with delays from `latency`, drawing from `seed` (the
    /// run's seed; the network uses its own stream of it). No faults at first.
    pub fn new(node_ids: &[String], latency: Latency, seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(RNG_STREAM);
        Network {
            index: node_ids
                .iter()
                .enumerate()
                .map(|(i, id)| (id.clone(), i))
                .collect(),
            latency,
            rng,
            cuts: Cuts::new(node_ids.len()),
            loss: 0.0,
            duplicate: 0.0,
            services: Vec::new(),
        }
    }

    /// The same network, knowing `ids` as services: [`Network::endpoint`] calls them
    /// [`Endpoint::Service`] (reliable links, never partitioned). Without this every id that is
    /// neither a node nor a client is [`Endpoint::Other`].
    pub fn with_services<S: Into<String>>(mut self, ids: impl IntoIterator<Item = S>) -> Self {
        self.services = ids.into_iter().map(Into::into).collect();
        self
    }

    /// What kind of endpoint `id` is. Cheap: no allocation.
    pub fn endpoint(&self, id: &str) -> Endpoint {
        if let Some(&i) = self.index.get(id) {
            Endpoint::Node(i)
        } else if is_client(id) {
            Endpoint::Client
        } else if self.services.iter().any(|s| s == id) {
            Endpoint::Service
        } else {
            Endpoint::Other
        }
    }

    /// The fate of a message from `src` to `dest` sent at `sent_at` (ns since the start).
    pub fn route(&mut self, src: Endpoint, dest: Endpoint, sent_at: u64) -> Fate {
        if !src.is_server_link(dest) {
            return Fate::Deliver { at: sent_at };
        }
        if src.is_faulty_link(dest) {
            if self.loss > 0.0 && self.rng.random_bool(self.loss) {
                return Fate::Lost;
            }
            if self.duplicate > 0.0 && self.rng.random_bool(self.duplicate) {
                let first = sent_at.saturating_add(self.latency.draw(&mut self.rng));
                let second = sent_at.saturating_add(self.latency.draw(&mut self.rng));
                return Fate::Duplicate { first, second };
            }
        }
        Fate::Deliver {
            at: sent_at.saturating_add(self.latency.draw(&mut self.rng)),
        }
    }

    /// [`Network::route`] by ids.
    pub fn route_ids(&mut self, src: &str, dest: &str, sent_at: u64) -> Fate {
        let (src, dest) = (self.endpoint(src), self.endpoint(dest));
        self.route(src, dest, sent_at)
    }

    /// True when the current partition keeps `dest` from hearing `src`: ask at delivery time.
    pub fn blocked(&self, src: Endpoint, dest: Endpoint) -> bool {
        match (src, dest) {
            (Endpoint::Node(s), Endpoint::Node(d)) => self.cuts.blocked(s, d),
            _ => false,
        }
    }

    /// [`Network::blocked`] by ids.
    pub fn blocked_ids(&self, src: &str, dest: &str) -> bool {
        self.cuts.any() && self.blocked(self.endpoint(src), self.endpoint(dest))
    }

    /// Partition the nodes by `grudge`, replacing any partition in force. A grudge naming an
    /// unknown node is refused and changes nothing.
    pub fn partition(&mut self, grudge: &Grudge) -> Result<(), UnknownNode> {
        let index = &self.index;
        self.cuts.set(grudge, |id| index.get(id).copied())
    }

    /// End the partition.
    pub fn heal_partition(&mut self) {
        self.cuts.heal();
    }

    /// True while some link is cut.
    pub fn is_partitioned(&self) -> bool {
        self.cuts.any()
    }

    /// Lose each node-to-node message with probability `p` (0 ends the fault).
    pub fn set_loss(&mut self, p: f64) -> Result<(), BadProbability> {
        self.loss = probability(p)?;
        Ok(())
    }

    /// Deliver each node-to-node message twice with probability `p` (0 ends the fault).
    pub fn set_duplicate(&mut self, p: f64) -> Result<(), BadProbability> {
        self.duplicate = probability(p)?;
        Ok(())
    }

    /// The loss probability in force.
    pub fn loss(&self) -> f64 {
        self.loss
    }

    /// The duplication probability in force.
    pub fn duplicate(&self) -> f64 {
        self.duplicate
    }

    /// End every network fault: partition, loss and duplication.
    pub fn heal_all(&mut self) {
        self.heal_partition();
        self.loss = 0.0;
        self.duplicate = 0.0;
    }

    /// The latency distribution and its mean.
    pub fn latency(&self) -> Latency {
        self.latency
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::time::Duration;

    use super::*;

    const SERVICES: [&str; 4] = ["lin-kv", "seq-kv", "lww-kv", "lin-tso"];

    fn net(dist: LatencyDist, mean_ms: u64) -> Network {
        let ids: Vec<String> = (0..3).map(|i| format!("n{i}")).collect();
        Network::new(&ids, Latency::new(dist, Duration::from_millis(mean_ms)), 7)
            .with_services(SERVICES)
    }

    #[test]
    fn endpoints_are_classified() {
        let net = net(LatencyDist::Constant, 1);
        assert_eq!(net.endpoint("n2"), Endpoint::Node(2));
        assert_eq!(net.endpoint("n3"), Endpoint::Other);
        assert_eq!(net.endpoint("c0"), Endpoint::Client);
        assert_eq!(net.endpoint("c17"), Endpoint::Client);
        assert_eq!(net.endpoint("c"), Endpoint::Other);
        for service in SERVICES {
            assert_eq!(net.endpoint(service), Endpoint::Service);
        }
        let ids = ["n0".to_string()];
        let bare = Network::new(&ids, Latency::new(LatencyDist::Constant, Duration::ZERO), 7);
        assert_eq!(bare.endpoint("lin-kv"), Endpoint::Other);
    }

    #[test]
    fn client_links_are_instant_and_server_links_are_not() {
        let mut net = net(LatencyDist::Constant, 5);
        assert_eq!(net.route_ids("c1", "n0", 10), Fate::Deliver { at: 10 });
        assert_eq!(net.route_ids("n0", "c1", 10), Fate::Deliver { at: 10 });
        assert_eq!(
            net.route_ids("n0", "n1", 10),
            Fate::Deliver { at: 5_000_010 }
        );
        assert_eq!(
            net.route_ids("n0", "lin-kv", 0),
            Fate::Deliver { at: 5_000_000 }
        );
    }

    #[test]
    fn faults_spare_clients_and_services() {
        let mut net = net(LatencyDist::Constant, 1);
        net.set_loss(1.0).unwrap();
        net.partition(&Grudge::from([(
            "n0".to_string(),
            BTreeSet::from(["n1".to_string()]),
        )]))
        .unwrap();
        assert_eq!(net.route_ids("n1", "n0", 0), Fate::Lost);
        assert_eq!(net.route_ids("n1", "n7", 0), Fate::Lost);
        assert_ne!(net.route_ids("n1", "seq-kv", 0), Fate::Lost);
        assert_ne!(net.route_ids("c0", "n0", 0), Fate::Lost);
        assert!(net.blocked_ids("n1", "n0"));
        assert!(!net.blocked_ids("n0", "n1"));
        assert!(!net.blocked_ids("lin-kv", "n0") && !net.blocked_ids("c3", "n0"));
        net.set_loss(0.0).unwrap();
        net.set_duplicate(1.0).unwrap();
        let fate = net.route_ids("n1", "n2", 0);
        assert_eq!(
            fate,
            Fate::Duplicate {
                first: 1_000_000,
                second: 1_000_000
            }
        );
        assert_eq!(fate.deliveries().count(), 2);
        assert_eq!(net.route_ids("lin-kv", "n2", 0).deliveries().count(), 1);
        net.heal_all();
        assert!(!net.blocked_ids("n1", "n0") && !net.is_partitioned());
        assert_eq!((net.loss(), net.duplicate()), (0.0, 0.0));
    }

    #[test]
    fn probabilities_outside_zero_one_are_refused() {
        let mut net = net(LatencyDist::Constant, 1);
        assert_eq!(net.set_loss(1.5), Err(BadProbability(1.5)));
        assert!(net.set_duplicate(-0.1).is_err());
        assert!(net.set_loss(f64::NAN).is_err());
        assert_eq!(net.loss(), 0.0);
    }

    #[test]
    fn deliveries_are_in_time_order() {
        let fate = Fate::Duplicate {
            first: 9,
            second: 4,
        };
        assert_eq!(fate.deliveries().collect::<Vec<_>>(), vec![4, 9]);
        assert_eq!(Fate::Lost.deliveries().count(), 0);
    }
}
