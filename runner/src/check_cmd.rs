//! `harness check`: check a recorded history from the command line.
//!
//! The history is this project's `history.jsonl`, a Jepsen/Knossos EDN file (Elle's own
//! histories of transactions too) or a Porcupine key-value log (`--format`, detected when
//! absent). With `--workload` (or when the ops show one: broadcasts, generates, echoes, adds,
//! transactions) it runs that workload's checkers as `harness
//! test` does; otherwise it checks linearizability against `--model` (detected from the ops
//! when absent). It prints the semantics it used, the verdict and its explanation, and exits
//! 0 valid, 1 invalid, 2 unknown.
//!
//! FILE may be a run's folder (its `history.jsonl` is checked). The history of a run that did
//! not finish (its folder holds `INCOMPLETE`, see [`crate::store`], or its `results.json` says
//! the run was stopped early) is checked as far as it goes, but its verdict is unknown: the
//! ops it lacks could have changed any verdict.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use checker::formats::{Format, read_history};
use checker::lin::{LinOptions, ModelKind, NilRead, check_linearizable};
use checker::ordering::OrderingMode;
use checker::stats::NetStats;
use checker::{Check, Event, RunCheckOptions, Validity, read_journal_file};
use workloads::WorkloadKind;

use crate::named_arg::named;

/// `harness check FILE [--model M] [--format F] [--initial JSON] [--nil-read N] ...`
#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// The history: a history.jsonl (or the folder of a run), a Jepsen/Knossos EDN file or a
    /// Porcupine key-value log.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Check linearizability against this model [default: detected from the ops].
    #[arg(long, value_parser = named::<ModelKind>())]
    pub model: Option<ModelKind>,
    /// The file's format [default: detected from its first lines].
    #[arg(long, value_parser = named::<Format>())]
    pub format: Option<Format>,
    /// The initial value, as JSON: of the register, of every key (kv), of every register or
    /// of each named one (multi-register, an object), `true` for a mutex that starts held
    /// [default: absent; porcupine-kv: ""].
    #[arg(long, value_name = "JSON")]
    pub initial: Option<String>,
    /// What a read of null means.
    #[arg(long, value_parser = named::<NilRead>(), default_value_t = NilRead::Absent)]
    pub nil_read: NilRead,
    /// Run this workload's checkers, as `harness test` does [default: detected from the ops].
    #[arg(long, value_parser = named::<WorkloadKind>())]
    pub workload: Option<WorkloadKind>,
    /// With the broadcast workload, also check the delivery order.
    #[arg(long, value_parser = named::<OrderingMode>())]
    pub ordering: Option<OrderingMode>,
    /// With a transactional workload: the consistency models the history must meet,
    /// separated by commas (Elle's names) [default: strict-serializable].
    #[arg(long, value_name = "MODELS")]
    pub consistency_models: Option<String>,
    /// With the failure-detector workload: how long after a kill, in ms, every other node must
    /// suspect the killed node [default: 5000, as `harness test`].
    #[arg(long, value_name = "MS")]
    pub detection_bound_ms: Option<u64>,
    /// Give up with verdict unknown after this many seconds of linearizability search.
    #[arg(long, value_name = "SECONDS", default_value_t = 60.0)]
    pub time_limit: f64,
    /// Give up with verdict unknown past this much search memory [default: 4096, as
    /// `harness test`].
    #[arg(long, value_name = "MIB")]
    pub memory_limit: Option<u64>,
    /// The run's messages.jsonl, for network statistics with --workload [default:
    /// messages.jsonl beside FILE, when there is one].
    #[arg(long, value_name = "FILE")]
    pub messages: Option<PathBuf>,
    /// Print the result as JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

impl CheckArgs {
    /// The time budget and the memory budget in bytes, or why the flags are wrong.
    fn budget(&self) -> anyhow::Result<(Duration, Option<u64>)> {
        match Duration::try_from_secs_f64(self.time_limit) {
            Ok(t) if !t.is_zero() => Ok((
                t,
                Some(
                    self.memory_limit
                        .map_or(crate::results::LIN_MEMORY_BUDGET, |m| {
                            m.saturating_mul(1 << 20)
                        }),
                ),
            )),
            _ => bail!(
                "--time-limit must be a positive number of seconds, not {}",
                self.time_limit
            ),
        }
    }
}

/// Check the history, print the semantics, verdict and explanation on stdout, and return
/// the exit code: 0 valid, 1 invalid, 2 unknown. Errors reading the input (file, line,
/// reason) or bad flags are `Err`.
pub fn run(args: &CheckArgs) -> anyhow::Result<u8> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    run_to(args, &mut out)
}

