//! `harness compare`: run several broadcast node programs under the same seed, node count,
//! topology, latency, rate and faults, and set their costs and guarantees side by side.
//!
//! Each variant runs once per scenario as an ordinary `harness test -w broadcast` (its own
//! folder in the store, with its history, journal, results and report); `--jobs` runs go side
//! by side, each on its own thread with its own router and node processes. From each run the
//! table takes: server messages per client op and per broadcast; copies per broadcast (how
//! many times each value crossed a link, [`checker::stats::Copies`]); the p50 and max of three
//! latencies (broadcast: invoke to `broadcast_ok`; visibility: invoke to visible in every
//! read; and Jepsen's stable latency, from acknowledged to visible in every read); lost and
//! duplicated values; and the verdict of each ordering check (FIFO, causal, total) on that
//! run's history. A variant is valid when nothing was lost or duplicated, it broke no protocol
//! rule, and it kept the order it promises (by its name: `fifo`, `causal`, `total`). Under the
//! table, each run that is not valid gets one line: why (the `headline` of its
//! `results.json`) and its folder. `compare.json` and `compare.html` go in
//! `store/compare/<timestamp>/`; the page links each row to its run's `report.html`.
//!
//! `--sweep PARAM=V1,V2,...` runs every variant at every value of a parameter (the node count
//! or a node flag; several make a grid, [`sweep`]), and `compare.html` then draws each figure
//! against it and the cost / latency frontier (`charts.rs`); `--preset frontier` is such a grid
//! of gossip's settings. `--sim` runs the reference nodes in the simulator instead of as
//! processes; `--args-for PROGRAM=ARGS` gives one variant arguments of its own.
//!
//! `--preset byzantine` sets Bracha's Byzantine-tolerant broadcast against eager and gossip
//! with one Byzantine node (`--nemesis byzantine --byzantine 1`) among 4 nodes and among 3:
//! the n ≥ 3f + 1 bound.
//!
//! `--preset lin-kv` compares the key-value nodes instead, with columns of their own (see
//! [`lin_kv`]); `--preset clocks` compares last-writer-wins stamped by Lamport and by wall
//! clocks under clock faults, over several seeds (see [`clocks`]).

mod charts;
pub mod clocks;
mod html;
mod kv_page;
mod lin_kv;
pub mod sweep;
pub(crate) mod table;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use checker::ordering::OrderingMode;
use checker::{Validity, read_history_file};
use serde::Serialize;
use workloads::{TopologyKind, WorkloadKind, WorkloadOptions};

use crate::config::TestConfig;
use crate::nemesis::{FaultKind, Target};
use crate::net::LatencyDist;
use crate::store::RunDir;

pub use sweep::{ArgsFor, Point, Sweep};
pub use table::render_table;

/// The broadcast variants in the order of the course.
pub const VARIANTS: [&str; 6] = [
    "broadcast-eager",
    "broadcast-gossip",
    "broadcast-fifo",
    "broadcast-causal",
    "broadcast-total-leader",
    "broadcast-total-lamport",
];

/// The preset of the cost / latency frontier of gossip.
pub const FRONTIER: &str = "frontier";

/// The preset of Byzantine nodes: Bracha's broadcast against eager and gossip, with one
/// Byzantine node among 4 (n = 3f + 1) and among 3 (too few: Bracha's default f is then 0, and
/// the liar breaks agreement; told `--faulty 1` with `--args-for`, it is not live instead).
pub const BYZANTINE: &str = "byzantine";

/// The variants of the byzantine preset: Bracha's, and the two that trust every peer.
const BYZANTINE_VARIANTS: [&str; 3] = ["broadcast-bracha", "broadcast-eager", "broadcast-gossip"];

/// The variants and sweeps of the frontier preset, unless the command line gives its own.
fn frontier_defaults(args: &CompareArgs) -> anyhow::Result<CompareArgs> {
    let mut args = args.clone();
    if args.bins.is_empty() {
        args.bins = vec![PathBuf::from("broadcast-gossip")];
        if !args.sim {
            let exe = std::env::current_exe().context("finding the harness binary")?;
            let dir = exe.parent().unwrap_or(Path::new("."));
            args.bins = vec![dir.join("broadcast-gossip")];
        }
    }
    if args.sweep.is_empty() {
        args.sweep = [
            "interval-ms=100,200,300,400,500,600",
            "fanout=2,3,4,24",
            "peers=tree,random",
            "anti-entropy-ms=2000,4000",
        ]
        .iter()
        .map(|s| s.parse())
        .collect::<anyhow::Result<_>>()?;
    }
    Ok(args)
}

