//! `bench-runner`: what the harness itself costs.
//!
//! Runs the real `harness` binary on the Gossip Glomers broadcast setup (25 nodes,
//! `--rate 100 --latency 100 --time-limit 20`, the default 10 s recovery) several times and
//! prints, per run and as median / min / max:
//!
//! - the harness's CPU time (user + system, from `results.json`, measured by the harness with
//!   `getrusage` on itself, so the node processes are not counted) divided by the messages it
//!   routed (every send it journalled: client and server traffic);
//! - the wall time of the whole run (start of the process to its exit: spawning 25 nodes,
//!   init, the workload, recovery, final reads, stopping, checking, writing the files) against
//!   the ideal, time limit + recovery;
//! - what the machine charges for waking up: the harness blocks in its event loop whenever no
//!   work is ready (`sleeps_run` in `results.json`), and on a virtual machine a sleep and
//!   wake-up can cost far more CPU than the work of a message. After the runs, this program
//!   does nothing but sleep and wake at the harness's own median rate, writing one line to one
//!   of 25 `cat` processes each time (so a reader is woken too, as a node is), and prints its
//!   CPU per wake-up. Times the harness's sleeps per message, that is the share of its CPU per
//!   message that no code of the router can remove, short of waking less often. The same loop
//!   run without sleeping gives the cost of the write alone.
//!
//! Usage: `cargo run --release -p bench --bin bench-runner [-- --runs N] [-- --bin NAME]`
//! (node binary name in the release folder, default `broadcast-eager`, whose traffic is
//! heaviest).

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

fn release_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("own path");
    exe.parent().expect("release folder").to_path_buf()
}

struct Sample {
    wall_s: f64,
    cpu_s: f64,
    messages: u64,
    /// Times the harness blocked during the run.
    sleeps: u64,
    valid: String,
}

/// This process's CPU time (user + system) so far, in seconds.
fn own_cpu_s() -> f64 {
    use nix::sys::resource::{UsageWho, getrusage};
    getrusage(UsageWho::RUSAGE_SELF).map_or(0.0, |u| {
        let secs = |t: nix::sys::time::TimeVal| t.tv_sec() as f64 + t.tv_usec() as f64 / 1e6;
        secs(u.user_time()) + secs(u.system_time())
    })
}

/// CPU per wake-up of a loop that sleeps until its next deadline `per_second` times a second
/// for `seconds`, and at each wake-up writes one 150-byte line into the pipe of one of 25 `cat`
/// processes in turn (their output discarded). Returns microseconds.
fn wakeup_floor_us(per_second: f64, seconds: f64) -> std::io::Result<f64> {
    use std::io::Write;
    use std::process::Stdio;
    use std::time::Duration;
    let mut readers = (0..25)
        .map(|_| {
            Command::new("cat")
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .spawn()
        })
        .collect::<std::io::Result<Vec<_>>>()?;
    let line = format!("{}\n", "x".repeat(149));
    let wakeups = (per_second * seconds).max(1.0) as u64;
    let period = Duration::from_secs_f64(1.0 / per_second.max(1.0));
    let before = own_cpu_s();
    let start = Instant::now();
    for i in 0..wakeups {
        let due = start + period * i as u32;
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        }
        let reader = &mut readers[i as usize % 25];
        if let Some(stdin) = reader.stdin.as_mut() {
            stdin.write_all(line.as_bytes())?;
        }
    }
    let used = own_cpu_s() - before;
    for mut reader in readers {
        drop(reader.stdin.take());
        let _ = reader.wait();
    }
    Ok(used * 1e6 / wakeups as f64)
}

