//! `harness explore`: many seeds of one simulated test, spread over every core, each with its
//! own shape (swarm testing, [`shape`]), until one fails (or all do, with `--keep-going`);
//! every failure is printed with the one command that replays it, then shrunk ([`shrink`])
//! to the smallest failing command, whose run is written with its report.
//!
//! Seeds: `--seed S` (0 by default) is the first; `--shard I/K` takes the seeds S+I, S+I+K,
//! S+I+2K, ..., so K machines given I = 0 .. K-1 spread one exploration over them without
//! overlap. `--seeds N` runs N of them; without it, exploration goes on until interrupted.
//!
//! The verdict does not depend on the machine: workers take seed numbers in order, and once a
//! seed fails, no seed after it is started, so the failure reported is always the first
//! failing seed in order, however many cores ran. Runs are written to a scratch folder in the
//! store, and the valid ones removed as they end.

pub mod shape;
pub mod shrink;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::config::{SimProgram, TestArgs, TestConfig};
use crate::results::RunOutcome;
use crate::run::run_test;
use shape::{SHAPE_FLAGS, Shape};

/// The flags of `harness explore`: those of `harness test` (the simulator is implied), and
/// these.
#[derive(clap::Args, Debug, Clone)]
pub struct ExploreArgs {
    /// How many seeds to run [default: until interrupted].
    #[arg(long, value_name = "N")]
    pub seeds: Option<u64>,
    /// Go on after a failure, and report every failing seed.
    #[arg(long)]
    pub keep_going: bool,
    /// Take every K-th seed, from the I-th (0-based): `--shard 0/4` .. `--shard 3/4` split one
    /// exploration over four machines.
    #[arg(long, value_name = "I/K")]
    pub shard: Option<String>,
    /// Runs side by side [default: one per core].
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Run every seed with the flags as given (no swarm testing).
    #[arg(long)]
    pub no_swarm: bool,
    /// Do not shrink a failing run.
    #[arg(long)]
    pub no_shrink: bool,
    /// Stop starting seeds after this many seconds of exploration (shrinking not included).
    #[arg(long, value_name = "SECONDS")]
    pub max_time: Option<f64>,
    #[command(flatten)]
    pub test: TestArgs,
}

/// Flags of `harness explore` that `harness test` does not take, and whether each takes a value.
const EXPLORE_ONLY: [(&str, bool); 7] = [
    ("--max-time", true),
    ("--seeds", true),
    ("--keep-going", false),
    ("--shard", true),
    ("--jobs", true),
    ("--no-swarm", false),
    ("--no-shrink", false),
];

/// Flags of `harness test` that exploration sets itself for every run.
const PER_RUN: [(&str, bool); 6] = [
    ("--seed", true),
    ("--test-count", true),
    ("--check-determinism", false),
    ("--nodes", true),
    ("--nodes-file", true),
    ("--no-progress", false),
];

/// How the seeds are split between machines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl std::str::FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("--shard takes I/K with 0 <= I < K, like 0/4, not {s:?}");
        let (i, k) = s.split_once('/').ok_or_else(bad)?;
        let (index, count) = (
            i.trim().parse::<u64>().map_err(|_| bad())?,
            k.trim().parse::<u64>().map_err(|_| bad())?,
        );
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl Shard {
    /// The `n`-th seed (from 0) of this shard, from `first`.
    pub fn seed(self, first: u64, n: u64) -> u64 {
        first
            .wrapping_add(self.index)
            .wrapping_add(n.wrapping_mul(self.count))
    }
}

/// What builds each run of an exploration: the user's command without the flags exploration
/// sets, the shape they gave, and, for a library user's node, what makes it.
#[derive(Clone)]
pub struct Explorer {
    /// `harness test --sim ...`: the user's flags but the shape's and the per-run ones.
    base: Vec<String>,
    /// The node's arguments (after `--`).
    node_args: Vec<String>,
    given: Shape,
    program: Option<SimProgram>,
    store: PathBuf,
    swarm: bool,
}

