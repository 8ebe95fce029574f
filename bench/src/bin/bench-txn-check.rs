//! `bench-txn-check`: the whole `harness check` command on generated txn-list-append histories
//! of 100k and 1M transactions in JSON lines, as a user runs it: reading the file, the
//! isolation checker, the op statistics and the summary. Median wall time of `--runs` runs
//! (5) and the peak resident memory of the largest run (getrusage of the children).
//!
//! The histories are `checker::synth::txn` (seed 42), strict serializable by construction,
//! written once to `target/bench-txn/` (not timed). Usage: `bench-txn-check [--runs N]
//! [--harness PATH] [TXNS...]` (default: target/release/harness, 100000 1000000).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use checker::synth::txn::{TxnShape, txn_events};
use nix::sys::resource::{UsageWho, getrusage};

/// Write the history of `txns` transactions to `path`, one event per line.
fn write_history(path: &Path, txns: usize) -> std::io::Result<()> {
    let file = std::fs::File::create(path)?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    let mut result = Ok(());
    txn_events(42, TxnShape::list_append(txns), |e| {
        if result.is_ok() {
            result = serde_json::to_writer(&mut out, &e)
                .map_err(std::io::Error::other)
                .and_then(|()| out.write_all(b"\n"));
        }
    });
    result?;
    out.flush()
}

fn main() {
    let mut runs = 5usize;
    let mut harness = PathBuf::from("target/release/harness");
    let mut sizes: Vec<usize> = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--runs" => {
                runs = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(runs)
                    .max(1)
            }
            "--harness" => harness = args.next().map(PathBuf::from).unwrap_or(harness),
            n => match n.parse() {
                Ok(n) => sizes.push(n),
                Err(_) => {
                    eprintln!("bench-txn-check: {n:?} is not a number of transactions");
                    std::process::exit(3);
                }
            },
        }
    }
    if sizes.is_empty() {
        sizes = vec![100_000, 1_000_000];
    }
    let dir = PathBuf::from("target/bench-txn");
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("bench-txn-check: {}: {e}", dir.display());
        std::process::exit(3);
    }
    println!(
        "bench-txn-check: `{} check FILE` on txn-list-append histories, median of {runs} runs",
        harness.display()
    );
    println!(
        "{:>9} {:>9} {:>10} {:>10} {:>10} {:>9}  verdict",
        "txns", "file MiB", "median s", "min s", "max s", "peak MiB"
    );
    let mut failed = false;
    for txns in sizes {
        let path = dir.join(format!("list-append-{txns}.jsonl"));
        if !path.is_file()
            && let Err(e) = write_history(&path, txns)
        {
            eprintln!("bench-txn-check: writing {}: {e}", path.display());
            std::process::exit(3);
        }
        let size = std::fs::metadata(&path).map_or(0, |m| m.len()) as f64 / (1 << 20) as f64;
        let mut times = Vec::new();
        let mut verdict = String::new();
        for _ in 0..runs {
            let start = Instant::now();
            let output = Command::new(&harness)
                .arg("check")
                .arg(&path)
                .stderr(Stdio::inherit())
                .output();
            let elapsed = start.elapsed().as_secs_f64();
            match output {
                Ok(o) => {
                    let text = String::from_utf8_lossy(&o.stdout);
                    verdict = text
                        .lines()
                        .rfind(|l| l.starts_with("valid: "))
                        .unwrap_or("no verdict")
                        .to_owned();
                    failed |= o.status.code() != Some(0);
                }
                Err(e) => {
                    eprintln!("bench-txn-check: running {}: {e}", harness.display());
                    std::process::exit(3);
                }
            }
            times.push(elapsed);
        }
        times.sort_by(f64::total_cmp);
        // ru_maxrss of the children is the largest any of them reached, in KiB on Linux.
        let peak = getrusage(UsageWho::RUSAGE_CHILDREN).map_or(0, |u| u.max_rss()) as f64 / 1024.0;
        println!(
            "{txns:>9} {size:>9.1} {:>10.3} {:>10.3} {:>10.3} {peak:>9.1}  {verdict}",
            times[times.len() / 2],
            times[0],
            times[times.len() - 1]
        );
    }
    if failed {
        std::process::exit(1);
    }
}
