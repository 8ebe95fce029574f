//! `harness test` flags and the validated [`TestConfig`] they become.
//!
//! Flag names are Maelstrom's, so a Gossip Glomers command runs by replacing `./maelstrom`
//! with `harness`. Arguments after `--` are passed to every node process.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use anyhow::{Context, bail};
use checker::ordering::OrderingMode;
use workloads::{TopologyKind, WorkloadKind, WorkloadOptions};

use crate::nemesis::{FaultKind, Target};
use crate::net::LatencyDist;

/// The flags of `harness test`.
#[derive(clap::Args, Debug, Clone)]
pub struct TestArgs {
    /// The workload: what the clients ask and how the history is checked.
    #[arg(short = 'w', long, value_parser = crate::named_arg::named::<WorkloadKind>())]
    pub workload: WorkloadKind,
    /// The node program to run (any language; it speaks JSON lines on stdin/stdout).
    #[arg(long)]
    pub bin: PathBuf,
    /// How many nodes (n0, n1, ...).
    #[arg(long, default_value_t = 5)]
    pub node_count: usize,
    /// How long the workload runs, in seconds.
    #[arg(long, default_value_t = 10.0)]
    pub time_limit: f64,
    /// Client operations per second, all clients together.
    #[arg(long, default_value_t = 5.0)]
    pub rate: f64,
    /// Number of clients: N, or Kn for K per node.
    #[arg(long, default_value = "1n")]
    pub concurrency: String,
    /// Network latency between servers, in milliseconds (the distribution's mean).
    #[arg(long, default_value_t = 0)]
    pub latency: u64,
    /// Latency distribution: constant, uniform or exponential.
    #[arg(long, default_value = "constant")]
    pub latency_dist: String,
    /// Topology suggested to the nodes: grid, line, total, tree2, tree3, tree4.
    #[arg(long, default_value = "grid")]
    pub topology: String,
    /// Faults to inject: a comma list of partition, kill, pause, loss, duplicate, wipe.
    #[arg(long, default_value = "")]
    pub nemesis: String,
    /// Mean seconds between faults.
    #[arg(long, default_value_t = 10.0)]
    pub nemesis_interval: f64,
    /// Which nodes kill, pause and wipe hit: a comma list of one, minority-third, minority,
    /// majority, all (default: one,minority-third,minority,majority).
    #[arg(long)]
    pub nemesis_targets: Option<String>,
    /// Seconds to wait after healing every fault before the final reads.
    #[arg(long, default_value_t = 10.0)]
    pub recovery_time: f64,
    /// Required availability: `total` (every op ok) or a fraction of ops that must be ok.
    #[arg(long)]
    pub availability: Option<String>,
    /// For broadcast: also check the delivery order.
    #[arg(long, value_parser = crate::named_arg::named::<OrderingMode>())]
    pub ordering: Option<OrderingMode>,
    /// For lin-kv: how many keys are in use at once.
    #[arg(long)]
    pub key_count: Option<usize>,
    /// Copy every node's stderr to the harness's stderr (it always goes to node-logs/).
    #[arg(long)]
    pub log_stderr: bool,
    /// Print every message sent to stderr.
    #[arg(long)]
    pub log_net_send: bool,
    /// Print every message delivered to stderr.
    #[arg(long)]
    pub log_net_recv: bool,
    /// Seed of every random choice; printed at the start of every run.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Where runs are stored.
    #[arg(long, default_value = "store")]
    pub store: PathBuf,
    /// No progress bar even on a terminal.
    #[arg(long)]
    pub no_progress: bool,
    /// Arguments passed to every node process (after `--`).
    #[arg(last = true)]
    pub args: Vec<String>,
}

/// How many clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Concurrency {
    Fixed(usize),
    PerNode(usize),
}

impl Concurrency {
    pub fn clients(self, nodes: usize) -> usize {
        match self {
            Concurrency::Fixed(n) => n,
            Concurrency::PerNode(k) => k * nodes,
        }
    }
}

