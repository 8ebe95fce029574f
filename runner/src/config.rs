//! `harness test` flags and the validated [`TestConfig`] they become.
//!
//! Flag names are Maelstrom's, so a Gossip Glomers command runs by replacing `./maelstrom`
//! with `harness`, and every flag of `maelstrom test` is accepted: its own (`core.clj`'s option
//! spec) and those of Jepsen's command line it merges (`jepsen.cli/test-opt-spec`). Those with
//! a meaning here take effect; those with none (the SSH and login options, `--leave-db-running`,
//! `--logging-json`) are accepted and named as ignored in the summary and in `results.json`
//! (`run.ignored_flags`), as are the workload flags a workload does not use
//! (`--consistency-models` and `--max-txn-length` outside the transactional workloads,
//! `--max-writes-per-key` outside those and kafka), whose syntax is checked all the same.
//! Arguments that are not flags (and everything after `--`) are passed to every node process.
//!
//! Node names follow Maelstrom: `--node-count N` names them `n0 .. n{N-1}` and overrides the
//! Jepsen node list (`--nodes-file`, then `--nodes a,b`, then each `-n/--node`, in that
//! order); with none of these the nodes are Jepsen's default `n1 .. n5`.
//!
//! `--bin` is found as Maelstrom finds it: a relative path, a bare name too, is relative to
//! the current directory (never looked up in `PATH`), then made canonical.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use anyhow::{Context, bail};
use checker::ordering::OrderingMode;
use checker::txn::{ConsistencyModel, parse_models};
use workloads::{TopologyKind, WorkloadKind, WorkloadOptions};

use crate::nemesis::{FaultKind, Target};
use crate::net::LatencyDist;

