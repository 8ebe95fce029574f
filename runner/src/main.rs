//! `harness`: run Maelstrom node programs under a simulated network and check what happened.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use runner::check_cmd::CheckArgs;
use runner::config::{TestArgs, TestConfig};

/// A Jepsen-style correctness harness for nodes that speak the Maelstrom protocol.
#[derive(Parser, Debug)]
#[command(name = "harness", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a node program as a cluster under a workload and faults, then check the history.
    Test(Box<TestArgs>),
    /// Check a recorded history: a harness history.jsonl, Jepsen/Knossos EDN, or Porcupine's
    /// key-value logs.
    Check(CheckArgs),
    /// Run several node programs under the same seed and conditions and compare them: the
    /// broadcast algorithms (cost, latency, ordering) or the key-value stores (`--preset lin-kv`).
    Compare(runner::compare::CompareArgs),
    /// Run many seeds of a simulated test (`--node NAME`, the flags of `test`), each with its
    /// own shape, until one fails; print the command that replays it, shrunk.
    Explore(Box<runner::explore::ExploreArgs>),
    /// Regenerate a run's report.html from its files.
    Report(runner::report::ReportArgs),
    /// Serve runs on this host for `harness test --hosts`: start this host's nodes and carry
    /// their messages to the other hosts' agents (authenticated and encrypted with a shared
    /// key).
    Agent(runner::remote::agent::AgentArgs),
}

fn main() -> ExitCode {
    // Started as a node's trampoline: become the node program.
    if let Some(code) = runner::lifetime::exec_node_if_asked() {
        return code;
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            use clap::error::ErrorKind;
            if matches!(
                err.kind(),
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
            ) || matches!(
                err.kind(),
                ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                let _ = err.print();
                return ExitCode::SUCCESS;
            }
            eprintln!("harness: {}", one_line(&err.to_string()));
            return ExitCode::from(3);
        }
    };
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .try_init();
    // Node processes die with the harness, however it dies.
    runner::lifetime::enable();
    let result = match cli.command {
        Command::Test(args) => {
            TestConfig::from_args(&args, std::env::args().collect()).and_then(|config| {
                if args.check_determinism {
                    runner::determinism::check(config)
                } else {
                    runner::run::run_tests(config, args.test_count)
                }
            })
        }
        Command::Explore(args) => {
            let words: Vec<String> = std::env::args().skip(2).collect();
            runner::explore::run(&args, &words)
        }
        Command::Check(args) => runner::check_cmd::run(&args),
        Command::Compare(args) => runner::compare::run(&args),
        Command::Report(args) => runner::report::run(&args),
        Command::Agent(args) => runner::remote::agent::run(&args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("harness: {}", one_line(&format!("{err:#}")));
            ExitCode::from(3)
        }
    }
}

/// The first line of clap's message, without its "error: " prefix.
fn one_line(message: &str) -> String {
    let first = message
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or(message);
    first.trim_start_matches("error: ").trim().to_owned()
}