/// The flags of `harness compare`.
#[derive(clap::Args, Debug, Clone)]
pub struct CompareArgs {
    /// Node programs to compare (comma list of paths; with --sim, names of reference nodes).
    /// Default: every broadcast variant found beside the harness binary (with --sim: every
    /// broadcast reference node).
    #[arg(long, value_delimiter = ',')]
    pub bins: Vec<PathBuf>,
    /// Simulate every run (deterministic, virtual time; the reference nodes only): the same
    /// seed gives the same figures on any machine, and node counts reach the thousands.
    #[arg(long)]
    pub sim: bool,
    /// Run each variant at each value of a parameter: `node-count=5,10,25`, or a flag of the
    /// node programs (`interval-ms=0,100,200`, `fanout=2,3`, `peers=tree,random`). Given
    /// several times: every combination. compare.html draws cost and latency against the first.
    #[arg(long, value_name = "PARAM=V1,V2,...")]
    pub sweep: Vec<Sweep>,
    /// Arguments for one node program only, after those every program gets (after `--`):
    /// `PROGRAM=ARGS`, by file name (with --sim, reference node name), such as
    /// `broadcast-gossip=--interval-ms 600 --anti-entropy-ms 4000`. Once per program.
    #[arg(long, value_name = "PROGRAM=ARGS")]
    pub args_for: Vec<ArgsFor>,
    /// `glomers`: the Gossip Glomers broadcast setup (25 nodes, latency 100 ms, 100 ops/s,
    /// 20 s), once without faults and once with partitions. `faults`: short runs on 5 nodes,
    /// one scenario per fault (partitions; kills of majorities and of every node; pauses; loss
    /// and duplication; everything at once). `frontier`: broadcast-gossip on the Glomers setup
    /// without faults, over a grid of batching intervals, fanouts, both peer modes and two
    /// anti-entropy periods (unless --sweep says otherwise): the cost / latency frontier.
    /// `byzantine`: broadcast-bracha (its default f, floor((n - 1) / 3)), eager and gossip
    /// with one Byzantine node among 4 and among 3 (10 s, 10 ops/s, simulated or not).
    /// `lin-kv`: the key-value nodes on 5 nodes under partitions. `clocks`: kv-gossip stamped
    /// by Lamport clocks and by wall clocks, without faults and under clock faults, 5 seeds
    /// each, on the lww-register workload.
    #[arg(long, default_value = "glomers")]
    pub preset: String,
    /// Override the preset's node count.
    #[arg(long)]
    pub node_count: Option<usize>,
    /// Override the preset's time limit (seconds).
    #[arg(long)]
    pub time_limit: Option<f64>,
    /// Override the preset's rate (ops/s).
    #[arg(long)]
    pub rate: Option<f64>,
    /// Override the preset's latency (ms).
    #[arg(long)]
    pub latency: Option<u64>,
    /// Override the preset's recovery time (seconds).
    #[arg(long)]
    pub recovery_time: Option<f64>,
    /// Run only the scenarios whose name contains this.
    #[arg(long)]
    pub only: Option<String>,
    /// How many runs go side by side (each its own router thread and node processes).
    /// Default: the preset's (`faults`: every run at once; the others: one at a time, so
    /// their latency figures are not shared with other runs).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Seed of every run (the same for every variant). Default: from the clock, printed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Where runs are stored.
    #[arg(long, default_value = "store")]
    pub store: PathBuf,
    /// Arguments passed to every node process (after `--`).
    #[arg(last = true)]
    pub args: Vec<String>,
}

