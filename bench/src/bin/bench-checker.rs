//! `bench-checker`: time and peak memory of the checkers on the corpus's largest key-value
//! histories (c50-ok, c50-bad), on generated 100k-op broadcast histories, and of the
//! isolation checker on generated txn-list-append histories of 10k to 1M transactions.
//!
//! Each case runs in a fresh child process (this binary with `--child CASE`), which loads its
//! input, checks it several times and reports the median, minimum and maximum time and its
//! peak resident memory (VmHWM from /proc/self/status) together with the resident memory
//! once the input was loaded, so the checker's own share is visible.
//!
//! Columns: client ops, messages listed by all broadcast reads (the input the broadcast
//! checkers walk), median / min / max milliseconds, resident MiB with the input loaded, and
//! peak resident MiB.
//!
//! Usage: `cargo run --release -p bench --bin bench-checker [-- --runs N] [-- CASE...]`

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use checker::Validity;
use checker::broadcast::BroadcastHistory;
use checker::formats::{Format, read_history};
use checker::history::Event;
use checker::lin::{LinOptions, ModelKind, check_linearizable};
use checker::ordering::{OrderingMode, check_ordering};
use checker::set_full::set_full;
use checker::synth::txn::{TxnShape, txn_events, txn_history};
use checker::synth::{BroadcastShape, broadcast_history};
use checker::txn::{
    TxnHistory, TxnHistoryBuilder, TxnKind, TxnOptions, check_txn, check_txn_history,
};

/// Every case: name and what it measures.
const CASES: [(&str, &str); 15] = [
    (
        "c10-ok",
        "linearizability, porcupine-kv c10-ok (kv model, initial \"\")",
    ),
    ("c10-bad", "linearizability, porcupine-kv c10-bad"),
    ("c50-ok", "linearizability, porcupine-kv c50-ok"),
    ("c50-bad", "linearizability, porcupine-kv c50-bad"),
    (
        "memstress3-100",
        "linearizability, the 100 Knossos memstress3 files in one run (cas-register, initial 0)",
    ),
    (
        "broadcast-100k",
        "set-full + causal ordering, 100k ops (99.8% broadcasts, 5 nodes, 10 clients)",
    ),
    (
        "broadcast-100k-total",
        "set-full + total ordering, same history",
    ),
    (
        "broadcast-10k-mixed",
        "set-full + causal ordering, 10k ops (50% reads, Maelstrom's mix)",
    ),
    (
        "txn-10k",
        "isolation (strict-serializable), txn-list-append, 10k txns held as events",
    ),
    (
        "txn-30k",
        "isolation (strict-serializable), txn-list-append, 30k txns held as events",
    ),
    (
        "txn-100k",
        "isolation (strict-serializable), txn-list-append, 100k txns held as events",
    ),
    (
        "txn-100k-stale",
        "isolation, the 100k history with one ok read in 50 made stale (its last element dropped)",
    ),
    (
        "txn-rw-100k",
        "isolation (strict-serializable), txn-rw-register, 100k txns held as events",
    ),
    (
        "txn-300k-stream",
        "isolation, 300k txns read event by event into a TxnHistory (no events held)",
    ),
    (
        "txn-1m-stream",
        "isolation, 1M txns read event by event into a TxnHistory (no events held)",
    ),
];

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus")
}

fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

enum Input {
    Lin(Vec<Event>),
    Knossos(Vec<Vec<Event>>),
    Broadcast(Vec<Event>, OrderingMode),
    /// A txn history held as events: the check reads them into a TxnHistory, then checks.
    Txn(Vec<Event>),
    /// The same, of registers.
    TxnRw(Vec<Event>),
    /// A txn history streamed into a TxnHistory while loading (how long that took): the
    /// check is of the TxnHistory alone.
    TxnStream(Box<TxnHistory>, Duration),
}