/// The flags of `harness test`.
#[derive(clap::Args, Debug, Clone)]
pub struct TestArgs {
    /// The workload: what the clients ask and how the history is checked.
    #[arg(short = 'w', long, value_parser = crate::named_arg::named::<WorkloadKind>())]
    pub workload: WorkloadKind,
    /// The node program to run (any language; it speaks JSON lines on stdin/stdout). A
    /// relative path, a bare name too, is relative to the current directory.
    #[arg(long, conflicts_with = "sim")]
    pub bin: Option<PathBuf>,
    /// Run every node in-process under virtual time (deterministic simulation): the node
    /// named by --node, from the reference nodes, with its flags after `--`.
    #[arg(long)]
    pub sim: bool,
    /// With --sim: run the test twice and compare history.jsonl, messages.jsonl and
    /// results.json byte for byte, naming the first event where the two runs differ.
    #[arg(long, requires = "sim")]
    pub check_determinism: bool,
    /// How many nodes, named n0, n1, ...; overrides --nodes, --node and --nodes-file
    /// [default: the Jepsen node list, n1 .. n5 when none is given].
    #[arg(long)]
    pub node_count: Option<usize>,
    /// Node names, comma-separated (Jepsen's flag; --node-count overrides it).
    #[arg(long, value_name = "NODE_LIST")]
    pub nodes: Option<String>,
    /// A node name; may be given many times (Jepsen's flag; --node-count overrides it).
    /// With --sim: the reference node to simulate (broadcast-fifo, kv-stale-reads, ...).
    #[arg(short = 'n', long = "node", value_name = "NAME")]
    pub node: Vec<String>,
    /// A file of node names, one per line (Jepsen's flag; --node-count overrides it).
    #[arg(long, value_name = "FILE")]
    pub nodes_file: Option<PathBuf>,
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
    /// Faults to inject: a comma list of partition, kill, pause, loss, duplicate, wipe, clock,
    /// byzantine (clock: nodes' wall clocks stepped, slewed, strobed or given a leap second;
    /// node processes need libfaketime, Debian's faketime package; byzantine: with
    /// --byzantine N).
    #[arg(long, default_value = "")]
    pub nemesis: String,
    /// With --nemesis byzantine: how many nodes (drawn from the seed) send Byzantine messages
    /// (dropped, corrupted, forged, equivocated) for the whole run; fewer than --node-count.
    #[arg(long, value_name = "N")]
    pub byzantine: Option<usize>,
    /// Mean seconds between faults.
    #[arg(long, default_value_t = 10.0)]
    pub nemesis_interval: f64,
    /// Which nodes kill, pause, wipe and clock hit: a comma list of one, minority-third, minority,
    /// majority, all (default: one,minority-third,minority,majority).
    #[arg(long)]
    pub nemesis_targets: Option<String>,
    /// Seconds to wait after healing every fault before the final reads.
    #[arg(long, default_value_t = 10.0)]
    pub recovery_time: f64,
    /// Required availability: `total` (every op ok) or a fraction of ops that must be ok.
    #[arg(long)]
    pub availability: Option<String>,
    /// A service-level objective to check, PERCENT%@LATENCY[/WINDOW]: in every window (5 s
    /// unless given) at least PERCENT% of each client's requests answered within LATENCY
    /// (e.g. 99%@500ms, 99.9%@200ms/10s).
    #[arg(long, value_name = "OBJECTIVE")]
    pub slo: Option<String>,
    /// For broadcast: also check the delivery order.
    #[arg(long, value_parser = crate::named_arg::named::<OrderingMode>())]
    pub ordering: Option<OrderingMode>,
    /// For lin-kv, lww-register, kafka and the transactional workloads: how many keys are in
    /// use at once (2 for lin-kv and lww-register, 10 for the others).
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
    /// Run the test this many times, each with its own seed (the first the given or drawn
    /// seed, the next ones that seed plus 1, 2, ...), stopping at the first run that is not
    /// valid, as Jepsen does.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub test_count: u64,
    /// Transactional workloads: the consistency models the history must meet, separated by
    /// commas (Elle's names; default strict-serializable).
    #[arg(long, value_name = "MODELS")]
    pub consistency_models: Option<String>,
    /// failure-detector: how long after a kill, in ms, every other node must suspect the killed
    /// node (default 5000).
    #[arg(long, value_name = "MS")]
    pub detection_bound_ms: Option<u64>,
    /// Transactional workloads: the most micro-operations per transaction (default 4).
    #[arg(long, value_name = "INT")]
    pub max_txn_length: Option<u64>,
    /// Transactional, kafka and lww-register workloads: the most writes to one key (default 16).
    #[arg(long, value_name = "INT")]
    pub max_writes_per_key: Option<u64>,
    /// time-sync: how far (ms) a node that says its clock is synchronised may be from the
    /// true time (default 25 plus --latency: NTP's offset errs by up to half the round trip).
    #[arg(long, value_name = "MS")]
    pub target_skew_ms: Option<u64>,
    /// time-sync: how long (s) after a change of its clock (its initial offset, a clock
    /// fault) a node's claim to be synchronised is not judged (default 3).
    #[arg(long, value_name = "S")]
    pub convergence_s: Option<f64>,
    /// time-sync: how many nodes start with their clock beyond NTP's panic threshold, 1500
    /// to 3000 s off (default 1; at most all but one).
    #[arg(long, value_name = "N")]
    pub unfixable: Option<u32>,
    /// Run the nodes on other machines: the `harness agent` of each host, HOST[:PORT] (port
    /// 7077 when none is given), comma-separated; nodes are assigned round-robin, so a host
    /// may be named several times. Clients, services, faults and checks stay here.
    #[arg(long, value_name = "HOST[:PORT],...", conflicts_with = "sim")]
    pub hosts: Option<String>,
    /// With --hosts: the key file the agents were started with (the same on every host).
    #[arg(long, value_name = "FILE", requires = "hosts")]
    pub key_file: Option<PathBuf>,
    /// With --hosts: the node program's path on the agents' hosts [default: --bin's path].
    #[arg(long, value_name = "PATH", requires = "hosts")]
    pub remote_bin: Option<String>,
    /// With --hosts: start the agent of a host over SSH as USER@HOST (repeatable, or
    /// comma-separated), with the key on its standard input, and stop it when the run ends.
    /// --ssh-private-key is passed to ssh as its identity.
    #[arg(
        long,
        value_name = "USER@HOST",
        requires = "hosts",
        value_delimiter = ','
    )]
    pub ssh: Vec<String>,
    /// With --ssh: the harness program on the SSH hosts.
    #[arg(long, value_name = "PATH", default_value = "harness", requires = "ssh")]
    pub remote_harness: String,
    /// Jepsen's SSH login user: accepted and ignored (nodes are local processes).
    #[arg(long, value_name = "USER")]
    pub username: Option<String>,
    /// Jepsen's SSH and sudo password: accepted and ignored (nodes are local processes).
    #[arg(long, value_name = "PASS")]
    pub password: Option<String>,
    /// Jepsen's SSH identity file: accepted and ignored (nodes are local processes).
    #[arg(long, value_name = "FILE")]
    pub ssh_private_key: Option<PathBuf>,
    /// Jepsen's host key checking: accepted and ignored (nodes are local processes).
    #[arg(long)]
    pub strict_host_key_checking: bool,
    /// Jepsen's switch to skip SSH: accepted and ignored (there is no SSH here anyway).
    #[arg(long)]
    pub no_ssh: bool,
    /// Jepsen's switch to leave the nodes running: accepted and ignored (no node outlives
    /// the harness).
    #[arg(long)]
    pub leave_db_running: bool,
    /// Jepsen's JSON log format: accepted and ignored (the harness writes no Jepsen log).
    #[arg(long)]
    pub logging_json: bool,
    /// Arguments passed to every node process: the arguments that are not flags, and
    /// everything after `--`.
    #[arg(value_name = "ARGS")]
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
    /// The node program (the process backend; empty under the simulator).
    pub bin: PathBuf,
    pub args: Vec<String>,
    /// Under the simulator (`--sim`): the node to run in-process.
    pub sim: Option<SimProgram>,
    pub node_ids: Vec<String>,
    pub time_limit: Duration,
    /// Client ops per second, at most [`MAX_RATE`].
    pub rate: f64,
    /// The `--rate` asked for, when it was more than [`MAX_RATE`] and capped.
    pub rate_requested: Option<f64>,
    pub clients: usize,
    pub latency: Duration,
    pub latency_dist: LatencyDist,
    pub topology: TopologyKind,
    pub faults: Vec<FaultKind>,
    pub nemesis_interval: Duration,
    /// How many nodes a node fault takes (`--nemesis-targets`).
    pub nemesis_targets: Vec<Target>,
    /// How many nodes are Byzantine (`--byzantine`, with `--nemesis byzantine`; 0 without).
    pub byzantine: usize,
    pub recovery_time: Duration,
    pub availability: Option<Availability>,
    /// `--slo`: the service-level objective to check.
    pub slo: Option<checker::slo::Objective>,
    pub ordering: Option<OrderingMode>,
    /// Transactional workloads: the models to check (empty: strict-serializable).
    pub consistency_models: Vec<ConsistencyModel>,
    /// failure-detector: the detection bound (`--detection-bound-ms`; the checker's default
    /// when `None`).
    pub detection_bound: Option<Duration>,
    pub log_stderr: bool,
    pub log_net_send: bool,
    pub log_net_recv: bool,
    pub seed: u64,
    pub store: PathBuf,
    pub progress: bool,
    /// Print nothing on stdout (for callers that run many tests).
    pub quiet: bool,
    /// Write report.html (exploration skips it for the runs it throws away).
    pub page: bool,
    /// The command line, for "reproduce with".
    pub command_line: Vec<String>,
    /// Flags given that have no effect here, and why (`run.ignored_flags`, the summary).
    pub ignored_flags: Vec<IgnoredFlag>,
    /// With `--test-count`: this run's number (from 1) and the count.
    pub repetition: Option<(u64, u64)>,
    /// `--hosts`: the nodes run on agents.
    pub remote: Option<crate::remote::controller::RemoteConfig>,
}