/// Runs that were neither valid nor failures.
#[derive(Debug, Default)]
struct Tally {
    unavailable: AtomicU64,
    unknown: AtomicU64,
    /// A run was stopped by a signal.
    interrupted: AtomicBool,
}

/// One failing seed.
#[derive(Debug, Clone)]
pub struct Failure {
    /// Its position among the seeds (0-based).
    pub index: u64,
    pub seed: u64,
    pub command: String,
    /// results.json's `headline`, or why the run could not run.
    pub headline: String,
    pub exit_code: u8,
}

/// What an exploration found.
#[derive(Debug, Clone)]
pub struct Summary {
    pub seeds_run: u64,
    pub failures: Vec<Failure>,
    /// Runs invalid only by the stats rule ([`Verdict::Unavailable`]).
    pub unavailable: u64,
    /// Runs a checker could not decide.
    pub unknown: u64,
    /// How long the seeds took (shrinking not included).
    pub elapsed: Duration,
    pub interrupted: bool,
    /// The shrunk failure: its command, its run folder, and how many runs shrinking took.
    pub shrunk: Option<(String, PathBuf, usize)>,
}

impl Explorer {
    /// From `harness explore`'s command-line words (after `explore`).
    pub fn from_words(words: &[String], swarm: bool) -> anyhow::Result<Explorer> {
        let (flags, node_args) = match words.iter().position(|w| w == "--") {
            Some(at) => (&words[..at], words[at + 1..].to_vec()),
            None => (words, Vec::new()),
        };
        let mut full = vec!["harness".to_owned(), "test".to_owned()];
        if !flags.iter().any(|w| w == "--sim") {
            full.push("--sim".to_owned());
        }
        // The user's flags (but explore's own) give the shape that seeds draw around ...
        let mut given = full.clone();
        given.extend(strip(flags, &EXPLORE_ONLY));
        let args = parse_test_args(&given, &node_args)?;
        let config = TestConfig::from_args(&args, Vec::new())?;
        // ... and every run is the base command with its own shape and seed.
        full.extend(base_flags(flags));
        Explorer::new(full, node_args, &args, config.node_ids.len(), None, swarm)
    }

    /// From the words of a `harness test` command (`harness test --sim ...`, without the shape
    /// flags) and a library user's node.
    pub fn new(
        base: Vec<String>,
        node_args: Vec<String>,
        args: &TestArgs,
        node_count: usize,
        program: Option<SimProgram>,
        swarm: bool,
    ) -> anyhow::Result<Explorer> {
        Ok(Explorer {
            base,
            node_args,
            given: Shape::given(args, node_count)?,
            program,
            store: args.store.clone(),
            swarm,
        })
    }

    /// The shape of seed `seed`.
    pub fn shape(&self, seed: u64) -> Shape {
        if self.swarm {
            Shape::draw(&self.given, seed)
        } else {
            self.given.clone()
        }
    }

    /// The command that runs `shape` with `seed`.
    pub fn command(&self, shape: &Shape, seed: u64) -> Vec<String> {
        let mut words = self.base.clone();
        words.extend(shape.words());
        words.extend(["--seed".to_owned(), seed.to_string()]);
        if !self.node_args.is_empty() {
            words.push("--".to_owned());
            words.extend(self.node_args.iter().cloned());
        }
        words
    }

    /// The configuration of one run: quiet, no page, files under `scratch` when given.
    pub fn config(
        &self,
        shape: &Shape,
        seed: u64,
        scratch: Option<&Path>,
    ) -> anyhow::Result<TestConfig> {
        let words = self.command(shape, seed);
        let at = words.iter().position(|w| w == "--");
        let (flags, node_args) = match at {
            Some(at) => (&words[..at], &words[at + 1..]),
            None => (&words[..], &[][..]),
        };
        let args = parse_test_args(flags, node_args)?;
        let mut config = TestConfig::from_args_with(&args, words.clone(), self.program.clone())?;
        config.progress = false;
        if let Some(scratch) = scratch {
            config.quiet = true;
            config.page = false;
            config.store = scratch.to_owned();
        }
        Ok(config)
    }

