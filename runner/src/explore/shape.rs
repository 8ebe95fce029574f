//! A run's shape: the flags that exploration draws for each seed (swarm testing) and that
//! shrinking makes smaller. Everything else about a run (the workload, the node, `--ordering`,
//! `--key-count`, the store) is the user's, the same for every seed.
//!
//! Swarm testing (as in TigerBeetle's VOPR, after Groce et al., "Swarm Testing", ISSTA 2012):
//! instead of every seed running every fault at the given rate, each seed draws its own mix
//! (each fault in or out, which targets, how often), its own latency and distribution, rate,
//! clients and cluster size, around what the user gave. A bug that hides when all faults run
//! at once (a partition that keeps the two nodes whose race shows it apart) is found by the
//! seeds that leave the others out.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::config::TestArgs;
use crate::nemesis::{FaultKind, Target};

/// The ChaCha stream of swarm draws, apart from every stream of the run itself.
const SWARM_STREAM: u64 = 0x73_77_61_72_6d;

/// The faults a seed draws from when the user named none: every fault but `wipe` (which
/// loses what a node wrote to disk, so a correct node may lose data to it).
pub const DEFAULT_FAULTS: [FaultKind; 5] = [
    FaultKind::Partition,
    FaultKind::Kill,
    FaultKind::Pause,
    FaultKind::Loss,
    FaultKind::Duplicate,
];

/// The flags a run's shape sets (each takes a value).
pub const SHAPE_FLAGS: [&str; 10] = [
    "--node-count",
    "--concurrency",
    "--rate",
    "--latency",
    "--latency-dist",
    "--nemesis",
    "--nemesis-targets",
    "--nemesis-interval",
    "--time-limit",
    "--recovery-time",
];

/// The flags of one run that exploration chooses.
#[derive(Debug, Clone, PartialEq)]
pub struct Shape {
    pub node_count: usize,
    /// Clients: `N`, or `Kn` for K per node.
    pub concurrency: String,
    pub rate: f64,
    pub latency: u64,
    pub latency_dist: String,
    pub nemesis: Vec<FaultKind>,
    pub targets: Vec<Target>,
    pub nemesis_interval: f64,
    pub time_limit: f64,
    pub recovery_time: f64,
}

impl Shape {
    /// The shape the user's flags give (`node_count`: how many nodes they name).
    pub fn given(args: &TestArgs, node_count: usize) -> anyhow::Result<Shape> {
        Ok(Shape {
            node_count,
            concurrency: args.concurrency.clone(),
            rate: args.rate,
            latency: args.latency,
            latency_dist: args.latency_dist.clone(),
            nemesis: if args.nemesis.trim().is_empty() {
                Vec::new()
            } else {
                FaultKind::parse_list(&args.nemesis)?
            },
            targets: match &args.nemesis_targets {
                Some(list) => Target::parse_list(list)?,
                None => Target::DEFAULT.to_vec(),
            },
            nemesis_interval: args.nemesis_interval,
            time_limit: args.time_limit,
            recovery_time: args.recovery_time,
        })
    }

    /// Seed `seed`'s shape, drawn around `given`: `nemesis` is the user's faults (or
    /// [`DEFAULT_FAULTS`]), each in or out (`byzantine` always in); targets a non-empty part of the user's; the fault
    /// interval between 0.3 s and the user's; latency 0 (one seed in four) or up to twice the
    /// user's (at least 50 ms), in any distribution; the rate between half and eight times the
    /// user's; one or two clients per node, or a number up to two per node; from half the
    /// user's nodes (at least 2) to all of them. Time limit and recovery are the user's.
    pub fn draw(given: &Shape, seed: u64) -> Shape {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(SWARM_STREAM);
        let pool: Vec<FaultKind> = if given.nemesis.is_empty() {
            DEFAULT_FAULTS.to_vec()
        } else {
            given.nemesis.clone()
        };
        // Byzantine nodes are always in when the user gave them: `--byzantine N`, a flag of
        // the user's, goes with them.
        let nemesis: Vec<FaultKind> = pool
            .into_iter()
            .filter(|k| *k == FaultKind::Byzantine || rng.random_bool(0.5))
            .collect();
        let low_nodes = given.node_count.div_ceil(2).max(2).min(given.node_count);
        let node_count = rng.random_range(low_nodes..=given.node_count);
        // Only targets that take a node of a cluster this size (a third of 3 nodes is none).
        let fitting: Vec<Target> = given
            .targets
            .iter()
            .copied()
            .filter(|t| t.size(node_count) > 0)
            .collect();
        let fitting = if fitting.is_empty() {
            vec![Target::One]
        } else {
            fitting
        };
        let mut targets: Vec<Target> = fitting
            .iter()
            .copied()
            .filter(|_| rng.random_bool(0.5))
            .collect();
        if targets.is_empty() {
            targets.push(fitting[rng.random_range(0..fitting.len())]);
        }
        let low = 0.3f64.min(given.nemesis_interval);
        let nemesis_interval = log_uniform(&mut rng, low, given.nemesis_interval.max(low));
        let latency = if rng.random_range(0..4) == 0 {
            0
        } else {
            rng.random_range(1..=(given.latency * 2).max(50))
        };
        let latency_dist = ["constant", "uniform", "exponential"][rng.random_range(0..3)];
        let base_rate = given.rate.max(1.0);
        let rate = round2(log_uniform(&mut rng, base_rate / 2.0, base_rate * 8.0));
        let concurrency = match rng.random_range(0..3) {
            0 => "1n".to_owned(),
            1 => "2n".to_owned(),
            _ => rng.random_range(1..=2 * node_count).to_string(),
        };
        Shape {
            node_count,
            concurrency,
            rate,
            latency,
            latency_dist: latency_dist.to_owned(),
            nemesis,
            targets,
            nemesis_interval: round2(nemesis_interval),
            time_limit: given.time_limit,
            recovery_time: given.recovery_time,
        }
    }