/// The flags of a `harness test ...` command given as words (`harness`, `test`, then its
/// flags, and the node's arguments after `--`): how exploration, the library and tests build
/// a run from the command that replays it. The error is clap's first line.
pub fn parse_test_command(words: &[String]) -> anyhow::Result<TestArgs> {
    #[derive(clap::Parser)]
    #[command(name = "harness test", no_binary_name = true)]
    struct Words {
        #[command(flatten)]
        test: TestArgs,
    }
    <Words as clap::Parser>::try_parse_from(words.iter().skip(2))
        .map(|w| w.test)
        .map_err(|e| anyhow::anyhow!("{}", e.to_string().lines().next().unwrap_or_default()))
}

/// A node run in-process under virtual time: its name (a reference node's, or what a library
/// user calls theirs) and what makes a fresh one.
#[derive(Clone)]
pub struct SimProgram {
    pub name: String,
    pub make: crate::run::NodeFactory,
}

impl std::fmt::Debug for SimProgram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimProgram")
            .field("name", &self.name)
            .finish()
    }
}

impl SimProgram {
    /// The reference node `name` from the catalog, built with `args`; the error says what is
    /// wrong (an unknown name lists the known ones).
    pub fn reference(name: &str, args: &[String]) -> anyhow::Result<SimProgram> {
        // Built once now, so that a bad flag is said before the run starts.
        ::nodes::catalog::build(name, args).map_err(anyhow::Error::msg)?;
        let (owned, args) = (name.to_owned(), args.to_vec());
        Ok(SimProgram {
            name: name.to_owned(),
            make: std::sync::Arc::new(move || {
                let node: Box<dyn ::nodes::Node> = ::nodes::catalog::build(&owned, &args)
                    .expect("built once already with the same arguments");
                node
            }),
        })
    }
}