impl FromStr for Concurrency {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("--concurrency must be N or Kn (like 10 or 2n), not {s:?}");
        let (digits, per_node) = match s.strip_suffix('n') {
            Some("") => ("1", true),
            Some(k) => (k, true),
            None => (s, false),
        };
        let n: usize = digits.parse().map_err(|_| bad())?;
        if n == 0 {
            return Err(bad());
        }
        Ok(if per_node {
            Concurrency::PerNode(n)
        } else {
            Concurrency::Fixed(n)
        })
    }
}

/// Required availability.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Availability {
    /// Every op must be ok.
    Total,
    /// At least this fraction of ops must be ok.
    Fraction(f64),
}

impl FromStr for Availability {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "total" {
            return Ok(Availability::Total);
        }
        match s.parse::<f64>() {
            Ok(f) if (0.0..=1.0).contains(&f) => Ok(Availability::Fraction(f)),
            _ => Err(format!(
                "--availability must be `total` or a fraction between 0 and 1, not {s:?}"
            )),
        }
    }
}

/// A validated test configuration.
#[derive(Debug, Clone)]
pub struct TestConfig {
    pub workload: WorkloadKind,
    pub workload_options: WorkloadOptions,
    pub bin: PathBuf,
    pub args: Vec<String>,
    pub node_ids: Vec<String>,
    pub time_limit: Duration,
    pub rate: f64,
    pub clients: usize,
    pub latency: Duration,
    pub latency_dist: LatencyDist,
    pub topology: TopologyKind,
    pub faults: Vec<FaultKind>,
    pub nemesis_interval: Duration,
    /// How many nodes a node fault takes (`--nemesis-targets`).
    pub nemesis_targets: Vec<Target>,
    pub recovery_time: Duration,
    pub availability: Option<Availability>,
    pub ordering: Option<OrderingMode>,
    pub log_stderr: bool,
    pub log_net_send: bool,
    pub log_net_recv: bool,
    pub seed: u64,
    pub store: PathBuf,
    pub progress: bool,
    /// Print nothing on stdout (for callers that run many tests).
    pub quiet: bool,
    /// The command line, for "reproduce with".
    pub command_line: Vec<String>,
}

fn seconds(name: &str, value: f64, allow_zero: bool) -> anyhow::Result<Duration> {
    if !value.is_finite() || value < 0.0 || (!allow_zero && value == 0.0) || value > 1e7 {
        bail!("--{name} must be a positive number of seconds, not {value}");
    }
    Ok(Duration::from_secs_f64(value))
}

