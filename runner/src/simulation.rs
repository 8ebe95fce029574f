//! Your own Rust node under the simulator, from `cargo test`: a builder in the style of
//! turmoil and madsim, with the harness's workloads, faults, checkers and exploration.
//!
//! ```no_run
//! use runner::simulation::Simulation;
//! # #[derive(Default)] struct MyNode;
//! # impl nodes::Node for MyNode {
//! #     fn on_message(&mut self, _: &mut nodes::Ctx, _: proto::Message) {}
//! # }
//! // One seed: the run's files go to the store, the verdict comes back.
//! let run = Simulation::new("broadcast")
//!     .node("my-node", MyNode::default)
//!     .node_count(5)
//!     .nemesis("partition,kill")
//!     .flag("--ordering", "fifo")
//!     .seed(7)
//!     .run()
//!     .unwrap();
//! assert!(run.valid(), "{}", run.headline());
//!
//! // Many seeds, each with its own shape; the first failure, shrunk.
//! let found = Simulation::new("broadcast")
//!     .node("my-node", MyNode::default)
//!     .flag("--ordering", "fifo")
//!     .explore(500)
//!     .unwrap();
//! assert!(found.failures.is_empty(), "{:?}", found.failures);
//! ```
//!
//! Every setting is a `harness test` flag (the builder's methods are shorthands for
//! [`Simulation::flag`]), so a run here is the run `harness test --sim` makes with those flags:
//! the same network model, nemesis plan, clients and checkers, and the same files in the store
//! (`store/` in the current folder by default: `cargo test` runs in the crate's folder).
//! A failing seed is replayed with [`Simulation::replay`] and the command exploration printed.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use anyhow::Context;

use crate::config::{SimProgram, TestConfig};
use crate::explore::{Explorer, Shard, Summary, parse_test_args};
use crate::results::RunOutcome;

/// A simulated test of a node of yours.
#[derive(Clone)]
pub struct Simulation {
    /// `harness test --sim -w WORKLOAD` and the flags set.
    words: Vec<String>,
    program: Option<SimProgram>,
    verbose: bool,
}

/// One finished run.
#[derive(Debug, Clone)]
pub struct Run {
    pub outcome: RunOutcome,
    /// The flags that reproduce it.
    pub command: String,
}

impl Run {
    /// True when every check passed.
    pub fn valid(&self) -> bool {
        self.outcome.exit_code == 0
    }

    /// The run's verdict in one line (why it failed, for an invalid run).
    pub fn headline(&self) -> String {
        self.outcome.results["headline"]
            .as_str()
            .unwrap_or("valid")
            .to_owned()
    }

    /// The run's folder in the store (history.jsonl, messages.jsonl, results.json).
    pub fn dir(&self) -> &Path {
        &self.outcome.dir
    }
}

impl Simulation {
    /// A test of `workload` (`broadcast`, `lin-kv`, `g-counter`, ...: the names of
    /// `harness test -w`).
    pub fn new(workload: &str) -> Simulation {
        Simulation {
            words: ["harness", "test", "--sim", "-w", workload]
                .map(String::from)
                .to_vec(),
            program: None,
            verbose: false,
        }
    }

    /// The node to run: `make` makes a fresh one at the start and at every restart. `name`
    /// names it in the files and commands.
    pub fn node<N, F>(mut self, name: &str, make: F) -> Simulation
    where
        N: nodes::Node + 'static,
        F: Fn() -> N + Send + Sync + 'static,
    {
        self.program = Some(SimProgram {
            name: name.to_owned(),
            make: Arc::new(move || Box::new(make()) as Box<dyn nodes::Node>),
        });
        self
    }

    /// Any `harness test` flag with its value (`flag("--ordering", "fifo")`).
    pub fn flag(mut self, name: &str, value: impl ToString) -> Simulation {
        self.words.push(name.to_owned());
        self.words.push(value.to_string());
        self
    }

    pub fn node_count(self, n: usize) -> Simulation {
        self.flag("--node-count", n)
    }

    pub fn time_limit(self, seconds: f64) -> Simulation {
        self.flag("--time-limit", seconds)
    }

    pub fn rate(self, ops_per_second: f64) -> Simulation {
        self.flag("--rate", ops_per_second)
    }

    pub fn latency(self, ms: u64) -> Simulation {
        self.flag("--latency", ms)
    }

    /// Faults: a comma list of `partition`, `kill`, `pause`, `loss`, `duplicate`, `wipe`.
    pub fn nemesis(self, faults: &str) -> Simulation {
        self.flag("--nemesis", faults)
    }

    pub fn seed(self, seed: u64) -> Simulation {
        self.flag("--seed", seed)
    }

    /// Where runs go (`store` by default).
    pub fn store(self, dir: impl AsRef<Path>) -> Simulation {
        self.flag("--store", dir.as_ref().display())
    }

    /// Print each run's summary, as `harness test` does.
    pub fn verbose(mut self) -> Simulation {
        self.verbose = true;
        self
    }

    /// The flags of a command exploration printed (`harness test --sim ... --seed S`), for
    /// this node: the run it names, again.
    pub fn replay(mut self, command: &str) -> Simulation {
        let words: Vec<&str> = command.split_whitespace().collect();
        let mut i = 0;
        while i < words.len() {
            match words[i] {
                "harness" | "test" | "--sim" => i += 1,
                "--node" | "-n" | "-w" | "--workload" => i += 2,
                word => {
                    self.words.push(word.to_owned());
                    i += 1;
                }
            }
        }
        self
    }

    fn program(&self) -> anyhow::Result<SimProgram> {
        self.program
            .clone()
            .context("no node: give one with Simulation::node(name, || MyNode::new())")
    }

    fn config(&self) -> anyhow::Result<TestConfig> {
        let args = parse_test_args(&self.words, &[])?;
        let mut config =
            TestConfig::from_args_with(&args, self.words.clone(), Some(self.program()?))?;
        config.quiet = !self.verbose;
        config.progress = false;
        Ok(config)
    }

    /// Run the test once (with the seed given, or one drawn from the clock).
    pub fn run(&self) -> anyhow::Result<Run> {
        let config = self.config()?;
        let command = config.reproduce();
        let outcome = crate::run::run_test(config)?;
        Ok(Run { outcome, command })
    }

    /// Explore `seeds` seeds (from the one given, or 0), each with its own shape, on every
    /// core; stop at the first failure and shrink it. The summary's `failures` is empty when
    /// every seed passed.
    pub fn explore(&self, seeds: u64) -> anyhow::Result<Summary> {
        let args = parse_test_args(&self.words, &[])?;
        let config = self.config()?;
        // The seed and the shape are exploration's to set.
        let mut base = self.words[..2].to_vec();
        base.extend(crate::explore::base_flags(&self.words[2..]));
        let explorer = Explorer::new(
            base,
            Vec::new(),
            &args,
            config.node_ids.len(),
            Some(self.program()?),
            true,
        )?;
        let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
        explorer.explore(
            args.seed.unwrap_or(0),
            Shard { index: 0, count: 1 },
            Some(seeds),
            jobs,
            false,
            true,
            &AtomicBool::new(false),
            !self.verbose,
            None,
        )
    }
}