/// A flag that was given and has no effect on this run.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct IgnoredFlag {
    /// The flag as written on the command line (`--username`).
    pub flag: String,
    /// Why it has no effect here.
    pub why: String,
}

/// The most client ops per second the harness schedules (`--rate` above it is capped, and
/// said): twice what it was measured to complete (README, "Measured figures", Rates).
pub const MAX_RATE: f64 = 100_000.0;

impl TestConfig {
    /// The line that says the rate was capped, if it was.
    pub fn rate_capped(&self) -> Option<String> {
        self.rate_requested.map(|asked| {
            format!(
                "--rate {asked} is more than the harness can generate: capped at {} ops/s",
                self.rate
            )
        })
    }
}

/// Why Jepsen's SSH and login flags do nothing here.
const LOCAL_PROCESSES: &str = "Jepsen's SSH and login option: the nodes here are local processes";

/// The node names Jepsen uses when no node list is given (`jepsen.cli/default-nodes`).
pub const DEFAULT_NODES: [&str; 5] = ["n1", "n2", "n3", "n4", "n5"];

fn seconds(name: &str, value: f64, allow_zero: bool) -> anyhow::Result<Duration> {
    if !value.is_finite() || value < 0.0 || (!allow_zero && value == 0.0) || value > 1e7 {
        bail!("--{name} must be a positive number of seconds, not {value}");
    }
    Ok(Duration::from_secs_f64(value))
}

impl TestConfig {
    /// Validate the flags. The error is one line saying what is wrong.
    pub fn from_args(args: &TestArgs, command_line: Vec<String>) -> anyhow::Result<Self> {
        Self::from_args_with(args, command_line, None)
    }