impl TestConfig {
    /// Validate the flags. The error is one line saying what is wrong.
    pub fn from_args(args: &TestArgs, command_line: Vec<String>) -> anyhow::Result<Self> {
        let workload = args.workload;
        if args.node_count == 0 || args.node_count > 1000 {
            bail!(
                "--node-count must be between 1 and 1000, not {}",
                args.node_count
            );
        }
        let concurrency: Concurrency = args.concurrency.parse().map_err(anyhow::Error::msg)?;
        let clients = concurrency.clients(args.node_count);
        if clients > 10_000 {
            bail!("--concurrency gives {clients} clients; at most 10000");
        }
        if !args.rate.is_finite() || args.rate < 0.0 {
            bail!(
                "--rate must be a non-negative number of ops per second, not {}",
                args.rate
            );
        }
        let faults = if args.nemesis.trim().is_empty() {
            Vec::new()
        } else {
            FaultKind::parse_list(&args.nemesis)?
        };
        let nemesis_targets = match &args.nemesis_targets {
            Some(list) => Target::parse_list(list)?,
            None => Target::DEFAULT.to_vec(),
        };
        let ordering = args.ordering;
        if ordering.is_some() && !workload.orders() {
            bail!(WorkloadKind::ordering_applies());
        }
        let availability = args
            .availability
            .as_deref()
            .map(str::parse::<Availability>)
            .transpose()
            .map_err(anyhow::Error::msg)?;
        let mut workload_options = WorkloadOptions::default();
        if let Some(keys) = args.key_count {
            if keys == 0 {
                bail!("--key-count must be positive");
            }
            workload_options.lin_kv.key_count = keys;
        }
        let bin = args.bin.clone();
        if !bin.exists() {
            bail!("--bin {}: no such file", bin.display());
        }
        let seed = args.seed.unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64 % 1_000_000_000_000)
                .unwrap_or(1)
        });
        Ok(TestConfig {
            workload,
            workload_options,
            bin,
            args: args.args.clone(),
            node_ids: (0..args.node_count).map(|i| format!("n{i}")).collect(),
            time_limit: seconds("time-limit", args.time_limit, false)?,
            rate: args.rate,
            clients,
            latency: Duration::from_millis(args.latency),
            latency_dist: args
                .latency_dist
                .parse()
                .map_err(|e| anyhow::anyhow!("{e}"))
                .context("--latency-dist")?,
            topology: args.topology.parse()?,
            faults,
            nemesis_interval: seconds("nemesis-interval", args.nemesis_interval, false)?,
            nemesis_targets,
            recovery_time: seconds("recovery-time", args.recovery_time, true)?,
            availability,
            ordering,
            log_stderr: args.log_stderr,
            log_net_send: args.log_net_send,
            log_net_recv: args.log_net_recv,
            seed,
            store: args.store.clone(),
            progress: !args.no_progress,
            quiet: false,
            command_line,
        })
    }

    /// The command that reruns this test with the same seed.
    pub fn reproduce(&self) -> String {
        let mut words: Vec<String> = Vec::new();
        let mut skip = false;
        for word in &self.command_line {
            if skip {
                skip = false;
                continue;
            }
            if word == "--seed" {
                skip = true;
                continue;
            }
            if word.starts_with("--seed=") {
                continue;
            }
            words.push(shell_quote(word));
        }
        let at = words.iter().position(|w| w == "--").unwrap_or(words.len());
        words.insert(at, format!("--seed {}", self.seed));
        words.join(" ")
    }
}

fn shell_quote(word: &str) -> String {
    if !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,@+".contains(&b))
    {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrency_parses_n_and_kn() {
        assert_eq!("10".parse(), Ok(Concurrency::Fixed(10)));
        assert_eq!("2n".parse(), Ok(Concurrency::PerNode(2)));
        assert_eq!("n".parse(), Ok(Concurrency::PerNode(1)));
        assert!("0".parse::<Concurrency>().is_err());
        assert!("xn".parse::<Concurrency>().is_err());
        assert_eq!(Concurrency::PerNode(3).clients(5), 15);
    }

    #[test]
    fn availability_parses_total_and_fractions() {
        assert_eq!("total".parse(), Ok(Availability::Total));
        assert_eq!("0.5".parse(), Ok(Availability::Fraction(0.5)));
        assert!("1.5".parse::<Availability>().is_err());
        assert!("most".parse::<Availability>().is_err());
    }

    #[test]
    fn reproduce_replaces_the_seed_and_keeps_node_args() {
        let config = TestConfig {
            command_line: [
                "harness", "test", "-w", "echo", "--seed", "3", "--", "--fanout", "4",
            ]
            .map(String::from)
            .to_vec(),
            seed: 42,
            ..test_config()
        };
        assert_eq!(
            config.reproduce(),
            "harness test -w echo --seed 42 -- --fanout 4"
        );
    }

    fn test_config() -> TestConfig {
        TestConfig {
            workload: WorkloadKind::Echo,
            workload_options: WorkloadOptions::default(),
            bin: PathBuf::from("x"),
            args: vec![],
            node_ids: vec!["n0".into()],
            time_limit: Duration::from_secs(1),
            rate: 1.0,
            clients: 1,
            latency: Duration::ZERO,
            latency_dist: "constant".parse().unwrap(),
            topology: TopologyKind::Grid,
            faults: vec![],
            nemesis_interval: Duration::from_secs(1),
            nemesis_targets: Target::DEFAULT.to_vec(),
            recovery_time: Duration::ZERO,
            availability: None,
            ordering: None,
            log_stderr: false,
            log_net_send: false,
            log_net_recv: false,
            seed: 1,
            store: PathBuf::from("store"),
            progress: false,
            quiet: false,
            command_line: vec![],
        }
    }
}