    /// Run one seed in `scratch` (its folder is removed unless it failed). `Ok(None)` unless
    /// it failed; runs neither valid nor failed are counted in `tally`.
    fn try_seed(
        &self,
        index: u64,
        seed: u64,
        scratch: &Path,
        tally: &Tally,
    ) -> anyhow::Result<Option<Failure>> {
        let shape = self.shape(seed);
        let config = self.config(&shape, seed, Some(scratch))?;
        let outcome = run_caught(config);
        Ok(match outcome {
            // Stopped by a signal: not a verdict (the exploration stops too).
            Ok(outcome) if outcome.results["run"]["interrupted"] == true => {
                let _ = std::fs::remove_dir_all(&outcome.dir);
                tally.interrupted.store(true, Ordering::Relaxed);
                None
            }
            Ok(outcome) if classify(&outcome) != Verdict::Failed => {
                let _ = std::fs::remove_dir_all(&outcome.dir);
                match classify(&outcome) {
                    Verdict::Unavailable => tally.unavailable.fetch_add(1, Ordering::Relaxed),
                    Verdict::Unknown => tally.unknown.fetch_add(1, Ordering::Relaxed),
                    _ => 0,
                };
                None
            }
            Ok(outcome) => Some(Failure {
                index,
                seed,
                command: shell_words(&self.command(&shape, seed)),
                headline: headline(&outcome),
                exit_code: outcome.exit_code,
            }),
            Err(err) => Some(Failure {
                index,
                seed,
                command: shell_words(&self.command(&shape, seed)),
                headline: format!("could not run: {err:#}"),
                exit_code: 3,
            }),
        })
    }