/// One set of conditions, the same for every variant of a comparison.
#[derive(Debug, Clone, Serialize)]
pub struct Scenario {
    pub name: String,
    pub workload: WorkloadKind,
    pub node_count: usize,
    pub clients_per_node: usize,
    pub time_limit_s: f64,
    pub rate: f64,
    pub latency_ms: u64,
    pub latency_dist: LatencyDist,
    pub topology: String,
    /// lin-kv: keys in use at once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_count: Option<usize>,
    pub nemesis: Vec<String>,
    /// `--nemesis-targets` (empty: the harness's default targets).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub nemesis_targets: Vec<String>,
    pub nemesis_interval_s: f64,
    pub recovery_time_s: f64,
    /// `--byzantine N` (with `byzantine` among the faults); 0: none.
    #[serde(skip_serializing_if = "is_zero")]
    pub byzantine: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Scenario {
    /// A broadcast scenario: one client per node, constant latency, grid topology.
    fn broadcast(name: &str, nemesis: &[&str]) -> Scenario {
        Scenario {
            name: name.to_owned(),
            workload: WorkloadKind::Broadcast,
            node_count: 25,
            clients_per_node: 1,
            time_limit_s: 20.0,
            rate: 100.0,
            latency_ms: 100,
            latency_dist: LatencyDist::Constant,
            topology: "grid".into(),
            key_count: None,
            nemesis: nemesis.iter().map(|s| (*s).to_owned()).collect(),
            nemesis_targets: Vec::new(),
            nemesis_interval_s: 10.0,
            recovery_time_s: 10.0,
            byzantine: 0,
        }
    }
}

/// Apply the command line's overrides to a preset's scenarios and keep those `--only` names.
fn adjust(mut list: Vec<Scenario>, args: &CompareArgs) -> anyhow::Result<Vec<Scenario>> {
    for s in &mut list {
        if let Some(n) = args.node_count {
            s.node_count = n;
        }
        if let Some(t) = args.time_limit {
            s.time_limit_s = t;
        }
        if let Some(r) = args.rate {
            s.rate = r;
        }
        if let Some(l) = args.latency {
            s.latency_ms = l;
        }
        if let Some(r) = args.recovery_time {
            s.recovery_time_s = r;
        }
    }
    if let Some(only) = &args.only {
        list.retain(|s| s.name.contains(only.as_str()));
        if list.is_empty() {
            bail!(
                "--only {only:?} matches no scenario of preset {}",
                args.preset
            );
        }
    }
    Ok(list)
}

/// Quantiles of one latency of a run, in milliseconds (`None` when the run has none).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Spread {
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub max_ms: Option<f64>,
}

impl Spread {
    /// The quantiles of `results.workload[key]`.
    fn of(results: &serde_json::Value, key: &str) -> Spread {
        let q = |k: &str| results["workload"][key][k].as_f64();
        Spread {
            p50_ms: q("0.5"),
            p95_ms: q("0.95"),
            max_ms: q("1"),
        }
    }
}

/// The three latencies of a broadcast run (see [`checker::set_full`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Latencies {
    /// A broadcast's invocation to its `broadcast_ok`: what the client waits.
    pub broadcast: Spread,
    /// A broadcast's invocation to the moment every read has the value.
    pub visibility: Spread,
    /// Jepsen's stable latency: from acknowledged (or first read) to visible in every read.
    pub stable: Spread,
}

/// One variant under one scenario (at one point of the sweeps).
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// How the variant is named in tables and charts: its program, "(unbatched)" for the
    /// textbook variant, and the swept settings.
    pub variant: String,
    /// The node program.
    pub program: String,
    /// The arguments its node processes got: after `--`, `--args-for`, the swept flags.
    pub node_args: Vec<String>,
    /// The swept settings of this run, `[param, value]` in the order of the sweeps.
    pub settings: Point,
    pub node_count: usize,
    pub scenario: String,
    pub promises: Option<String>,
    /// Server messages per client op (`net.servers.msgs_per_op`).
    pub msgs_per_op: Option<f64>,
    /// Server messages per broadcast (`net.servers.msgs_per_broadcast`).
    pub msgs_per_broadcast: Option<f64>,
    /// Copies of broadcast values that crossed a link, per broadcast
    /// (`net.servers.copies_per_broadcast`).
    pub copies_per_broadcast: Option<f64>,
    pub latencies: Latencies,
    pub lost: Option<u64>,
    pub duplicated: Option<u64>,
    pub fifo: Validity,
    pub causal: Validity,
    pub total: Validity,
    pub valid: Validity,
    /// Why the run is not valid, in one sentence (its `headline` in results.json); `None`
    /// for a valid run.
    pub why: Option<String>,
    pub ops_ok: u64,
    pub ops_total: u64,
    pub run_dir: PathBuf,
}