fn load(case: &str) -> Result<Input, String> {
    match case {
        "c10-ok" | "c10-bad" | "c50-ok" | "c50-bad" => {
            let path = corpus().join(format!("porcupine-kv/{case}.txt"));
            if !path.is_file() {
                return Err(format!("{} absent", path.display()));
            }
            let history =
                read_history(&path, Some(Format::PorcupineKv)).map_err(|e| e.to_string())?;
            Ok(Input::Lin(history.events))
        }
        "memstress3-100" => {
            let dir = corpus().join("knossos/cas-register/good");
            let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
                .map_err(|e| format!("{}: {e}", dir.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with("memstress3-"))
                })
                .collect();
            files.sort();
            let histories = files
                .iter()
                .map(|f| {
                    read_history(f, Some(Format::Edn))
                        .map(|h| h.events)
                        .map_err(|e| e.to_string())
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Input::Knossos(histories))
        }
        "broadcast-100k" | "broadcast-100k-total" => {
            let shape = BroadcastShape {
                nodes: 5,
                clients: 10,
                ops: 100_000,
                read_fraction: 0.002,
                catch_up: 40,
            };
            let mode = if case.ends_with("total") {
                OrderingMode::Total
            } else {
                OrderingMode::Causal
            };
            Ok(Input::Broadcast(broadcast_history(42, shape), mode))
        }
        "broadcast-10k-mixed" => {
            let shape = BroadcastShape {
                nodes: 5,
                clients: 10,
                ops: 10_000,
                read_fraction: 0.5,
                catch_up: 4,
            };
            Ok(Input::Broadcast(
                broadcast_history(42, shape),
                OrderingMode::Causal,
            ))
        }
        "txn-10k" | "txn-30k" | "txn-100k" => {
            let n = case
                .trim_start_matches("txn-")
                .trim_end_matches('k')
                .parse::<usize>()
                .unwrap_or(10)
                * 1000;
            Ok(Input::Txn(txn_history(42, TxnShape::list_append(n))))
        }
        "txn-rw-100k" => Ok(Input::TxnRw(txn_history(
            42,
            TxnShape::rw_register(100_000),
        ))),
        "txn-100k-stale" => {
            let mut events = txn_history(42, TxnShape::list_append(100_000));
            let mut oks = 0usize;
            for e in events
                .iter_mut()
                .filter(|e| e.kind == checker::EventType::Ok)
            {
                oks += 1;
                if !oks.is_multiple_of(50) {
                    continue;
                }
                if let Some(mops) = e.value.as_array_mut() {
                    for m in mops {
                        if let Some(list) = m.get_mut(2).and_then(|v| v.as_array_mut()) {
                            list.pop();
                        }
                    }
                }
            }
            Ok(Input::Txn(events))
        }
        "txn-300k-stream" | "txn-1m-stream" => {
            let n = if case == "txn-1m-stream" {
                1_000_000
            } else {
                300_000
            };
            let started = Instant::now();
            let mut builder = TxnHistoryBuilder::new(TxnKind::ListAppend);
            let mut error = None;
            txn_events(42, TxnShape::list_append(n), |e| {
                if error.is_none() {
                    error = builder.push(&e).err();
                }
            });
            if let Some(e) = error {
                return Err(e.to_string());
            }
            Ok(Input::TxnStream(
                Box::new(builder.finish()),
                started.elapsed(),
            ))
        }
        other => Err(format!("unknown case {other}")),
    }
}

/// Check once; the verdict, in words.
fn check(input: &Input) -> String {
    match input {
        Input::Lin(events) => {
            let mut opts = LinOptions::new(ModelKind::Kv);
            opts.initial = Format::PorcupineKv.implied_initial();
            match check_linearizable(events, &opts) {
                Ok(r) => match r.valid {
                    Validity::Valid => "linearizable".to_owned(),
                    Validity::Invalid => "not linearizable".to_owned(),
                    Validity::Unknown => "unknown".to_owned(),
                },
                Err(e) => format!("error: {e}"),
            }
        }
        Input::Knossos(histories) => {
            let mut opts = LinOptions::new(ModelKind::CasRegister);
            opts.initial = Some(checker::Value::from(0));
            opts.nil_read = checker::lin::NilRead::Unknown;
            let mut valid = 0;
            for events in histories {
                if check_linearizable(events, &opts).is_ok_and(|r| r.valid == Validity::Valid) {
                    valid += 1;
                }
            }
            format!("{valid} of {} linearizable", histories.len())
        }
        Input::Broadcast(events, mode) => match BroadcastHistory::new(events) {
            Ok(h) => {
                let sf = set_full(&h, false);
                let order = check_ordering(&h, *mode);
                format!(
                    "set-full {}, {} order {}",
                    sf.valid,
                    mode.name(),
                    order.valid
                )
            }
            Err(e) => format!("error: {e}"),
        },
        Input::Txn(events) => match check_txn(events, &TxnOptions::new(TxnKind::ListAppend)) {
            Ok(r) => txn_verdict(&r),
            Err(e) => format!("error: {e}"),
        },
        Input::TxnRw(events) => match check_txn(events, &TxnOptions::new(TxnKind::RwRegister)) {
            Ok(r) => txn_verdict(&r),
            Err(e) => format!("error: {e}"),
        },
        Input::TxnStream(h, built) => {
            match check_txn_history(h, &TxnOptions::new(TxnKind::ListAppend)) {
                Ok(r) => format!(
                    "{} (generating and reading the events took {:.0} ms more)",
                    txn_verdict(&r),
                    built.as_secs_f64() * 1e3
                ),
                Err(e) => format!("error: {e}"),
            }
        }
    }
}