fn median(mut xs: Vec<f64>) -> (f64, f64, f64) {
    xs.sort_by(f64::total_cmp);
    (xs[xs.len() / 2], xs[0], xs[xs.len() - 1])
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut runs = 3usize;
    let mut node = "broadcast-eager".to_owned();
    let mut i = 0;
    while i < args.len() {
        match (args[i].as_str(), args.get(i + 1)) {
            ("--runs", Some(n)) => runs = n.parse().expect("--runs takes a number"),
            ("--bin", Some(b)) => node = b.clone(),
            (other, _) => {
                eprintln!(
                    "unknown argument {other:?}; usage: bench-runner [--runs N] [--bin NAME]"
                );
                std::process::exit(2);
            }
        }
        i += 2;
    }
    let dir = release_dir();
    let harness = dir.join("harness");
    let bin = dir.join(&node);
    for path in [&harness, &bin] {
        if !path.exists() {
            eprintln!(
                "{} is missing: run `cargo build --release --workspace --bins`",
                path.display()
            );
            std::process::exit(2);
        }
    }
    let (time_limit, recovery) = (20.0, 10.0);
    let ideal = time_limit + recovery;
    let store = std::env::temp_dir().join(format!("bench-runner-{}", std::process::id()));
    println!(
        "harness test -w broadcast --bin {node} --node-count 25 --rate 100 --latency 100 \
         --time-limit {time_limit} (recovery {recovery} s), {runs} runs"
    );
    println!(
        "{:>4} {:>10} {:>10} {:>12} {:>10} {:>14} {:>10} {:>12}  valid",
        "run", "wall s", "over s", "messages", "cpu s", "cpu us/msg", "sleeps", "sleeps/msg"
    );
    let mut samples = Vec::new();
    for run in 1..=runs {
        let start = Instant::now();
        let status = Command::new(&harness)
            .args(["test", "-w", "broadcast", "--bin"])
            .arg(&bin)
            .args([
                "--node-count",
                "25",
                "--rate",
                "100",
                "--latency",
                "100",
                "--time-limit",
                "20",
                "--no-progress",
                "--store",
            ])
            .arg(&store)
            .stdout(std::process::Stdio::null())
            .status()
            .expect("running harness");
        let wall_s = start.elapsed().as_secs_f64();
        let results: serde_json::Value = std::fs::read_to_string(store.join("latest/results.json"))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_else(|| panic!("run {run}: no results.json (exit {status})"));
        let cpu_s = results["run"]["wall_clock"]["cpu_run_user_s"]
            .as_f64()
            .unwrap_or(0.0)
            + results["run"]["wall_clock"]["cpu_run_system_s"]
                .as_f64()
                .unwrap_or(0.0);
        let messages = results["net"]["all"]["send_count"].as_u64().unwrap_or(0);
        let sample = Sample {
            wall_s,
            cpu_s,
            messages,
            sleeps: results["run"]["wall_clock"]["sleeps_run"]
                .as_u64()
                .unwrap_or(0),
            valid: results["valid"].to_string(),
        };
        println!(
            "{run:>4} {:>10.2} {:>10.2} {:>12} {:>10.2} {:>14.2} {:>10} {:>12.3}  {}",
            sample.wall_s,
            sample.wall_s - ideal,
            sample.messages,
            sample.cpu_s,
            sample.cpu_s * 1e6 / sample.messages.max(1) as f64,
            sample.sleeps,
            sample.sleeps as f64 / sample.messages.max(1) as f64,
            sample.valid
        );
        samples.push(sample);
    }
    let _ = std::fs::remove_dir_all(&store);
    let (w, wmin, wmax) = median(samples.iter().map(|s| s.wall_s - ideal).collect());
    let (c, cmin, cmax) = median(
        samples
            .iter()
            .map(|s| s.cpu_s * 1e6 / s.messages.max(1) as f64)
            .collect(),
    );
    println!(
        "wall time over the ideal ({ideal:.0} s): median {w:.2} s (min {wmin:.2}, max {wmax:.2}); target at most 1 s"
    );
    println!(
        "harness CPU per routed message: median {c:.2} us (min {cmin:.2}, max {cmax:.2}); target under 5 us"
    );
    let (rate, _, _) = median(samples.iter().map(|s| s.sleeps as f64 / ideal).collect());
    let (per_msg, _, _) = median(
        samples
            .iter()
            .map(|s| s.sleeps as f64 / s.messages.max(1) as f64)
            .collect(),
    );
    match wakeup_floor_us(rate, 10.0) {
        Ok(floor) => {
            println!(
                "machine's cost of a wake-up: {floor:.1} us of CPU per sleep, wake and one pipe \
                 write, at the harness's median {rate:.0} sleeps/s"
            );
            println!(
                "that cost per routed message: {:.2} us ({per_msg:.3} sleeps per message), \
                 {:.0}% of the harness's median CPU per message",
                floor * per_msg,
                100.0 * floor * per_msg / c.max(f64::MIN_POSITIVE)
            );
        }
        Err(err) => println!("machine's cost of a wake-up: not measured ({err})"),
    }
    // The same loop with deadlines always past: it never sleeps, so what is left is the write
    // and the reader's wake-up.
    if let Ok(busy) = wakeup_floor_us(1e6, 2.0) {
        println!(
            "the same loop never sleeping: {busy:.1} us of CPU per pipe write (2,000,000 writes)"
        );
    }
}