/// [`run`], printing to `out`.
pub fn run_to(args: &CheckArgs, out: &mut dyn Write) -> anyhow::Result<u8> {
    args.budget()?;
    let format = args.format;
    let (file, folder) = if args.file.is_dir() {
        (args.file.join("history.jsonl"), args.file.clone())
    } else {
        let folder = args.file.parent().map(Path::to_owned).unwrap_or_default();
        (args.file.clone(), folder)
    };
    let incomplete = crate::store::incomplete(&folder).or_else(|| stopped_early(&folder));
    if args.file.is_dir() && !file.is_file() {
        match &incomplete {
            Some(why) => {
                writeln!(out, "{why}: it has no history.jsonl yet")?;
                writeln!(out, "valid: unknown")?;
                return Ok(Validity::Unknown.exit_code());
            }
            None => bail!(
                "{}: not a run folder: it holds no history.jsonl",
                args.file.display()
            ),
        }
    }
    // A long transactional history is checked as it is read (the same results, a fraction
    // of the memory); any other history is read whole.
    let streamed = match format {
        None | Some(Format::Jsonl) if args.model.is_none() && args.ordering.is_none() => {
            crate::check_txn_stream::read(&file, args.workload)
        }
        _ => None,
    };
    let (history, precomputed) = match streamed {
        Some(s) => (s.file, Some((s.workload, s.txns))),
        None => (read_history(&file, format)?, None),
    };
    let (format, events) = (history.format, &history.events);
    // Only this harness's histories come from runs.
    let incomplete = incomplete.filter(|_| format == Format::Jsonl);
    // What is said before the checks: lines of text, or fields of the JSON (`--json` prints
    // one JSON document and nothing else).
    let mut warnings: Vec<String> = Vec::new();
    if let Some(cut) = &history.cut {
        warnings.push(format!("{}: {cut}", file.display()));
    }
    if events.is_empty() {
        warnings.push(
            "the history holds no events: it proves nothing, so the verdict is unknown".to_owned(),
        );
    }
    let linearizable = |w: WorkloadKind| w.check_plan() == Check::LinearizableKv;
    let workload = match (args.workload, args.model) {
        (Some(w), Some(_)) if !linearizable(w) => {
            bail!(
                "--model applies to linearizability checks, not to the {} workload",
                w.name()
            )
        }
        (Some(w), _) => Some(w),
        (None, _) if precomputed.is_some() => precomputed.as_ref().map(|(w, _)| *w),
        (None, Some(_)) => None,
        (None, None) if format == Format::Jsonl => WorkloadKind::detect(events),
        // Jepsen's EDN histories are linearizability's unless they are Elle's transactions.
        (None, None) if format == Format::Edn => WorkloadKind::detect(events)
            .filter(|w| matches!(w, WorkloadKind::TxnListAppend | WorkloadKind::TxnRwRegister)),
        (None, None) => None,
    };
    if args.ordering.is_some() && !workload.is_some_and(WorkloadKind::orders) {
        bail!(WorkloadKind::ordering_applies());
    }
    let transactional = workload.is_some_and(|w| matches!(w.check_plan(), Check::Txn(_)));
    if args.consistency_models.is_some() && !transactional {
        warnings.push(
            "--consistency-models applies to the transactional workloads (txn-list-append, \
             txn-rw-register) only: ignored"
                .to_owned(),
        );
    }
    if args.detection_bound_ms.is_some() && workload != Some(WorkloadKind::FailureDetector) {
        warnings.push(
            "--detection-bound-ms applies to the failure-detector workload only: ignored"
                .to_owned(),
        );
    }
    let mut checked = match workload {
        Some(w) if !linearizable(w) => check_workload(
            args,
            &file,
            w,
            events,
            precomputed.as_ref().map(|(_, txns)| txns),
            &mut warnings,
        )?,
        _ => check_lin(args, &file, format, workload.is_some(), events)?,
    };
    if events.is_empty() {
        checked.json["checks_valid"] = serde_json::to_value(checked.valid)?;
        checked.json["valid"] = serde_json::to_value(Validity::Unknown)?;
        checked.valid = Validity::Unknown;
    }
    checked.json["history"] = serde_json::json!({
        "file": file.display().to_string(),
        "format": format.name(),
        "events": events.len(),
    });
    if precomputed.is_some() {
        // Checked as it was read, never held whole (see `crate::check_txn_stream`).
        checked.json["history"]["streamed"] = true.into();
    }
    if !warnings.is_empty() {
        checked.json["warnings"] = serde_json::to_value(&warnings)?;
    }
    if let Some(cut) = &history.cut {
        checked.json["history_cut"] = serde_json::to_value(cut)?;
    }
    let valid = match &incomplete {
        Some(why) => {
            checked.json["incomplete_run"] = why.as_str().into();
            checked.json["checks_valid"] = serde_json::to_value(checked.valid)?;
            checked.json["valid"] = serde_json::to_value(Validity::Unknown)?;
            Validity::Unknown
        }
        None => checked.valid,
    };
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&checked.json)?)?;
    } else {
        writeln!(
            out,
            "history: {} ({} format, {} events)",
            file.display(),
            format.name(),
            events.len()
        )?;
        for warning in &warnings {
            writeln!(out, "warning: {warning}")?;
        }
        if let Some(why) = &incomplete {
            writeln!(out, "{why}")?;
        }
        write!(out, "{}", checked.text)?;
        match &incomplete {
            Some(_) => writeln!(
                out,
                "valid: unknown (incomplete run; the checks of what was recorded say {})",
                checked.valid
            )?,
            None => writeln!(out, "valid: {valid}")?,
        }
    }
    Ok(valid.exit_code())
}