    /// [`TestConfig::from_args`], simulating `program` (a library user's own node) in place of
    /// the reference node `--node` names.
    pub fn from_args_with(
        args: &TestArgs,
        command_line: Vec<String>,
        program: Option<SimProgram>,
    ) -> anyhow::Result<Self> {
        let workload = args.workload;
        let (node_ids, mut ignored_flags) = node_names(args)?;
        let concurrency: Concurrency = args.concurrency.parse().map_err(anyhow::Error::msg)?;
        let clients = concurrency.clients(node_ids.len());
        if clients > 10_000 {
            bail!("--concurrency gives {clients} clients; at most 10000");
        }
        if !args.rate.is_finite() || args.rate < 0.0 {
            bail!(
                "--rate must be a non-negative number of ops per second, not {}",
                args.rate
            );
        }
        let rate_requested = (args.rate > MAX_RATE).then_some(args.rate);
        let faults = if args.nemesis.trim().is_empty() {
            Vec::new()
        } else {
            FaultKind::parse_list(&args.nemesis)?
        };
        let byzantine = byzantine_count(args, &faults, node_ids.len())?;
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
        let slo = args
            .slo
            .as_deref()
            .map(str::parse::<checker::slo::Objective>)
            .transpose()?;
        let (workload_options, consistency_models, unused) = workload_flags(args, workload)?;
        ignored_flags.extend(unused);
        let detection_bound = detection_bound(args.detection_bound_ms)?;
        if detection_bound.is_some() && workload != WorkloadKind::FailureDetector {
            ignored_flags.push(IgnoredFlag {
                flag: "--detection-bound-ms".into(),
                why: format!("not used by the {workload} workload"),
            });
        }
        let (bin, sim) = match (&args.bin, args.sim) {
            (Some(bin), false) => (resolve_bin("--bin", bin)?, None),
            (None, true) if program.is_some() => (PathBuf::new(), program),
            (None, true) => {
                let [name] = args.node.as_slice() else {
                    bail!(
                        "--sim needs one --node NAME, the reference node to simulate: {}",
                        ::nodes::catalog::names()
                    );
                };
                (
                    PathBuf::new(),
                    Some(SimProgram::reference(name, &args.args)?),
                )
            }
            _ => bail!("give either --bin PROGRAM or --sim --node NAME"),
        };
        if args.test_count == 0 {
            bail!("--test-count must be positive");
        }
        ignored_flags.extend(jepsen_flags(args));
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
            sim,
            node_ids,
            time_limit: seconds("time-limit", args.time_limit, false)?,
            rate: args.rate.min(MAX_RATE),
            rate_requested,
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
            byzantine,
            recovery_time: seconds("recovery-time", args.recovery_time, true)?,
            availability,
            slo,
            ordering,
            consistency_models,
            detection_bound,
            log_stderr: args.log_stderr,
            log_net_send: args.log_net_send,
            log_net_recv: args.log_net_recv,
            seed,
            store: args.store.clone(),
            progress: !args.no_progress,
            quiet: false,
            page: true,
            command_line,
            ignored_flags,
            repetition: None,
            remote: remote_config(args)?,
        })
    }

    /// The command that reruns this test (this one run, with `--test-count`) with the same
    /// seed.
    pub fn reproduce(&self) -> String {
        let mut words: Vec<String> = Vec::new();
        let mut skip = false;
        let mut node_args = false;
        for word in &self.command_line {
            if skip {
                skip = false;
                continue;
            }
            node_args |= word == "--";
            if !node_args {
                if word == "--seed" || word == "--test-count" {
                    skip = true;
                    continue;
                }
                if word.starts_with("--seed=") || word.starts_with("--test-count=") {
                    continue;
                }
            }
            words.push(shell_quote(word));
        }
        let at = words.iter().position(|w| w == "--").unwrap_or(words.len());
        words.insert(at, format!("--seed {}", self.seed));
        words.join(" ")
    }
}