/// What `compare.json` holds.
#[derive(Debug, Serialize)]
pub struct Comparison {
    pub seed: u64,
    /// The arguments every node program got (after `--`).
    pub node_args: Vec<String>,
    /// Whether the runs were simulated.
    pub sim: bool,
    /// The swept parameters (empty without `--sweep`).
    pub sweeps: Vec<Sweep>,
    pub scenarios: Vec<Scenario>,
    pub rows: Vec<Row>,
}

fn scenarios(args: &CompareArgs) -> anyhow::Result<Vec<Scenario>> {
    let list = match args.preset.as_str() {
        FRONTIER => vec![Scenario::broadcast("no faults", &[])],
        "glomers" => vec![
            Scenario::broadcast("no faults", &[]),
            Scenario::broadcast("partitions", &["partition"]),
        ],
        "faults" => {
            let short = |name: &str, nemesis: &[&str], targets: &[&str]| Scenario {
                node_count: 5,
                time_limit_s: 10.0,
                rate: 20.0,
                latency_ms: 20,
                nemesis_interval_s: 2.0,
                nemesis_targets: targets.iter().map(|t| (*t).to_owned()).collect(),
                ..Scenario::broadcast(name, nemesis)
            };
            vec![
                short("partitions", &["partition"], &[]),
                // Kills of a majority or of every node leave nothing to serve while they
                // last: longer gaps between them leave each algorithm time to recover and
                // acknowledge broadcasts, also on a loaded machine.
                Scenario {
                    nemesis_interval_s: 3.0,
                    ..short("kills", &["kill"], &["majority", "all"])
                },
                short("pauses", &["pause"], &[]),
                short("loss, duplication", &["loss", "duplicate"], &[]),
                short(
                    "everything",
                    &["partition", "kill", "pause", "loss", "duplicate"],
                    &["one", "minority", "majority", "all"],
                ),
            ]
        }
        BYZANTINE => {
            let one_byzantine = |n: usize| Scenario {
                node_count: n,
                time_limit_s: 10.0,
                rate: 10.0,
                latency_ms: 20,
                recovery_time_s: 5.0,
                byzantine: 1,
                ..Scenario::broadcast(&format!("n={n}, 1 Byzantine"), &["byzantine"])
            };
            vec![one_byzantine(4), one_byzantine(3)]
        }
        other => bail!(
            "unknown --preset {other:?}; presets: glomers, faults, frontier, byzantine, lin-kv, clocks"
        ),
    };
    adjust(list, args)
}