    /// Explore: run `seeds` seeds (or until `stop` is set) of `shard` from `first` on `jobs`
    /// threads; stop at the first failure unless `keep_going`; shrink the first failure unless
    /// `no_shrink`. Progress goes to stderr unless `quiet`.
    #[allow(clippy::too_many_arguments)]
    pub fn explore(
        &self,
        first: u64,
        shard: Shard,
        seeds: Option<u64>,
        jobs: usize,
        keep_going: bool,
        shrink_it: bool,
        stop: &AtomicBool,
        quiet: bool,
        max_time: Option<Duration>,
    ) -> anyhow::Result<Summary> {
        let started = Instant::now();
        let scratch_root = self.store.join(format!(".explore-{}", std::process::id()));
        std::fs::create_dir_all(&scratch_root)
            .with_context(|| format!("creating {}", scratch_root.display()))?;
        let next = AtomicU64::new(0);
        let done = AtomicU64::new(0);
        // The first failing position: no position after it is started (unless keep_going).
        let cutoff = AtomicU64::new(u64::MAX);
        let failures: Mutex<Vec<Failure>> = Mutex::new(Vec::new());
        let errors: Mutex<Vec<String>> = Mutex::new(Vec::new());
        let limit = seeds.unwrap_or(u64::MAX);
        let finished = AtomicBool::new(false);
        let tally = Tally::default();
        std::thread::scope(|scope| {
            let mut workers = Vec::new();
            for worker in 0..jobs.max(1) {
                let scratch = scratch_root.join(format!("w{worker}"));
                let (next, done, cutoff, failures, errors, tally) =
                    (&next, &done, &cutoff, &failures, &errors, &tally);
                workers.push(scope.spawn(move || {
                    loop {
                        if stop.load(Ordering::Relaxed)
                            || max_time.is_some_and(|t| started.elapsed() >= t)
                        {
                            return;
                        }
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        if index >= limit || index > cutoff.load(Ordering::Relaxed) {
                            return;
                        }
                        let seed = shard.seed(first, index);
                        match self.try_seed(index, seed, &scratch, tally) {
                            Ok(None) if tally.interrupted.load(Ordering::Relaxed) => {
                                stop.store(true, Ordering::Relaxed);
                                return;
                            }
                            Ok(None) => {}
                            Ok(Some(failure)) => {
                                if !keep_going {
                                    cutoff.fetch_min(index, Ordering::Relaxed);
                                }
                                failures.lock().expect("failures").push(failure);
                            }
                            Err(err) => {
                                errors.lock().expect("errors").push(format!("{err:#}"));
                                stop.store(true, Ordering::Relaxed);
                                return;
                            }
                        }
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                }));
            }
            // The progress line.
            let (done, failures, finished) = (&done, &failures, &finished);
            scope.spawn(move || {
                if quiet {
                    return;
                }
                let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
                let mut last_line = Instant::now();
                while !finished.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(200));
                    let every = if terminal { 0.5 } else { 10.0 };
                    if last_line.elapsed().as_secs_f64() < every {
                        continue;
                    }
                    last_line = Instant::now();
                    let n = done.load(Ordering::Relaxed);
                    let secs = started.elapsed().as_secs_f64();
                    let failed = failures.lock().expect("failures").len();
                    let line = format!(
                        "explore: {n} seeds, {:.1} per second, {failed} failed, {secs:.0} s",
                        n as f64 / secs.max(1e-9)
                    );
                    if terminal {
                        eprint!("\r{line}\x1b[K");
                    } else {
                        eprintln!("{line}");
                    }
                }
                if terminal {
                    eprint!("\r\x1b[K");
                }
            });
            // Wait for the workers, then end the progress line.
            for worker in workers {
                let _ = worker.join();
            }
            finished.store(true, Ordering::Relaxed);
        });
        if let Some(err) = errors.into_inner().expect("errors").into_iter().next() {
            let _ = std::fs::remove_dir_all(&scratch_root);
            bail!(err);
        }
        let mut failures = failures.into_inner().expect("failures");
        failures.sort_by_key(|f| f.index);
        if !keep_going {
            failures.truncate(1);
        }
        let seeds_run = if keep_going {
            done.load(Ordering::Relaxed)
        } else {
            // Every position up to the first failure ran; later ones do not count.
            failures
                .first()
                .map_or(done.load(Ordering::Relaxed), |f| f.index + 1)
        };
        let interrupted = stop.load(Ordering::Relaxed);
        let elapsed = started.elapsed();
        let shrunk = match failures.first() {
            Some(failure) if !interrupted => Some(self.shrink_and_write(
                failure,
                &scratch_root.join("shrink"),
                shrink_it,
                stop,
                quiet,
            )?),
            _ => None,
        };
        let _ = std::fs::remove_dir_all(&scratch_root);
        Ok(Summary {
            seeds_run,
            failures,
            unavailable: tally.unavailable.load(Ordering::Relaxed),
            unknown: tally.unknown.load(Ordering::Relaxed),
            elapsed,
            interrupted,
            shrunk,
        })
    }

    /// Shrink `failure` (unless `shrink_it` is false), then run the smallest failing command
    /// once more into the store, with its report: its command, folder and the runs shrinking
    /// took.
    fn shrink_and_write(
        &self,
        failure: &Failure,
        scratch: &Path,
        shrink_it: bool,
        stop: &AtomicBool,
        quiet: bool,
    ) -> anyhow::Result<(String, PathBuf, usize)> {
        let seed = failure.seed;
        let shape = self.shape(seed);
        let (small, runs) = if shrink_it {
            if !quiet {
                eprintln!("shrinking the failure of seed {seed} ...");
            }
            shrink::shrink(shape, |candidate| {
                if stop.load(Ordering::Relaxed) {
                    return false;
                }
                let Ok(config) = self.config(candidate, seed, Some(scratch)) else {
                    return false;
                };
                match run_caught(config) {
                    Ok(outcome) => {
                        let _ = std::fs::remove_dir_all(&outcome.dir);
                        classify(&outcome) == Verdict::Failed && outcome.exit_code != 3
                    }
                    Err(_) => false,
                }
            })
        } else {
            (shape, 0)
        };
        let mut config = self.config(&small, seed, None)?;
        config.quiet = true;
        let outcome = run_caught(config)?;
        Ok((shell_words(&self.command(&small, seed)), outcome.dir, runs))
    }
}