/// The node names (see the module documentation), and the node-list flags that
/// `--node-count` overrode.
fn node_names(args: &TestArgs) -> anyhow::Result<(Vec<String>, Vec<IgnoredFlag>)> {
    let mut overridden = Vec::new();
    let mut listed: Vec<String> = Vec::new();
    if let Some(path) = &args.nodes_file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("--nodes-file {}", path.display()))?;
        listed.extend(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(String::from),
        );
        overridden.push("--nodes-file");
    }
    if let Some(list) = &args.nodes {
        listed.extend(list.split(',').map(|n| n.trim().to_owned()));
        overridden.push("--nodes");
    }
    if !args.node.is_empty() && !args.sim {
        listed.extend(args.node.iter().cloned());
        overridden.push("--node");
    }
    if let Some(count) = args.node_count {
        if count == 0 || count > MAX_NODES {
            bail!("--node-count must be between 1 and {MAX_NODES}, not {count}");
        }
        let ignored = overridden
            .into_iter()
            .map(|flag| IgnoredFlag {
                flag: flag.to_owned(),
                why: "overridden by --node-count, as in Maelstrom".to_owned(),
            })
            .collect();
        return Ok(((0..count).map(|i| format!("n{i}")).collect(), ignored));
    }
    if listed.is_empty() {
        return Ok((DEFAULT_NODES.map(String::from).to_vec(), Vec::new()));
    }
    if listed.len() > MAX_NODES {
        bail!("{} nodes named; at most {MAX_NODES}", listed.len());
    }
    let mut seen = std::collections::BTreeSet::new();
    for name in &listed {
        if name.is_empty() {
            bail!("--nodes: an empty node name");
        }
        if checker::is_client(name) || crate::services::NAMES.contains(&name.as_str()) {
            bail!(
                "node name {name:?} is taken: c1, c2, ... are clients and {} are services",
                crate::services::NAMES.join(", ")
            );
        }
        if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
            bail!("node name {name:?} has a space or a control character");
        }
        if !seen.insert(name.as_str()) {
            bail!("node {name:?} is named twice");
        }
    }
    Ok((listed, Vec::new()))
}

/// The most nodes a run may have.
const MAX_NODES: usize = 1000;

/// The most keys `--key-count` puts in use at once (the generators hold each in memory).
const MAX_KEY_COUNT: usize = 100_000;

/// The most writes `--max-writes-per-key` allows (each fresh key draws its share in time
/// proportional to it).
const MAX_WRITES_PER_KEY: u64 = 100_000;

/// The longest transaction `--max-txn-length` allows (a request of that many micro-ops is
/// still a line a node can read).
const MAX_TXN_LENGTH: u64 = 10_000;

/// The workload flags: `--key-count`, `--max-writes-per-key`, `--max-txn-length` and
/// `--consistency-models` (Maelstrom's rules: positive integers; models that Elle knows, here
/// separated by commas with or without spaces, where Maelstrom wants spaces around each
/// comma), as the workloads' options and the models to check; and those given that `workload`
/// does not use.
pub fn workload_flags(
    args: &TestArgs,
    workload: WorkloadKind,
) -> anyhow::Result<(WorkloadOptions, Vec<ConsistencyModel>, Vec<IgnoredFlag>)> {
    let transactional = matches!(
        workload,
        WorkloadKind::TxnListAppend | WorkloadKind::TxnRwRegister
    );
    let mut ignored = Vec::new();
    let mut unused = |flag: &str| {
        ignored.push(IgnoredFlag {
            flag: flag.into(),
            why: format!("not used by the {workload} workload"),
        })
    };
    let mut options = WorkloadOptions::default();
    if let Some(keys) = args.key_count {
        if keys == 0 || keys > MAX_KEY_COUNT {
            bail!("--key-count must be between 1 and {MAX_KEY_COUNT}, not {keys}");
        }
        options.lin_kv.key_count = keys;
        options.keys.key_count = keys;
    }
    for (flag, value) in [
        ("--max-txn-length", args.max_txn_length),
        ("--max-writes-per-key", args.max_writes_per_key),
    ] {
        if value == Some(0) {
            bail!("{flag} must be positive");
        }
    }
    let models = match &args.consistency_models {
        Some(text) => {
            let models =
                parse_models(text).map_err(|e| anyhow::anyhow!("--consistency-models: {e}"))?;
            if !transactional {
                unused("--consistency-models");
            }
            models
        }
        None => Vec::new(),
    };
    if let Some(most) = args.max_txn_length {
        if most > MAX_TXN_LENGTH {
            bail!("--max-txn-length must be at most {MAX_TXN_LENGTH}, not {most}");
        }
        options.txn.max_length = most as usize;
        if !transactional {
            unused("--max-txn-length");
        }
    }
    let time_sync = workload == WorkloadKind::TimeSync;
    match args.target_skew_ms {
        Some(ms) => {
            options.time_sync.target_skew_ms = ms;
            if !time_sync {
                unused("--target-skew-ms");
            }
        }
        // NTP's offset errs by up to half the round trip: the latency's mean is room for it.
        None => options.time_sync.target_skew_ms += args.latency,
    }
    if let Some(s) = args.convergence_s {
        options.time_sync.convergence_ms = seconds("convergence-s", s, true)?.as_millis() as u64;
        if !time_sync {
            unused("--convergence-s");
        }
    }
    if let Some(n) = args.unfixable {
        options.time_sync.unfixable = n;
        if !time_sync {
            unused("--unfixable");
        }
    }
    if let Some(most) = args.max_writes_per_key {
        if most > MAX_WRITES_PER_KEY {
            bail!("--max-writes-per-key must be at most {MAX_WRITES_PER_KEY}, not {most}");
        }
        options.keys.max_writes_per_key = most;
        if !transactional && !matches!(workload, WorkloadKind::Kafka | WorkloadKind::LwwRegister) {
            unused("--max-writes-per-key");
        }
    }
    Ok((options, models, ignored))
}