/// The node programs to compare: `--bins`, or those of `names` found beside the harness; with
/// `--sim`, reference nodes by name (checked against the catalog). Every `--args-for` must
/// name one of them.
fn variants(args: &CompareArgs, names: &[&str]) -> anyhow::Result<Vec<PathBuf>> {
    let bins = programs(args, names)?;
    for a in &args.args_for {
        if !bins.iter().any(|b| name_of(b) == a.program) {
            bail!(
                "--args-for {}: no such program among the variants ({})",
                a.program,
                bins.iter()
                    .map(|b| name_of(b))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    Ok(bins)
}

fn programs(args: &CompareArgs, names: &[&str]) -> anyhow::Result<Vec<PathBuf>> {
    if args.sim {
        let chosen: Vec<PathBuf> = if args.bins.is_empty() {
            names.iter().map(PathBuf::from).collect()
        } else {
            args.bins.clone()
        };
        for name in &chosen {
            let name = name.to_string_lossy();
            if ::nodes::catalog::entry(&name).is_none() {
                bail!(
                    "--sim runs reference nodes by name; {name:?} is none of: {}",
                    ::nodes::catalog::names()
                );
            }
        }
        return Ok(chosen);
    }
    if !args.bins.is_empty() {
        return args
            .bins
            .iter()
            .map(|bin| crate::config::resolve_bin("--bins", bin))
            .collect();
    }
    let exe = std::env::current_exe().context("finding the harness binary")?;
    let dir = exe.parent().unwrap_or(Path::new("."));
    let found: Vec<PathBuf> = names
        .iter()
        .map(|v| dir.join(v))
        .filter(|p| p.exists())
        .collect();
    if found.is_empty() {
        bail!(
            "none of {} beside {}; build them (cargo build --release) or pass --bins",
            names.join(", "),
            exe.display()
        );
    }
    Ok(found)
}

/// What the header line says of the arguments every node program gets (after `--`), if any,
/// and of the sweeps.
pub(crate) fn node_arguments(args: &CompareArgs) -> String {
    let mut out = String::new();
    if !args.args.is_empty() {
        out.push_str(&format!(", every node run with: {}", args.args.join(" ")));
    }
    for s in &args.sweep {
        out.push_str(&format!(", {} = {}", s.param, s.values.join(", ")));
    }
    if args.sim {
        out.push_str(", simulated");
    }
    out
}

/// A node program's file name.
pub fn name_of(bin: &Path) -> String {
    bin.file_name()
        .map_or_else(|| bin.display().to_string(), |n| n.to_string_lossy().into())
}

/// The order a variant promises, from its name.
pub fn promise_of(bin: &Path) -> Option<OrderingMode> {
    let name = bin.file_name()?.to_string_lossy().to_string();
    if name.contains("fifo") {
        Some(OrderingMode::Fifo)
    } else if name.contains("causal") {
        Some(OrderingMode::Causal)
    } else if name.contains("total") {
        Some(OrderingMode::Total)
    } else {
        None
    }
}

/// The test configuration of one variant under one scenario at one point of the sweeps, with
/// the command line that reruns it alone.
fn config_for(
    scenario: &Scenario,
    point: &Point,
    bin: &Path,
    args: &CompareArgs,
    seed: u64,
    ordering: Option<OrderingMode>,
) -> anyhow::Result<TestConfig> {
    let node_count = sweep::node_count(point).unwrap_or(scenario.node_count);
    let mut node_args = args.args.clone();
    node_args.extend_from_slice(sweep::own_args(&args.args_for, &name_of(bin)));
    node_args.extend(sweep::node_flags(point));
    let (program, sim) = if args.sim {
        let name = bin.to_string_lossy();
        (
            vec!["--sim".into(), "--node".into(), name.to_string()],
            Some(crate::config::SimProgram::reference(&name, &node_args)?),
        )
    } else {
        (vec!["--bin".into(), bin.display().to_string()], None)
    };
    let faults = scenario
        .nemesis
        .iter()
        .map(|f| f.parse::<FaultKind>())
        .collect::<Result<Vec<_>, _>>()?;
    let mut command_line: Vec<String> = vec![
        "harness".into(),
        "test".into(),
        "-w".into(),
        scenario.workload.name().into(),
    ];
    command_line.extend(program);
    command_line.extend([
        "--node-count".into(),
        node_count.to_string(),
        "--concurrency".into(),
        format!("{}n", scenario.clients_per_node),
        "--time-limit".into(),
        scenario.time_limit_s.to_string(),
        "--rate".into(),
        scenario.rate.to_string(),
        "--latency".into(),
        scenario.latency_ms.to_string(),
        "--latency-dist".into(),
        scenario.latency_dist.name().into(),
        "--recovery-time".into(),
        scenario.recovery_time_s.to_string(),
    ]);
    let mut workload_options = WorkloadOptions::default();
    if let Some(keys) = scenario.key_count {
        workload_options.lin_kv.key_count = keys.max(1);
        command_line.extend(["--key-count".into(), keys.to_string()]);
    }
    if !faults.is_empty() {
        command_line.extend([
            "--nemesis".into(),
            scenario.nemesis.join(","),
            "--nemesis-interval".into(),
            scenario.nemesis_interval_s.to_string(),
        ]);
    }
    if scenario.byzantine > 0 {
        command_line.extend(["--byzantine".into(), scenario.byzantine.to_string()]);
    }
    let nemesis_targets = if scenario.nemesis_targets.is_empty() {
        Target::DEFAULT.to_vec()
    } else {
        command_line.extend([
            "--nemesis-targets".into(),
            scenario.nemesis_targets.join(","),
        ]);
        Target::parse_list(&scenario.nemesis_targets.join(","))?
    };
    if let Some(o) = ordering {
        command_line.extend(["--ordering".into(), o.name().into()]);
    }
    if !node_args.is_empty() {
        command_line.push("--".into());
        command_line.extend(node_args.iter().cloned());
    }
    Ok(TestConfig {
        workload: scenario.workload,
        workload_options,
        bin: if sim.is_some() {
            PathBuf::new()
        } else {
            bin.to_owned()
        },
        sim,
        page: true,
        args: node_args,
        node_ids: (0..node_count).map(|i| format!("n{i}")).collect(),
        time_limit: Duration::from_secs_f64(scenario.time_limit_s),
        rate: scenario.rate,
        rate_requested: None,
        clients: node_count * scenario.clients_per_node,
        latency: Duration::from_millis(scenario.latency_ms),
        latency_dist: scenario.latency_dist,
        topology: scenario.topology.parse::<TopologyKind>()?,
        faults,
        nemesis_interval: Duration::from_secs_f64(scenario.nemesis_interval_s),
        nemesis_targets,
        byzantine: scenario.byzantine,
        recovery_time: Duration::from_secs_f64(scenario.recovery_time_s),
        availability: None,
        slo: None,
        ordering,
        consistency_models: Vec::new(),
        detection_bound: None,
        log_stderr: false,
        log_net_send: false,
        log_net_recv: false,
        seed,
        store: args.store.clone(),
        progress: false,
        quiet: true,
        command_line,
        ignored_flags: Vec::new(),
        repetition: None,
        remote: None,
    })
}

/// One run of a comparison: where it stands (scenario index, sweep point, node program) and
/// how it ended.
pub(crate) struct Outcome {
    pub scenario: usize,
    pub point: Point,
    pub bin: PathBuf,
    pub run: crate::results::RunOutcome,
}

/// Every variant under every scenario at every point of the sweeps, one ordinary run each,
/// `jobs` of them side by side. Returns the outcomes in order (scenario by scenario, variant
/// by variant, point by point) and whether a run could not start.
fn run_all(
    scenarios: &[Scenario],
    bins: &[PathBuf],
    args: &CompareArgs,
    seed: u64,
    jobs: usize,
    ordering: impl Fn(&Path) -> Option<OrderingMode>,
) -> anyhow::Result<(Vec<Outcome>, bool)> {
    let points = sweep::points(&args.sweep)?;
    let mut runs = Vec::new();
    for (i, scenario) in scenarios.iter().enumerate() {
        for bin in bins {
            for point in &points {
                let config = config_for(scenario, point, bin, args, seed, ordering(bin))?;
                runs.push((i, (bin.clone(), point.clone()), config));
            }
        }
    }
    let jobs = jobs.clamp(1, runs.len().max(1));
    if jobs > 1 {
        let longest = scenarios
            .iter()
            .map(|s| s.time_limit_s + s.recovery_time_s)
            .fold(0.0, f64::max);
        eprintln!(
            "  {} runs, {jobs} at a time (each up to {longest:.0} s with its recovery) ...",
            runs.len()
        );
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<std::sync::Mutex<Option<anyhow::Result<crate::results::RunOutcome>>>> =
        runs.iter().map(|_| std::sync::Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| {
                loop {
                    let k = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let Some((i, (bin, point), config)) = runs.get(k) else {
                        break;
                    };
                    let scenario = &scenarios[*i];
                    let program = name_of(bin);
                    let own = sweep::own_args(&args.args_for, &program);
                    let label = sweep::label(&program, &config.args, own, point);
                    if jobs == 1 {
                        eprintln!(
                            "  {} / {label}: {:.0} s + {:.0} s recovery ...",
                            scenario.name, scenario.time_limit_s, scenario.recovery_time_s
                        );
                    }
                    let outcome = crate::run::run_test(config.clone());
                    if jobs > 1
                        && let Ok(outcome) = &outcome
                    {
                        eprintln!("  {} / {label}: {}", scenario.name, outcome.valid);
                    }
                    *results[k].lock().unwrap_or_else(|e| e.into_inner()) = Some(outcome);
                }
            });
        }
    });
    let mut outcomes = Vec::new();
    let mut could_not_run = false;
    for ((scenario, (bin, point), _), result) in runs.into_iter().zip(results) {
        let run = result
            .into_inner()
            .unwrap_or_else(|e| e.into_inner())
            .unwrap_or_else(|| Err(anyhow::anyhow!("a run did not finish")))?;
        could_not_run |= run.exit_code == 3;
        outcomes.push(Outcome {
            scenario,
            point,
            bin,
            run,
        });
    }
    Ok((outcomes, could_not_run))
}

/// How many runs go side by side unless `--jobs` says otherwise: simulated runs one per core
/// (their figures are virtual time, whatever the load); the short fault runs all at once (they
/// are light: 5 nodes at 20 ops/s); the others one at a time.
fn default_jobs(args: &CompareArgs) -> usize {
    if args.sim {
        std::thread::available_parallelism().map_or(1, usize::from)
    } else if args.preset == "faults" {
        usize::MAX
    } else {
        1
    }
}

/// Write `compare.json` and `compare.html` in a new `store/compare/<timestamp>/`
/// (`store/compare/latest` points there), and point `store/latest` at the run to open first:
/// the first that is not valid, else the last (a run folder, as `harness report` and
/// `make report-check` expect).
fn write_files(
    args: &CompareArgs,
    json: &impl Serialize,
    html: &str,
    runs: &[(&Path, Validity)],
) -> anyhow::Result<PathBuf> {
    let dir = RunDir::create(&args.store, "compare")?;
    std::fs::write(
        dir.dir.join("compare.json"),
        serde_json::to_string_pretty(json)? + "\n",
    )?;
    std::fs::write(dir.dir.join("compare.html"), html)?;
    let _ = std::fs::remove_dir(dir.node_logs());
    let _ = std::fs::remove_dir(dir.data());
    let first = runs
        .iter()
        .find(|(_, v)| *v != Validity::Valid)
        .or(runs.last());
    if let Some((run, _)) = first {
        crate::store::point_latest(&args.store, run)
            .with_context(|| format!("pointing {}/latest at a run", args.store.display()))?;
    }
    Ok(dir.dir)
}

/// The exit code of a comparison: 3 when a run could not start, 0 when `kept`, else 1.
fn exit_code(could_not_run: bool, kept: bool) -> u8 {
    if could_not_run {
        3
    } else if kept {
        0
    } else {
        1
    }
}

fn row_for(scenario: &Scenario, o: &Outcome, args_for: &[ArgsFor]) -> anyhow::Result<Row> {
    let (bin, outcome) = (&o.bin, &o.run);
    let r = &outcome.results;
    let history = read_history_file(&outcome.dir.join("history.jsonl"))?;
    let verdict = |mode: OrderingMode| {
        let opts = checker::RunCheckOptions {
            ordering: Some(mode),
            ..Default::default()
        };
        WorkloadKind::Broadcast
            .check(&history, &opts)
            .ordering
            .map_or(Validity::Unknown, |o| o.valid)
    };
    let ops = |k: &str| r["stats"][k].as_u64().unwrap_or(0);
    let why = (outcome.valid != Validity::Valid).then(|| {
        r["headline"]
            .as_str()
            .map_or_else(|| format!("the run is {}", outcome.valid), str::to_owned)
    });
    let node_args: Vec<String> = r["run"]["args"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let own = sweep::own_args(args_for, &name_of(bin));
    Ok(Row {
        variant: sweep::label(&name_of(bin), &node_args, own, &o.point),
        program: name_of(bin),
        node_args,
        settings: o.point.clone(),
        node_count: sweep::node_count(&o.point).unwrap_or(scenario.node_count),
        scenario: scenario.name.clone(),
        promises: promise_of(bin).map(|o| o.name().to_owned()),
        msgs_per_op: r["net"]["servers"]["msgs_per_op"].as_f64(),
        msgs_per_broadcast: r["net"]["servers"]["msgs_per_broadcast"].as_f64(),
        copies_per_broadcast: r["net"]["servers"]["copies_per_broadcast"].as_f64(),
        latencies: Latencies {
            broadcast: Spread::of(r, "broadcast_latencies"),
            visibility: Spread::of(r, "visibility_latencies"),
            stable: Spread::of(r, "stable_latencies"),
        },
        lost: r["workload"]["lost_count"].as_u64(),
        duplicated: r["workload"]["duplicated_count"].as_u64(),
        fifo: verdict(OrderingMode::Fifo),
        causal: verdict(OrderingMode::Causal),
        total: verdict(OrderingMode::Total),
        valid: outcome.valid,
        why,
        ops_ok: ops("ok_count"),
        ops_total: ops("count"),
        run_dir: outcome.dir.clone(),
    })
}

/// The runs of the cost / latency frontier, one line each: those no other valid run of their
/// scenario beats on messages per op and visibility latency (p50 and max) at once.
fn frontier_lines(rows: &[Row]) -> String {
    let mut out = String::from(
        "\nfrontier (no other valid run of the scenario has as few messages per op and as low \
         a visibility latency, p50 and max):\n",
    );
    for i in charts::frontier_rows(rows) {
        let r = &rows[i];
        let v = &r.latencies.visibility;
        out.push_str(&format!(
            "  {} ({}): {:.2} msgs/op, visible p50 {:.0} ms, max {:.0} ms\n",
            r.variant,
            r.scenario,
            r.msgs_per_op.unwrap_or_default(),
            v.p50_ms.unwrap_or_default(),
            v.max_ms.unwrap_or_default()
        ));
    }
    out
}

/// Run the comparison; prints the table and returns the exit code (0 when every variant is
/// valid in every scenario, or with `--preset byzantine` when Bracha at n = 4 is; 1
/// otherwise; 3 when a run could not start).
pub fn run(args: &CompareArgs) -> anyhow::Result<u8> {
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64 % 1_000_000_000_000)
            .unwrap_or(1)
    });
    if args.preset == lin_kv::PRESET {
        return lin_kv::run(args, seed);
    }
    if args.preset == clocks::PRESET {
        return clocks::run(args, seed);
    }
    let frontier;
    let args = if args.preset == FRONTIER {
        frontier = frontier_defaults(args)?;
        &frontier
    } else {
        args
    };
    let scenarios = scenarios(args)?;
    let names: &[&str] = if args.preset == BYZANTINE {
        &BYZANTINE_VARIANTS
    } else {
        &VARIANTS
    };
    let bins = variants(args, names)?;
    println!(
        "comparing {} variant(s) over {} scenario(s), seed {seed}{}",
        bins.len(),
        scenarios.len(),
        node_arguments(args)
    );
    let jobs = args.jobs.unwrap_or_else(|| default_jobs(args));
    let (outcomes, could_not_run) = run_all(&scenarios, &bins, args, seed, jobs, promise_of)?;
    let rows = outcomes
        .iter()
        .map(|o| row_for(&scenarios[o.scenario], o, &args.args_for))
        .collect::<anyhow::Result<Vec<Row>>>()?;
    let comparison = Comparison {
        seed,
        node_args: args.args.clone(),
        sim: args.sim,
        sweeps: args.sweep.clone(),
        scenarios,
        rows,
    };
    let runs: Vec<(&Path, Validity)> = comparison
        .rows
        .iter()
        .map(|r| (r.run_dir.as_path(), r.valid))
        .collect();
    let dir = write_files(args, &comparison, &html::render(&comparison), &runs)?;
    print!("{}", render_table(&comparison.rows));
    if !comparison.sweeps.is_empty() {
        print!("{}", frontier_lines(&comparison.rows));
    }
    println!("files: {}", dir.display());
    let kept = if args.preset == BYZANTINE {
        // Only Bracha with n >= 3f + 1 for f = 1 (n = 4) promises anything with one liar.
        comparison.rows.iter().all(|r| {
            r.valid == Validity::Valid || r.program != BYZANTINE_VARIANTS[0] || r.node_count < 4
        })
    } else {
        comparison.rows.iter().all(|r| r.valid == Validity::Valid)
    };
    if args.preset == BYZANTINE {
        println!(
            "byzantine: only broadcast-bracha with n >= 3f + 1 (here n = 4, f = 1) must be \
             valid; eager and gossip trust every peer, and n = 3 is too few for one liar: {}",
            if kept {
                "as expected"
            } else {
                "NOT as expected"
            }
        );
    }
    Ok(exit_code(could_not_run, kept))
}