/// What a run says, for exploration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Valid,
    /// Invalid only by Jepsen's stats rule (an operation type that never succeeded): the
    /// cluster was unavailable under its faults, which no safety property forbids. Counted,
    /// not a failure: a correct node may be unavailable under a partition (CAP).
    Unavailable,
    /// A checker could not decide (out of its budget).
    Unknown,
    /// A promise broken (a checker, an error-level node problem, `--availability`), or the run
    /// could not run: a failure.
    Failed,
}

/// The verdict of a finished run.
pub fn classify(outcome: &RunOutcome) -> Verdict {
    match outcome.exit_code {
        0 => Verdict::Valid,
        2 => Verdict::Unknown,
        1 => {
            let r = &outcome.results;
            let broken = |key: &str| r[key]["valid"] == serde_json::Value::Bool(false);
            let problem = r["problems"]
                .as_array()
                .is_some_and(|ps| ps.iter().any(|p| p["error"] == true));
            if broken("workload") || broken("ordering") || broken("availability") || problem {
                Verdict::Failed
            } else if broken("stats") {
                Verdict::Unavailable
            } else {
                Verdict::Failed
            }
        }
        _ => Verdict::Failed,
    }
}

/// Run a test; a panic of the harness is an error naming it, not the end of the exploration.
fn run_caught(config: TestConfig) -> anyhow::Result<RunOutcome> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_test(config))) {
        Ok(result) => result,
        Err(panic) => bail!(
            "the harness panicked: {}",
            crate::run::panic_text(panic.as_ref())
        ),
    }
}

fn headline(outcome: &RunOutcome) -> String {
    outcome.results["headline"]
        .as_str()
        .map(str::to_owned)
        .or_else(|| {
            outcome.results["run"]["aborted"]
                .as_str()
                .map(|a| format!("could not run: {a}"))
        })
        .unwrap_or_else(|| format!("{}", outcome.valid))
}

/// `flags` without those exploration sets for each run: the shape's ([`SHAPE_FLAGS`]), the
/// seed and the other per-run flags, and `harness explore`'s own.
pub(crate) fn base_flags(flags: &[String]) -> Vec<String> {
    let shape: Vec<(&str, bool)> = SHAPE_FLAGS.iter().map(|f| (*f, true)).collect();
    let all: Vec<(&str, bool)> = EXPLORE_ONLY
        .iter()
        .chain(&PER_RUN)
        .copied()
        .chain(shape)
        .collect();
    strip(flags, &all)
}

/// `flags` without the flags in `out` (name, and whether it takes a value), values included.
fn strip(flags: &[String], out: &[(&str, bool)]) -> Vec<String> {
    let takes_value = |word: &str| -> Option<bool> {
        let name = word.split('=').next().unwrap_or(word);
        out.iter()
            .find(|(flag, _)| *flag == name)
            .map(|(_, value)| *value && !word.contains('='))
    };
    let mut base = Vec::new();
    let mut skip = false;
    for word in flags {
        if std::mem::take(&mut skip) {
            continue;
        }
        match takes_value(word) {
            Some(value) => skip = value,
            None => base.push(word.clone()),
        }
    }
    base
}

/// Parse `harness test` words (from `harness test` on) and the node's arguments.
pub(crate) fn parse_test_args(words: &[String], node_args: &[String]) -> anyhow::Result<TestArgs> {
    let mut all = words.to_vec();
    if !node_args.is_empty() {
        all.push("--".to_owned());
        all.extend(node_args.iter().cloned());
    }
    crate::config::parse_test_command(&all)
}