/// `--detection-bound-ms`: a positive number of milliseconds.
pub fn detection_bound(ms: Option<u64>) -> anyhow::Result<Option<Duration>> {
    match ms {
        Some(0) => bail!("--detection-bound-ms must be positive"),
        ms => Ok(ms.map(Duration::from_millis)),
    }
}

/// Jepsen's flags given that mean nothing here.
/// `--byzantine N`: given with `--nemesis byzantine` only, at least 1, fewer than the nodes,
/// and not with `--hosts` (there node-to-node messages go from agent to agent, past the
/// harness).
fn byzantine_count(args: &TestArgs, faults: &[FaultKind], nodes: usize) -> anyhow::Result<usize> {
    let asked = faults.contains(&FaultKind::Byzantine);
    match (asked, args.byzantine) {
        (false, None) => Ok(0),
        (false, Some(_)) => bail!("--byzantine N needs --nemesis byzantine"),
        (true, None | Some(0)) => bail!(
            "--nemesis byzantine needs --byzantine N, how many nodes are Byzantine (at least 1)"
        ),
        (true, Some(n)) if n >= nodes => bail!(
            "--byzantine {n}: at most {} of the {nodes} nodes may be Byzantine (one stays correct)",
            nodes.saturating_sub(1)
        ),
        (true, Some(_)) if args.hosts.is_some() => bail!(
            "--nemesis byzantine does not work with --hosts: node-to-node messages go from agent \
             to agent there, past the harness that would alter them"
        ),
        (true, Some(n)) => Ok(n),
    }
}

/// `--hosts` and the flags that go with it.
fn remote_config(
    args: &TestArgs,
) -> anyhow::Result<Option<crate::remote::controller::RemoteConfig>> {
    use crate::remote::controller::RemoteConfig;
    let Some(hosts) = &args.hosts else {
        return Ok(None);
    };
    let Some(key_file) = &args.key_file else {
        bail!(
            "--hosts needs --key-file FILE, the key the agents were started with \
             (`harness agent --new-key FILE` writes one)"
        );
    };
    Ok(Some(RemoteConfig {
        hosts: RemoteConfig::parse_hosts(hosts)?,
        key: crate::remote::key::Key::load(key_file)?,
        key_file: key_file.clone(),
        remote_bin: args.remote_bin.clone(),
        ssh: args.ssh.clone(),
        ssh_identity: args.ssh_private_key.clone(),
        remote_harness: args.remote_harness.clone(),
    }))
}

