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

use crate::config::{SimProgram, TestArgs, TestConfig};
use crate::explore::{Explorer, Shard, Summary, parse_test_args};
use crate::results::RunOutcome;

/// `harness test --sim -w WORKLOAD`: the words every simulation starts with.
const FIXED: usize = 5;

/// True unless `flag` is a `harness test` flag that takes no value (`--log-stderr`).
fn takes_value(flag: &str) -> bool {
    use clap::Args;
    let command = TestArgs::augment_args(clap::Command::new("harness test"));
    let found = command
        .get_arguments()
        .find(|arg| match flag.strip_prefix("--") {
            Some(long) => arg.get_long() == Some(long),
            None => flag.len() == 2 && arg.get_short() == flag.chars().nth(1),
        });
    found.is_none_or(|arg| arg.get_action().takes_values())
}

/// Split a command into words as a POSIX shell does for the quoting `harness` prints
/// (`'...'`, and `\'` between quoted parts).
fn shell_split(command: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = command.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => words.extend(word.take()),
            '\'' => {
                let word = word.get_or_insert_default();
                word.extend(chars.by_ref().take_while(|&c| c != '\''));
            }
            '\\' => word.get_or_insert_default().extend(chars.next()),
            c => word.get_or_insert_default().push(c),
        }
    }
    words.extend(word);
    words
}

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

    /// Any `harness test` flag with its value (`flag("--ordering", "fifo")`); a flag that
    /// takes none is on with `true` (`flag("--log-stderr", true)`) and off with
    /// `false`. A flag given again replaces its earlier value.
    pub fn flag(mut self, name: &str, value: impl ToString) -> Simulation {
        self.unset(name);
        let value = value.to_string();
        if takes_value(name) {
            self.words.push(name.to_owned());
            self.words.push(value);
        } else if value != "false" {
            self.words.push(name.to_owned());
        }
        self
    }

    /// Forget the flag `name` (and its value) if it was given.
    fn unset(&mut self, name: &str) {
        let mut kept = self.words[..FIXED].to_vec();
        let mut rest = self.words[FIXED..].iter();
        while let Some(word) = rest.next() {
            if word == name {
                if takes_value(name) {
                    rest.next();
                }
            } else if !word.strip_prefix(name).is_some_and(|v| v.starts_with('=')) {
                kept.push(word.clone());
            }
        }
        self.words = kept;
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

    /// Clients: `"3"`, or `"2n"` for two per node.
    pub fn concurrency(self, clients: &str) -> Simulation {
        self.flag("--concurrency", clients)
    }

    /// Seconds to wait after healing every fault, before the final reads.
    pub fn recovery_time(self, seconds: f64) -> Simulation {
        self.flag("--recovery-time", seconds)
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
    /// this node: the run it names, again. Its flags replace those given before (a store,
    /// a seed, a shape); words quoted as a shell quotes them are unquoted.
    pub fn replay(mut self, command: &str) -> Simulation {
        let words = shell_split(command);
        let mut words = words.iter();
        while let Some(word) = words.next() {
            match word.as_str() {
                "harness" | "test" | "--sim" => {}
                "--node" | "-n" | "-w" | "--workload" => {
                    words.next();
                }
                flag if flag.starts_with('-') && !flag.contains('=') && takes_value(flag) => {
                    let value = words.next().cloned().unwrap_or_default();
                    self = self.flag(flag, value);
                }
                flag if flag.starts_with('-') => {
                    let name = flag.split('=').next().unwrap_or(flag);
                    self.unset(name);
                    self.words.push(flag.to_owned());
                }
                word => self.words.push(word.to_owned()),
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
        let args = parse_test_args(&self.words, &[])?;
        if args.check_determinism || args.test_count != 1 {
            anyhow::bail!(
                "Simulation::run makes one run: for --check-determinism run the seed twice \
                 and compare the runs' files; for --test-count use Simulation::explore"
            );
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::shell_quote;

    fn echo() -> Simulation {
        Simulation::new("echo").node("echo", nodes::echo::Echo::default)
    }

    #[test]
    fn a_flag_given_again_replaces_its_value() {
        let sim = echo().seed(1).store("a").seed(2).time_limit(3.0).store("b");
        let config = sim.config().unwrap();
        assert_eq!((config.seed, config.store.as_path()), (2, Path::new("b")));
        let on = echo().flag("--log-stderr", true).seed(4);
        assert_eq!(on.words[FIXED..], ["--log-stderr", "--seed", "4"]);
        assert!(on.config().unwrap().log_stderr);
        let off = on.flag("--log-stderr", false);
        assert_eq!(off.words[FIXED..], ["--seed", "4"]);
    }

    #[test]
    fn replay_replaces_the_flags_given_before_and_unquotes() {
        let store = "runs/with space/it's";
        let command = format!(
            "harness test --sim -w echo --store {} --node-count 2 --check-determinism \
             --rate=7 --seed 9",
            shell_quote(store)
        );
        let sim = echo()
            .store("elsewhere")
            .seed(1)
            .rate(1.0)
            .nemesis("kill")
            .replay(&command);
        let config = sim.config().unwrap();
        assert_eq!(config.store, Path::new(store));
        assert_eq!(config.seed, 9);
        assert_eq!(config.node_ids.len(), 2);
        assert_eq!(config.rate, 7.0);
        assert_eq!(
            config.faults.len(),
            1,
            "flags the command does not name stay"
        );
        // The command the replayed run prints is the command replayed.
        assert_eq!(config.reproduce().replace("--nemesis kill ", ""), command);
    }

    #[test]
    fn shell_split_undoes_shell_quote() {
        let words = ["a", "b c", "it's", "", "x'y'z", "--store=/t/p q"];
        let line: Vec<String> = words.iter().map(|w| shell_quote(w)).collect();
        assert_eq!(shell_split(&line.join(" ")), words);
        assert!(!takes_value("--check-determinism"));
        assert!(takes_value("--seed") && takes_value("-w"));
    }

    #[test]
    fn run_refuses_the_flags_of_several_runs_rather_than_ignore_them() {
        for sim in [
            echo().flag("--check-determinism", true),
            echo().flag("--test-count", 3),
        ] {
            let err = sim.run().unwrap_err().to_string();
            assert!(err.contains("Simulation::run makes one run"), "{err}");
        }
    }
}