fn txn_verdict(r: &checker::txn::TxnResult) -> String {
    let found: Vec<String> = r
        .anomaly_types
        .iter()
        .map(|a| format!("{a} {}", r.anomaly_counts.get(a).copied().unwrap_or(0)))
        .collect();
    format!(
        "{}, {} ww {} wr {} rw {} realtime edges, {} cyclic components (largest {}){}{}",
        r.valid,
        r.edge_counts.ww,
        r.edge_counts.wr,
        r.edge_counts.rw,
        r.edge_counts.realtime,
        r.scc_count,
        r.largest_scc,
        if found.is_empty() { "" } else { "; " },
        found.join(", ")
    )
}

fn child(case: &str, runs: usize) -> Result<(), String> {
    let input = load(case)?;
    let invokes = |e: &[Event]| {
        e.iter()
            .filter(|e| e.kind == checker::EventType::Invoke)
            .count()
    };
    let (ops, reads_len) = match &input {
        Input::Lin(e) => (invokes(e), "-".to_owned()),
        Input::Knossos(h) => (h.iter().map(|e| invokes(e)).sum(), "-".to_owned()),
        Input::Txn(e) | Input::TxnRw(e) => (invokes(e), "-".to_owned()),
        Input::TxnStream(h, _) => (h.txns.len(), "-".to_owned()),
        Input::Broadcast(e, _) => (
            invokes(e),
            e.iter()
                .filter(|e| e.f == "read")
                .filter_map(|e| e.value.as_array().map(Vec::len))
                .sum::<usize>()
                .to_string(),
        ),
    };
    let loaded_kb = status_kb("VmRSS:");
    let mut times: Vec<Duration> = Vec::with_capacity(runs);
    let mut verdict = String::new();
    for _ in 0..runs {
        let started = Instant::now();
        verdict = check(&input);
        times.push(started.elapsed());
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "RESULT\t{case}\t{ops}\t{reads_len}\t{:.2}\t{:.2}\t{:.2}\t{}\t{}\t{verdict}",
        ms(times[times.len() / 2]),
        ms(times[0]),
        ms(times[times.len() - 1]),
        loaded_kb,
        status_kb("VmHWM:")
    );
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut runs = 7usize;
    let mut cases: Vec<String> = Vec::new();
    let mut child_case = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--runs" => {
                runs = it
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|&n| n > 0)
                    .unwrap_or(runs)
            }
            "--child" => child_case = it.next().cloned(),
            "--help" | "-h" => {
                println!("bench-checker [--runs N] [CASE...]; cases:");
                for (name, what) in CASES {
                    println!("  {name:22} {what}");
                }
                return;
            }
            other => cases.push(other.to_owned()),
        }
    }
    if let Some(case) = child_case {
        if let Err(e) = child(&case, runs) {
            println!("SKIP\t{case}\t{e}");
        }
        return;
    }
    if cases.is_empty() {
        cases = CASES.iter().map(|(n, _)| n.to_string()).collect();
    }
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            eprintln!("bench-checker: cannot find its own executable: {e}");
            std::process::exit(3);
        }
    };
    println!(
        "bench-checker: median of {runs} runs per case, each case in a fresh process; {} threads",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!(
        "{:22} {:>8} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}  verdict",
        "case", "ops", "delivered", "median ms", "min ms", "max ms", "input MiB", "peak MiB"
    );
    for case in &cases {
        let output = Command::new(&exe)
            .args(["--child", case, "--runs", &runs.to_string()])
            .output();
        let text = match output {
            Ok(o) => String::from_utf8_lossy(&o.stdout).into_owned(),
            Err(e) => format!("SKIP\t{case}\t{e}"),
        };
        let Some(line) = text
            .lines()
            .find(|l| l.starts_with("RESULT") || l.starts_with("SKIP"))
        else {
            println!("{case:22} failed: {}", text.trim());
            continue;
        };
        let f: Vec<&str> = line.split('\t').collect();
        if f[0] == "SKIP" {
            println!("{case:22} skipped: {}", f.get(2).unwrap_or(&""));
            continue;
        }
        let mib = |kb: &str| kb.parse::<f64>().unwrap_or(0.0) / 1024.0;
        println!(
            "{:22} {:>8} {:>10} {:>10} {:>10} {:>10} {:>10.1} {:>10.1}  {}",
            f[1],
            f[2],
            f[3],
            f[4],
            f[5],
            f[6],
            mib(f[7]),
            mib(f[8]),
            f[9]
        );
    }
}