fn jepsen_flags(args: &TestArgs) -> Vec<IgnoredFlag> {
    let given = [
        ("--username", args.username.is_some(), LOCAL_PROCESSES),
        ("--password", args.password.is_some(), LOCAL_PROCESSES),
        (
            "--ssh-private-key",
            args.ssh_private_key.is_some() && args.ssh.is_empty(),
            LOCAL_PROCESSES,
        ),
        (
            "--strict-host-key-checking",
            args.strict_host_key_checking,
            LOCAL_PROCESSES,
        ),
        ("--no-ssh", args.no_ssh, LOCAL_PROCESSES),
        (
            "--leave-db-running",
            args.leave_db_running,
            "no node process outlives the harness",
        ),
        (
            "--logging-json",
            args.logging_json,
            "the harness writes no Jepsen log",
        ),
    ];
    given
        .into_iter()
        .filter(|(_, given, _)| *given)
        .map(|(flag, _, why)| IgnoredFlag {
            flag: flag.into(),
            why: why.into(),
        })
        .collect()
}

/// The node program as Maelstrom finds it: relative to the current directory (a bare name
/// too: it is never looked up in `PATH`), made canonical; a clear error when it is missing,
/// a folder, or not executable. `flag` names the flag in errors.
pub fn resolve_bin(flag: &str, bin: &Path) -> anyhow::Result<PathBuf> {
    let cwd = std::env::current_dir().context("reading the current directory")?;
    let path = cwd.join(bin);
    let meta = match std::fs::metadata(&path) {
        Ok(meta) => meta,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            let bare = bin.components().count() == 1 && !bin.is_absolute();
            let hint = if bare {
                " (a name without a slash is looked for in the current directory, as Maelstrom \
                 does, not in PATH)"
            } else {
                ""
            };
            bail!(
                "{flag} {}: no such file ({} does not exist){hint}",
                bin.display(),
                path.display()
            );
        }
        Err(err) => bail!("{flag} {}: {err}", bin.display()),
    };
    if meta.is_dir() {
        bail!("{flag} {}: a folder, not a program", bin.display());
    }
    if nix::unistd::access(&path, nix::unistd::AccessFlags::X_OK).is_err() {
        bail!(
            "{flag} {}: not executable (chmod +x {})",
            bin.display(),
            bin.display()
        );
    }
    std::fs::canonicalize(&path).with_context(|| format!("{flag} {}", bin.display()))
}

pub fn shell_quote(word: &str) -> String {
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
    fn a_detection_bound_is_a_positive_number_of_milliseconds() {
        assert!(detection_bound(Some(0)).is_err());
        assert_eq!(
            detection_bound(Some(7)).unwrap(),
            Some(Duration::from_millis(7))
        );
        assert_eq!(detection_bound(None).unwrap(), None);
    }

    #[test]
    fn reproduce_replaces_the_seed_drops_the_test_count_and_keeps_node_args() {
        let config = TestConfig {
            command_line: [
                "harness",
                "test",
                "-w",
                "echo",
                "--seed",
                "3",
                "--test-count",
                "5",
                "--",
                "--fanout",
                "4",
                "--seed",
                "9",
            ]
            .map(String::from)
            .to_vec(),
            seed: 42,
            ..test_config()
        };
        assert_eq!(
            config.reproduce(),
            "harness test -w echo --seed 42 -- --fanout 4 --seed 9"
        );
    }

    fn test_config() -> TestConfig {
        TestConfig {
            workload: WorkloadKind::Echo,
            workload_options: WorkloadOptions::default(),
            bin: PathBuf::from("x"),
            sim: None,
            page: true,
            args: vec![],
            node_ids: vec!["n0".into()],
            time_limit: Duration::from_secs(1),
            rate: 1.0,
            rate_requested: None,
            clients: 1,
            latency: Duration::ZERO,
            latency_dist: "constant".parse().unwrap(),
            topology: TopologyKind::Grid,
            faults: vec![],
            nemesis_interval: Duration::from_secs(1),
            nemesis_targets: Target::DEFAULT.to_vec(),
            byzantine: 0,
            recovery_time: Duration::ZERO,
            availability: None,
            slo: None,
            ordering: None,
            consistency_models: vec![],
            detection_bound: None,
            log_stderr: false,
            log_net_send: false,
            log_net_recv: false,
            seed: 1,
            store: PathBuf::from("store"),
            progress: false,
            quiet: false,
            command_line: vec![],
            ignored_flags: vec![],
            repetition: None,
            remote: None,
        }
    }
}