    /// The flags that give this shape, in [`SHAPE_FLAGS`] order.
    pub fn words(&self) -> Vec<String> {
        let mut words = vec![
            "--node-count".to_owned(),
            self.node_count.to_string(),
            "--concurrency".to_owned(),
            self.concurrency.clone(),
            "--rate".to_owned(),
            number(self.rate),
            "--latency".to_owned(),
            self.latency.to_string(),
        ];
        if self.latency_dist != "constant" {
            words.extend(["--latency-dist".to_owned(), self.latency_dist.clone()]);
        }
        if !self.nemesis.is_empty() {
            let names: Vec<&str> = self.nemesis.iter().map(|f| f.name()).collect();
            words.extend(["--nemesis".to_owned(), names.join(",")]);
            let takes_nodes = self
                .nemesis
                .iter()
                .any(|f| matches!(f, FaultKind::Kill | FaultKind::Pause | FaultKind::Wipe));
            if takes_nodes && self.targets != Target::DEFAULT {
                let names: Vec<&str> = self.targets.iter().map(|t| t.name()).collect();
                words.extend(["--nemesis-targets".to_owned(), names.join(",")]);
            }
            words.extend([
                "--nemesis-interval".to_owned(),
                number(self.nemesis_interval),
            ]);
        }
        words.extend([
            "--time-limit".to_owned(),
            number(self.time_limit),
            "--recovery-time".to_owned(),
            number(self.recovery_time),
        ]);
        words
    }

    /// How many clients.
    pub fn clients(&self) -> usize {
        match self.concurrency.strip_suffix('n') {
            Some(k) => k.parse::<usize>().unwrap_or(1) * self.node_count,
            None => self.concurrency.parse().unwrap_or(1),
        }
    }
}

fn log_uniform(rng: &mut ChaCha8Rng, low: f64, high: f64) -> f64 {
    if high <= low {
        return low;
    }
    (low.ln() + rng.random::<f64>() * (high.ln() - low.ln())).exp()
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// A number as a flag value: no trailing `.0`.
fn number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn given() -> Shape {
        Shape {
            node_count: 5,
            concurrency: "1n".into(),
            rate: 10.0,
            latency: 0,
            latency_dist: "constant".into(),
            nemesis: vec![],
            targets: Target::DEFAULT.to_vec(),
            nemesis_interval: 10.0,
            time_limit: 10.0,
            recovery_time: 10.0,
        }
    }

    #[test]
    fn draws_follow_the_seed_and_stay_in_their_ranges() {
        let g = given();
        assert_eq!(Shape::draw(&g, 7), Shape::draw(&g, 7));
        let shapes: Vec<Shape> = (0..200).map(|s| Shape::draw(&g, s)).collect();
        assert!(shapes.iter().any(|s| s != &shapes[0]));
        for s in &shapes {
            assert!((3..=5).contains(&s.node_count), "{s:?}");
            assert!((5.0..=80.0).contains(&s.rate), "{s:?}");
            assert!(s.latency <= 50, "{s:?}");
            assert!((0.3..=10.0).contains(&s.nemesis_interval), "{s:?}");
            assert!(s.nemesis.iter().all(|f| DEFAULT_FAULTS.contains(f)));
            assert!(!s.targets.is_empty());
            assert!(s.targets.iter().all(|t| t.size(s.node_count) > 0), "{s:?}");
            assert!(s.clients() >= 1 && s.clients() <= 10, "{s:?}");
        }
        // Each fault is left out by some seeds and taken by others.
        for fault in DEFAULT_FAULTS {
            assert!(shapes.iter().any(|s| s.nemesis.contains(&fault)));
            assert!(shapes.iter().any(|s| !s.nemesis.contains(&fault)));
        }
        assert!(shapes.iter().any(|s| s.latency == 0));
    }

    #[test]
    fn given_faults_bound_the_draw_and_words_round_trip() {
        let g = Shape {
            nemesis: vec![FaultKind::Kill],
            ..given()
        };
        for seed in 0..50 {
            let s = Shape::draw(&g, seed);
            assert!(s.nemesis.iter().all(|f| *f == FaultKind::Kill));
        }
        let words = Shape {
            nemesis: vec![FaultKind::Kill, FaultKind::Loss],
            rate: 2.5,
            ..given()
        }
        .words()
        .join(" ");
        assert_eq!(
            words,
            "--node-count 5 --concurrency 1n --rate 2.5 --latency 0 --nemesis kill,loss \
             --nemesis-interval 10 --time-limit 10 --recovery-time 10"
        );
    }
}