/// Why the run in `folder` stopped early, as its `results.json` says (`run.aborted`: a node
/// would not start, the run was interrupted), in one line; `None` when it ran to its end or
/// there is no such file.
fn stopped_early(folder: &Path) -> Option<String> {
    let text = std::fs::read_to_string(folder.join("results.json")).ok()?;
    let results: serde_json::Value = serde_json::from_str(&text).ok()?;
    let why = results.get("run")?.get("aborted")?.as_str()?;
    Some(format!("incomplete run: it was stopped early ({why})"))
}

/// What a check found, ready to print.
struct Checked {
    valid: Validity,
    /// The result as JSON, for `--json`.
    json: serde_json::Value,
    /// The result as text, without the verdict line.
    text: String,
}

/// What the checks of workload `w` (and of the order, when asked) decide, in words.
fn workload_semantics(w: WorkloadKind, ordering: Option<OrderingMode>) -> String {
    let base = w.semantics().to_owned();
    match ordering {
        None => base,
        Some(mode) => format!(
            "{base}; ordering {}: no duplicates, a node's later reads extend its earlier ones (per incarnation: a kill or restart begins a new one), {}",
            mode.name(),
            match mode {
                OrderingMode::Fifo =>
                    "and same-origin broadcasts acknowledged before another's invocation are delivered before it",
                OrderingMode::Causal => {
                    "and happens-before (same origin acknowledged before invocation, or read at the origin before invocation, transitively) is respected"
                }
                OrderingMode::Total => "and every read is a prefix of one common order",
            }
        ),
    }
}

/// Check `events` as workload `w` does. `txns`: the history already read for the isolation
/// checker, when it was streamed (then `events` have no values).
fn check_workload(
    args: &CheckArgs,
    file: &Path,
    w: WorkloadKind,
    events: &[Event],
    txns: Option<&checker::txn::TxnHistory>,
    warnings: &mut Vec<String>,
) -> anyhow::Result<Checked> {
    let ordering = args.ordering;
    let journal = args.messages.clone().or_else(|| {
        let beside = file.with_file_name("messages.jsonl");
        beside.is_file().then_some(beside)
    });
    let (net, messages_cut) = match &journal {
        Some(path) => {
            let lines = read_journal_file(path)?;
            if let Some(cut) = &lines.cut {
                warnings.push(format!("{}: {cut}", path.display()));
            }
            (Some(NetStats::from_journal(&lines.items)), lines.cut)
        }
        None => (None, None),
    };
    let consistency_models = match &args.consistency_models {
        Some(text) => checker::txn::parse_models(text)
            .map_err(|e| anyhow::anyhow!("--consistency-models: {e}"))?,
        None => Vec::new(),
    };
    let opts = RunCheckOptions {
        ordering,
        time_limit: Some(args.budget()?.0),
        memory_limit: args.budget()?.1,
        net,
        consistency_models,
        detection_bound: crate::config::detection_bound(args.detection_bound_ms)?,
        time_sync: Default::default(),
    };
    let results = match txns {
        Some(txns) => {
            checker::run_with_result(checker::txn_workload_result(txns, &opts), events, &opts)
        }
        None => w.check(events, &opts),
    };
    let mut json = serde_json::to_value(&results)?;
    if let Some(cut) = &messages_cut {
        json["messages_cut"] = serde_json::to_value(cut)?;
    }
    let mut text = format!(
        "check: the {} workload's checkers{}\nsemantics: {}\n",
        w.name(),
        ordering.map_or(String::new(), |m| format!(" and {} order", m.name())),
        workload_semantics(w, ordering)
    );
    // The workloads whose failures are told as a story get the summary's text, story included.
    if w.check_plan().is_told() {
        let story = crate::story::tell(&crate::story::Evidence {
            workload: w.name(),
            events,
            checks: &results,
            problems: &[],
            availability: None,
            slo: None,
            abort: None,
            interrupted: false,
            valid: results.valid,
            journal: journal.as_deref(),
        });
        text.push_str(&crate::results::checks_text(&results, &story));
    } else {
        // The parts of the results, in the order their Display has, but the verdict.
        text.push_str(&results.workload.to_string());
        for part in [
            results.ordering.as_ref().map(ToString::to_string),
            results.stats.as_ref().map(ToString::to_string),
            results.net.as_ref().map(ToString::to_string),
        ]
        .into_iter()
        .flatten()
        {
            text.push_str(&part);
        }
    }
    Ok(Checked {
        valid: results.valid,
        json,
        text,
    })
}