/// Words as one shell command.
fn shell_words(words: &[String]) -> String {
    words
        .iter()
        .map(|w| crate::config::shell_quote(w))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `harness explore`: parse, explore, print. Exit code: 0 no failure, 1 a failure, 3 error.
pub fn run(args: &ExploreArgs, words: &[String]) -> anyhow::Result<u8> {
    let explorer = Explorer::from_words(words, !args.no_swarm)?;
    let shard: Shard = match &args.shard {
        Some(s) => s.parse().map_err(anyhow::Error::msg)?,
        None => Shard { index: 0, count: 1 },
    };
    if args
        .max_time
        .is_some_and(|t| !t.is_finite() || t <= 0.0 || t > 1e7)
    {
        bail!("--max-time must be a positive number of seconds");
    }
    if args.seeds == Some(0) {
        bail!("--seeds must be positive");
    }
    let jobs = args.jobs.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    if jobs == 0 {
        bail!("--jobs must be positive");
    }
    let stop = Arc::new(AtomicBool::new(false));
    let mut handlers = Vec::new();
    for signal in [
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
    ] {
        handlers.push(signal_hook::flag::register(signal, stop.clone())?);
    }
    let first = args.test.seed.unwrap_or(0);
    let node = explorer.program_name();
    println!(
        "harness explore -w {} --node {node}: {} from seed {first}{}, {jobs} at a time{}",
        args.test.workload,
        match args.seeds {
            Some(n) => format!("{n} seeds"),
            None => "seeds until interrupted".to_owned(),
        },
        if shard.count > 1 {
            format!(
                " (shard {}/{}: every {}th seed from {})",
                shard.index,
                shard.count,
                shard.count,
                shard.seed(first, 0)
            )
        } else {
            String::new()
        },
        if args.no_swarm {
            ""
        } else {
            ", each seed drawing its own shape (swarm)"
        }
    );
    let summary = explorer.explore(
        first,
        shard,
        args.seeds,
        jobs,
        args.keep_going,
        !args.no_shrink,
        &stop,
        false,
        args.max_time.map(Duration::from_secs_f64),
    );
    for id in handlers {
        signal_hook::low_level::unregister(id);
    }
    let summary = summary?;
    print_summary(&summary);
    Ok(if summary.failures.is_empty() {
        if summary.interrupted { 3 } else { 0 }
    } else {
        1
    })
}

impl Explorer {
    /// The simulated node's name.
    pub fn program_name(&self) -> String {
        match &self.program {
            Some(p) => p.name.clone(),
            None => self
                .base
                .iter()
                .position(|w| w == "--node" || w == "-n")
                .and_then(|i| self.base.get(i + 1).cloned())
                .or_else(|| {
                    self.base
                        .iter()
                        .find_map(|w| w.strip_prefix("--node=").map(str::to_owned))
                })
                .unwrap_or_default(),
        }
    }
}

/// Print what an exploration found.
pub fn print_summary(summary: &Summary) {
    let secs = summary.elapsed.as_secs_f64();
    println!(
        "{} seeds in {secs:.1} s ({:.1} per second){}: {}",
        summary.seeds_run,
        summary.seeds_run as f64 / secs.max(1e-9),
        if summary.interrupted {
            ", interrupted"
        } else {
            ""
        },
        match summary.failures.len() {
            0 => "no failure".to_owned(),
            1 => "1 failure".to_owned(),
            n => format!("{n} failures"),
        }
    );
    if summary.unavailable > 0 {
        println!(
            "  {} run(s) judged invalid only by the stats rule (an operation type never \
             succeeded: the cluster was unavailable under its faults, which breaks no safety \
             property): not counted as failures",
            summary.unavailable
        );
    }
    if summary.unknown > 0 {
        println!(
            "  {} run(s) a checker could not decide (out of its budget): not counted as \
             failures",
            summary.unknown
        );
    }
    for failure in &summary.failures {
        println!(
            "seed {} (seed number {} of this exploration) fails: {}",
            failure.seed,
            failure.index + 1,
            failure.headline
        );
        println!("  replay: {}", failure.command);
    }
    if let Some((command, dir, runs)) = &summary.shrunk {
        println!("shrunk in {runs} runs; the smallest failing command:");
        println!("  {command}");
        println!("  report: {}", dir.join("report.html").display());
    }
}