fn check_lin(
    args: &CheckArgs,
    file: &Path,
    format: Format,
    lin_kv: bool,
    events: &[Event],
) -> anyhow::Result<Checked> {
    let (model, detected) = match args.model {
        Some(m) => (m, false),
        None if lin_kv || format == Format::PorcupineKv => (ModelKind::Kv, false),
        None => (ModelKind::detect(events), true),
    };
    let mut opts = LinOptions::new(model);
    opts.initial = match &args.initial {
        Some(text) => Some(
            serde_json::from_str(text)
                .with_context(|| format!("--initial {text:?} is not JSON"))?,
        ),
        None => format.implied_initial(),
    };
    opts.nil_read = args.nil_read;
    (opts.time_limit, opts.memory_limit) = {
        let (time, memory) = args.budget()?;
        (Some(time), memory)
    };
    let result =
        check_linearizable(events, &opts).with_context(|| format!("{}", file.display()))?;
    let text = format!(
        "check: linearizability, model {}{}\n{result}",
        model.name(),
        if detected {
            " (detected from the ops; --model to choose)"
        } else {
            ""
        }
    );
    Ok(Checked {
        valid: result.valid,
        json: serde_json::to_value(&result)?,
        text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        check: CheckArgs,
    }

    fn args(list: &[&str]) -> CheckArgs {
        let mut argv = vec!["harness-check"];
        argv.extend_from_slice(list);
        Cli::parse_from(argv).check
    }

    /// A file or folder of one test, in a folder of its own that is removed when this is
    /// dropped.
    struct Scratch {
        path: PathBuf,
        root: PathBuf,
    }

    impl Scratch {
        fn new(name: &str) -> Scratch {
            let root =
                std::env::temp_dir().join(format!("check-cmd-{}-{name}", std::process::id()));
            let _ = std::fs::remove_dir_all(&root);
            std::fs::create_dir_all(&root).unwrap();
            Scratch {
                path: root.join(name),
                root,
            }
        }
    }

    impl std::ops::Deref for Scratch {
        type Target = Path;
        fn deref(&self) -> &Path {
            &self.path
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.root);
        }
    }

    fn temp_file(name: &str, text: &str) -> Scratch {
        let file = Scratch::new(name);
        std::fs::write(&*file, text).unwrap();
        file
    }

    fn run_text(list: &[&str]) -> (anyhow::Result<u8>, String) {
        let mut out = Vec::new();
        let code = run_to(&args(list), &mut out);
        (code, String::from_utf8(out).unwrap())
    }

    const STALE_READ: &str = r#"{"index":0,"time":1,"process":0,"node":"n0","type":"invoke","f":"write","value":["x",1]}
{"index":1,"time":2,"process":0,"node":"n0","type":"ok","f":"write","value":["x",1]}
{"index":2,"time":3,"process":1,"node":"n1","type":"invoke","f":"read","value":["x",null]}
{"index":3,"time":4,"process":1,"node":"n1","type":"ok","f":"read","value":["x",null]}
"#;

    #[test]
    fn a_history_without_times_or_indices_is_checked_and_told_by_events() {
        let text = r#"{"process":0,"type":"invoke","f":"write","value":["x",1]}
{"process":0,"type":"ok","f":"write","value":["x",1]}
{"process":1,"type":"invoke","f":"read","value":["x",null]}
{"process":1,"type":"ok","f":"read","value":["x",null]}
{"process":2,"type":"invoke","f":"write","value":["x",2]}
{"process":2,"type":"info","f":"write","value":["x",2],"error":"timed-out"}
"#;
        let path = temp_file("timeless.jsonl", text);
        let (code, out) = run_text(&[path.to_str().unwrap()]);
        assert_eq!(code.unwrap(), 1, "{out}");
        assert!(out.contains("(jsonl format, 6 events)"), "{out}");
        assert!(out.contains("during events 2..3"), "{out}");
        assert!(out.contains("during events 0..1"), "{out}");
        assert!(!out.contains("[0.0"), "no times to show: {out}");
    }

    #[test]
    fn ten_thousand_pending_writes_no_read_saw_are_decided_within_a_small_memory_cap() {
        use std::fmt::Write as _;
        let mut text = String::new();
        text.push_str("{\"process\":0,\"type\":\"invoke\",\"f\":\"write\",\"value\":[\"x\",0]}\n");
        text.push_str("{\"process\":0,\"type\":\"ok\",\"f\":\"write\",\"value\":[\"x\",0]}\n");
        for i in 1..=10_000 {
            let _ = writeln!(
                text,
                "{{\"process\":{i},\"type\":\"invoke\",\"f\":\"write\",\"value\":[\"x\",{i}]}}"
            );
        }
        for p in 0..4 {
            let process = 20_000 + p;
            let _ = writeln!(
                text,
                "{{\"process\":{process},\"type\":\"invoke\",\"f\":\"read\",\"value\":[\"x\",null]}}\n\
                 {{\"process\":{process},\"type\":\"ok\",\"f\":\"read\",\"value\":[\"x\",0]}}"
            );
        }
        let path = temp_file("pending.jsonl", &text);
        let (code, out) = run_text(&[path.to_str().unwrap(), "--memory-limit", "64"]);
        assert_eq!(code.unwrap(), 0, "{out}");
        assert!(
            out.contains("10000 pending write(s) whose value no read returned"),
            "{out}"
        );
        // One read of a pending write's value keeps that write in the search, and decides.
        text.push_str(
            "{\"process\":30000,\"type\":\"invoke\",\"f\":\"read\",\"value\":[\"x\",null]}\n",
        );
        text.push_str("{\"process\":30000,\"type\":\"ok\",\"f\":\"read\",\"value\":[\"x\",77]}\n");
        let path = temp_file("pending-read.jsonl", &text);
        let (code, out) = run_text(&[path.to_str().unwrap(), "--memory-limit", "64"]);
        assert_eq!(code.unwrap(), 0, "{out}");
        assert!(out.contains("9999 pending write(s)"), "{out}");
    }

    #[test]
    fn a_stale_read_of_an_absent_key_is_invalid_with_its_witness() {
        let path = temp_file("stale.jsonl", STALE_READ);
        let (code, text) = run_text(&[path.to_str().unwrap()]);
        assert_eq!(code.unwrap(), 1, "{text}");
        assert!(text.contains("model kv"), "{text}");
        assert!(text.contains("a read of null means absent"), "{text}");
        assert!(
            text.contains("it read absent but the value was 1"),
            "{text}"
        );
        // Under --nil-read unknown the same read matches any state.
        let (code, text) = run_text(&[path.to_str().unwrap(), "--nil-read", "unknown"]);
        assert_eq!(code.unwrap(), 0, "{text}");
        let (code, text) = run_text(&[path.to_str().unwrap(), "--json"]);
        assert_eq!(code.unwrap(), 1);
        let json: serde_json::Value =
            serde_json::from_str(&text).expect("--json prints one JSON document and nothing else");
        assert_eq!(json["valid"], serde_json::json!(false));
        assert_eq!(json["failure"]["op"]["index"], serde_json::json!(2));
    }

    #[test]
    fn bad_input_is_an_error_naming_file_and_line() {
        let path = temp_file(
            "bad.jsonl",
            "{\"index\":0,\"time\":1,\"process\":0,\"type\":\"invoke\",\"f\":\"read\"}\nnot json\n",
        );
        let (code, _) = run_text(&[path.to_str().unwrap()]);
        let err = format!("{:#}", code.unwrap_err());
        assert!(err.contains("bad.jsonl:2:"), "{err}");
        let (code, _) = run_text(&[path.to_str().unwrap(), "--initial", "{oops"]);
        assert!(code.is_err());
        let missing = Path::new("/nonexistent/history.jsonl");
        let (code, _) = run_text(&[missing.to_str().unwrap()]);
        let err = format!("{:#}", code.unwrap_err());
        assert_eq!(
            err.matches("No such file").count(),
            1,
            "the cause is named once: {err}"
        );
        assert!(err.contains("/nonexistent/history.jsonl"), "{err}");
        // An empty file is read as what its name says; it proves nothing: unknown, exit 2.
        let empty = temp_file("empty.jsonl", "");
        let (code, out) = run_text(&[empty.to_str().unwrap()]);
        assert_eq!(code.unwrap(), 2, "{out}");
        assert!(out.contains("(jsonl format, 0 events)"), "{out}");
        assert!(
            out.contains("warning: the history holds no events: it proves nothing"),
            "{out}"
        );
        assert!(out.contains("valid: unknown"), "{out}");
        let (code, out) = run_text(&[empty.to_str().unwrap(), "--json"]);
        assert_eq!(code.unwrap(), 2);
        let json: serde_json::Value = serde_json::from_str(&out).expect("only JSON");
        assert_eq!(json["valid"], "unknown");
        assert_eq!(json["history"]["events"], 0);
        assert!(
            json["warnings"][0]
                .as_str()
                .unwrap()
                .contains("proves nothing")
        );
        let good = temp_file("stale2.jsonl", STALE_READ);
        let (code, _) = run_text(&[
            good.to_str().unwrap(),
            "--workload",
            "echo",
            "--model",
            "kv",
        ]);
        assert!(code.is_err());
        for bad in ["0", "1e300", "NaN", "inf"] {
            let (code, _) = run_text(&[good.to_str().unwrap(), "--time-limit", bad]);
            assert!(code.is_err(), "--time-limit {bad}");
        }
        let (code, out) = run_text(&[
            good.to_str().unwrap(),
            "--time-limit",
            "1e15",
            "--memory-limit",
            "18446744073709551615",
        ]);
        assert_eq!(code.unwrap(), 1, "{out}");
    }

    #[test]
    fn a_history_cut_mid_line_is_checked_up_to_its_last_whole_line_and_says_so() {
        // The harness was killed while writing the fourth line: the read's completion.
        let cut_at = STALE_READ.len() - 30;
        let path = temp_file("cut.jsonl", &STALE_READ[..cut_at]);
        let (code, text) = run_text(&[path.to_str().unwrap()]);
        // Without the stale read's completion, the read may still return 1: linearizable.
        assert_eq!(code.unwrap(), 0, "{text}");
        assert!(text.contains("(jsonl format, 3 events)"), "{text}");
        assert!(
            text.contains(&format!(
                "warning: {}: the last line (4) is cut off mid-line",
                path.display()
            )),
            "{text}"
        );
        let (code, text) = run_text(&[path.to_str().unwrap(), "--json"]);
        assert_eq!(code.unwrap(), 0);
        let json: serde_json::Value =
            serde_json::from_str(&text).expect("--json prints one JSON document and nothing else");
        assert_eq!(json["history_cut"]["line"], serde_json::json!(4));
        let whole_lines: usize = STALE_READ.lines().take(3).map(|l| l.len() + 1).sum();
        assert_eq!(
            json["history_cut"]["bytes"],
            serde_json::json!(cut_at - whole_lines)
        );
        // A whole history has no such field.
        let whole = temp_file("whole.jsonl", STALE_READ);
        let (_, text) = run_text(&[whole.to_str().unwrap(), "--json"]);
        assert!(
            !text.contains("history_cut") && !text.contains("warning"),
            "{text}"
        );
    }

    #[test]
    fn a_journal_cut_mid_line_gives_net_statistics_up_to_its_last_whole_line() {
        let history = temp_file(
            "echo.jsonl",
            r#"{"index":0,"time":1,"process":0,"node":"n0","type":"invoke","f":"echo","value":"a"}
{"index":1,"time":2,"process":0,"node":"n0","type":"ok","f":"echo","value":"a"}
"#,
        );
        let journal = temp_file(
            "cut-journal.jsonl",
            "{\"time\":1,\"event\":\"send\",\"id\":1,\"src\":\"n0\",\"dest\":\"n1\",\"body\":{}}\n{\"time\":2,\"ev",
        );
        let (code, text) = run_text(&[
            history.to_str().unwrap(),
            "--messages",
            journal.to_str().unwrap(),
        ]);
        assert_eq!(code.unwrap(), 0, "{text}");
        assert!(text.contains("servers: 1 sent"), "{text}");
        assert!(
            text.contains("cut-journal.jsonl: the last line (2) is cut off mid-line"),
            "{text}"
        );
        let (_, text) = run_text(&[
            history.to_str().unwrap(),
            "--messages",
            journal.to_str().unwrap(),
            "--json",
        ]);
        assert!(text.contains("\"messages_cut\""), "{text}");
    }

    const ECHO: &str = r#"{"index":0,"time":1,"process":0,"node":"n0","type":"invoke","f":"echo","value":"a"}
{"index":1,"time":2,"process":0,"node":"n0","type":"ok","f":"echo","value":"a"}
"#;

    /// A run folder holding `history`, and an `INCOMPLETE` file when `incomplete`.
    fn run_folder(name: &str, history: &str, incomplete: bool) -> Scratch {
        let dir = Scratch::new(name);
        std::fs::create_dir_all(&*dir).unwrap();
        std::fs::write(dir.join("history.jsonl"), history).unwrap();
        if incomplete {
            std::fs::write(dir.join(crate::store::INCOMPLETE_FILE), "not finished\n").unwrap();
        }
        dir
    }

    #[test]
    fn the_history_of_a_run_that_did_not_finish_is_checked_but_unknown() {
        let dir = run_folder("incomplete", ECHO, true);
        let history = dir.join("history.jsonl");
        for arg in [&*dir, history.as_path()] {
            let (code, text) = run_text(&[arg.to_str().unwrap()]);
            assert_eq!(code.unwrap(), 2, "{text}");
            assert!(
                text.contains("\nincomplete run: the harness stopped before the end"),
                "{text}"
            );
            assert!(
                text.ends_with(
                    "valid: unknown (incomplete run; the checks of what was recorded say valid)\n"
                ),
                "{text}"
            );
            assert!(
                !text.contains("valid: valid"),
                "never a plain valid: {text}"
            );
        }
        let (code, text) = run_text(&[dir.to_str().unwrap(), "--json"]);
        assert_eq!(code.unwrap(), 2);
        let json: serde_json::Value =
            serde_json::from_str(&text).expect("--json prints one JSON document and nothing else");
        assert_eq!(json["valid"], "unknown");
        assert_eq!(json["checks_valid"], true);
        assert_ne!(json["valid"], true);
        assert!(
            json["incomplete_run"]
                .as_str()
                .unwrap()
                .starts_with("incomplete run: ")
        );
        // A run that died before it wrote any history.
        std::fs::remove_file(&history).unwrap();
        let (code, text) = run_text(&[dir.to_str().unwrap()]);
        assert_eq!(code.unwrap(), 2);
        assert!(text.contains("it has no history.jsonl yet"), "{text}");
        // Once the marker is gone, the same history is a plain pass.
        let done = run_folder("done", ECHO, false);
        let (code, text) = run_text(&[done.to_str().unwrap()]);
        assert_eq!(code.unwrap(), 0, "{text}");
        assert!(text.ends_with("valid: valid\n") && !text.contains("incomplete"));
        std::fs::remove_file(done.join("history.jsonl")).unwrap();
        let (code, _) = run_text(&[done.to_str().unwrap()]);
        assert!(
            format!("{:#}", code.unwrap_err()).contains("not a run folder"),
            "a folder without a history is no run"
        );
    }

    #[test]
    fn the_history_of_a_run_stopped_early_is_unknown() {
        let dir = run_folder("aborted", ECHO, false);
        std::fs::write(
            dir.join("results.json"),
            r#"{"valid": "unknown", "run": {"aborted": "interrupted by a signal"}}"#,
        )
        .unwrap();
        let (code, text) = run_text(&[dir.join("history.jsonl").to_str().unwrap()]);
        assert_eq!(code.unwrap(), 2, "{text}");
        assert!(
            text.contains("incomplete run: it was stopped early (interrupted by a signal)"),
            "{text}"
        );
    }

    #[test]
    fn broadcast_histories_are_detected_and_ordering_is_checked() {
        let text = r#"{"index":0,"time":1000000,"process":0,"node":"n0","type":"invoke","f":"broadcast","value":1}
{"index":1,"time":2000000,"process":0,"node":"n0","type":"ok","f":"broadcast","value":1}
{"index":2,"time":3000000,"process":0,"node":"n0","type":"invoke","f":"broadcast","value":2}
{"index":3,"time":4000000,"process":0,"node":"n0","type":"ok","f":"broadcast","value":2}
{"index":4,"time":5000000,"process":1,"node":"n1","type":"invoke","f":"read","value":null,"final":true}
{"index":5,"time":6000000,"process":1,"node":"n1","type":"ok","f":"read","value":[2,1],"final":true}
{"index":6,"time":7000000,"process":0,"node":"n0","type":"invoke","f":"read","value":null,"final":true}
{"index":7,"time":8000000,"process":0,"node":"n0","type":"ok","f":"read","value":[1,2],"final":true}
"#;
        let path = temp_file("bcast.jsonl", text);
        let (code, out) = run_text(&[path.to_str().unwrap()]);
        assert_eq!(code.unwrap(), 0, "{out}");
        assert!(out.contains("the broadcast workload"), "{out}");
        let journal = temp_file(
            "journal.jsonl",
            "{\"time\":1,\"event\":\"send\",\"id\":1,\"src\":\"n0\",\"dest\":\"n1\",\"body\":{\"type\":\"gossip\"}}\n",
        );
        let (code, out) = run_text(&[
            path.to_str().unwrap(),
            "--messages",
            journal.to_str().unwrap(),
        ]);
        assert_eq!(code.unwrap(), 0, "{out}");
        assert!(out.contains("servers: 1 sent, 0.25 msgs per op"), "{out}");
        let bad_journal = temp_file("bad-journal.jsonl", "nope\n");
        let (code, _) = run_text(&[
            path.to_str().unwrap(),
            "--messages",
            bad_journal.to_str().unwrap(),
        ]);
        assert!(format!("{:#}", code.unwrap_err()).contains("bad-journal.jsonl:1:"));
        let (code, out) = run_text(&[path.to_str().unwrap(), "--ordering", "fifo"]);
        assert_eq!(code.unwrap(), 1, "{out}");
        assert!(out.contains("FIFO order broken in the read at n1"), "{out}");
        let (code, out) = run_text(&[path.to_str().unwrap(), "--ordering", "total"]);
        assert_eq!(code.unwrap(), 1, "{out}");
        assert!(
            out.contains("order 2 and 1 differently") || out.contains("order 1 and 2 differently"),
            "{out}"
        );
    }

    #[test]
    fn g_set_and_pn_counter_histories_are_recognised_and_their_failures_told() {
        let g_set = r#"{"index":0,"time":1000000,"process":0,"node":"n0","type":"invoke","f":"add","value":1}
{"index":1,"time":2000000,"process":0,"node":"n0","type":"ok","f":"add","value":1}
{"index":2,"time":3000000,"process":1,"node":"n1","type":"invoke","f":"read","value":null,"final":true}
{"index":3,"time":4000000,"process":1,"node":"n1","type":"ok","f":"read","value":[],"final":true}
"#;
        let path = temp_file("g-set.jsonl", g_set);
        let (code, out) = run_text(&[path.to_str().unwrap()]);
        assert_eq!(code.unwrap(), 1, "{out}");
        assert!(
            out.contains("check: the g-set workload's checkers"),
            "{out}"
        );
        assert!(out.contains("set-full: invalid: 1 adds"), "{out}");
        assert!(
            out.contains("value 1 (acknowledged at 0.00 s by n0) was held by n0"),
            "{out}"
        );
        let (code, _) = run_text(&[path.to_str().unwrap(), "--ordering", "fifo"]);
        let err = format!("{:#}", code.unwrap_err());
        assert_eq!(err, "--ordering applies to the broadcast workload only");
        let pn = r#"{"index":0,"time":1000000,"process":0,"node":"n0","type":"invoke","f":"add","value":-2}
{"index":1,"time":2000000,"process":0,"node":"n0","type":"ok","f":"add","value":-2}
{"index":2,"time":3000000,"process":1,"node":"n1","type":"invoke","f":"read","value":null,"final":true}
{"index":3,"time":4000000,"process":1,"node":"n1","type":"ok","f":"read","value":-4,"final":true}
"#;
        let path = temp_file("pn.jsonl", pn);
        let (code, out) = run_text(&[path.to_str().unwrap()]);
        assert_eq!(code.unwrap(), 1, "{out}");
        assert!(out.contains("pn-counter: invalid"), "{out}");
        assert!(
            out.contains("-4 is 2 below the smallest possible total"),
            "{out}"
        );
        let (code, out) = run_text(&[path.to_str().unwrap(), "--workload", "g-counter"]);
        assert_eq!(code.unwrap(), 1, "{out}");
        assert!(out.contains("g-counter: invalid"), "{out}");
    }

    #[test]
    fn kafka_histories_are_recognised_and_a_lost_write_told_with_its_witnesses() {
        let kafka = r#"{"index":0,"time":1000000,"process":0,"node":"n0","type":"invoke","f":"send","value":{"key":"1","msg":1}}
{"index":1,"time":2000000,"process":0,"node":"n0","type":"ok","f":"send","value":{"key":"1","msg":1,"offset":0}}
{"index":2,"time":3000000,"process":0,"node":"n0","type":"invoke","f":"send","value":{"key":"1","msg":2}}
{"index":3,"time":4000000,"process":0,"node":"n0","type":"ok","f":"send","value":{"key":"1","msg":2,"offset":1}}
{"index":4,"time":5000000,"process":0,"node":"n0","type":"invoke","f":"send","value":{"key":"1","msg":3}}
{"index":5,"time":6000000,"process":0,"node":"n0","type":"ok","f":"send","value":{"key":"1","msg":3,"offset":2}}
{"index":6,"time":7000000,"process":1,"node":"n1","type":"invoke","f":"poll","value":{"offsets":{"1":0}},"final":true}
{"index":7,"time":8000000,"process":1,"node":"n1","type":"ok","f":"poll","value":{"offsets":{"1":0},"msgs":{"1":[[0,1],[2,3]]}},"final":true}
"#;
        let path = temp_file("kafka.jsonl", kafka);
        let (code, out) = run_text(&[path.to_str().unwrap()]);
        assert_eq!(code.unwrap(), 1, "{out}");
        assert!(
            out.contains("check: the kafka workload's checkers"),
            "{out}"
        );
        assert!(
            out.contains("kafka: invalid: 3 sends (3 acknowledged)"),
            "{out}"
        );
        assert!(
            out.contains(
                "what went wrong: 1 lost write, 1 poll that skipped offsets: key 1: message 2 \
                 was acknowledged at offset 1 (the send at event 3 (process 0, n0))"
            ),
            "{out}"
        );
        let (code, out) = run_text(&[path.to_str().unwrap(), "--json"]);
        assert_eq!(code.unwrap(), 1, "{out}");
        let json: serde_json::Value = serde_json::from_str(&out).expect("only JSON");
        assert_eq!(
            json["workload"]["lost_write"]["errs"][0]["ops"][1]["index"],
            7
        );
    }

    #[test]
    fn corpus_files_with_the_flags_labels_imply() {
        let corpus = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/corpus"));
        if !corpus.is_dir() {
            println!("corpus not found at {}: skipped", corpus.display());
            return;
        }
        let bad = corpus.join("knossos/cas-register/bad/bad-analysis.edn");
        let flags = [
            "--model",
            "cas-register",
            "--initial",
            "0",
            "--nil-read",
            "unknown",
        ];
        let mut list = vec![bad.to_str().unwrap()];
        list.extend_from_slice(&flags);
        let (code, out) = run_text(&list);
        assert_eq!(code.unwrap(), 1, "{out}");
        assert!(out.contains("initial value 0"), "{out}");
        assert!(out.contains("Ops concurrent with it"), "{out}");
        let ok = corpus.join("porcupine-kv/c10-ok.txt");
        let (code, out) = run_text(&[ok.to_str().unwrap()]);
        assert_eq!(code.unwrap(), 0, "{out}");
        assert!(
            out.contains("porcupine-kv format") && out.contains("initial value \"\""),
            "{out}"
        );
    }
}
