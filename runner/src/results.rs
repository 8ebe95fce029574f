//! `results.json` and the summary on stdout.
//!
//! `results.json` holds every checker's result under Maelstrom-like keys (`workload`,
//! `ordering`, `stats`, `net`), plus the harness's own: `availability` (when asked),
//! `problems` (what nodes did wrong, see [`crate::problems`]), `run` (the configuration, the
//! seed and how to reproduce), the failure told for people (`headline`, `story` and
//! `story_window`, see [`crate::story`]), and `valid`: `true`, `false` or `"unknown"`. A node that broke
//! the protocol makes the run invalid: the harness is strict where Maelstrom is fragile.

use std::time::Duration;

use checker::{Event, EventType, Validity};
use serde::Serialize;
use serde_json::{Value, json};
use workloads::Outcome;

use crate::config::{Availability, TestConfig};
use crate::problems::Problem;
use crate::store::RunDir;
use crate::story::RunStory;

/// How long the linearizability check of a run may search before its verdict is unknown.
pub const LIN_TIME_BUDGET: Duration = Duration::from_secs(120);
/// How much memory its search memo may take before its verdict is unknown.
pub const LIN_MEMORY_BUDGET: u64 = 4 << 30;

/// Ops invoked and completed so far, for the progress bar.
#[derive(Debug, Default, Clone, Copy)]
pub struct OpCounts {
    pub invoked: u64,
    pub ok: u64,
    pub fail: u64,
    pub info: u64,
}

impl OpCounts {
    pub fn record(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Ok => self.ok += 1,
            Outcome::Fail => self.fail += 1,
            Outcome::Info => self.info += 1,
        }
    }
}

/// Everything the end of a run needs.
pub struct RunReport<'a> {
    pub config: &'a TestConfig,
    /// What the seed planned and how much of it the run carried out.
    pub schedule: &'a crate::schedule::ScheduleRecord,
    pub dir: &'a RunDir,
    pub events: &'a [Event],
    pub net: &'a checker::stats::NetStats,
    pub problems: Vec<Problem>,
    pub abort: Option<String>,
    pub interrupted: bool,
    pub duration: Duration,
    /// The harness's CPU time (user, system) when the cluster stopped, before checking.
    pub run_cpu: (f64, f64),
    /// The harness's sleeps ([`sleeps`]) when the cluster stopped.
    pub run_sleeps: u64,
    /// Under `--hosts`: the hosts, their clocks and the measured delays.
    pub hosts: Option<Value>,
}

/// How a run ended, for the command line and for callers that run many tests.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// 0 valid, 1 invalid, 2 unknown, 3 could not run.
    pub exit_code: u8,
    pub valid: Validity,
    /// The run's folder.
    pub dir: std::path::PathBuf,
    /// What was written to `results.json`.
    pub results: Value,
}

/// CPU time the calling thread (a run's router: the whole run but its nodes) has used so far
/// (user, system), in seconds. Per thread, so runs side by side each count their own.
pub fn cpu_seconds() -> (f64, f64) {
    use nix::sys::resource::{UsageWho, getrusage};
    match getrusage(UsageWho::RUSAGE_THREAD) {
        Ok(usage) => {
            let secs = |t: nix::sys::time::TimeVal| t.tv_sec() as f64 + t.tv_usec() as f64 / 1e6;
            (secs(usage.user_time()), secs(usage.system_time()))
        }
        Err(_) => (0.0, 0.0),
    }
}

/// How many times the calling thread (a run's router) has blocked so far (voluntary context switches: each
/// wait of its event loop that did not find work ready). On a virtual machine each such sleep
/// and wake-up costs far more CPU than the work of a message; `bench-runner` measures both.
pub fn sleeps() -> u64 {
    use nix::sys::resource::{UsageWho, getrusage};
    getrusage(UsageWho::RUSAGE_THREAD).map_or(0, |usage| {
        u64::try_from(usage.voluntary_context_switches()).unwrap_or(0)
    })
}

/// The availability check: the fraction of client ops (final ones excluded) that ended ok.
#[derive(Debug, Serialize)]
pub struct AvailabilityResult {
    pub valid: Validity,
    pub required: Value,
    pub ok_count: u64,
    pub op_count: u64,
    pub ok_fraction: f64,
}

pub fn availability(events: &[Event], required: Availability) -> AvailabilityResult {
    let completions = events
        .iter()
        .filter(|e| !e.process.is_nemesis() && !e.is_final && e.kind != EventType::Invoke);
    let (mut ok, mut all) = (0u64, 0u64);
    for event in completions {
        all += 1;
        if event.kind == EventType::Ok {
            ok += 1;
        }
    }
    let fraction = if all == 0 {
        1.0
    } else {
        ok as f64 / all as f64
    };
    let (valid, required) = match required {
        Availability::Total => (ok == all, json!("total")),
        Availability::Fraction(f) => (fraction >= f, json!(f)),
    };
    AvailabilityResult {
        valid: Validity::from_bool(valid),
        required,
        ok_count: ok,
        op_count: all,
        ok_fraction: fraction,
    }
}

/// Check the run, write `results.json`, print the summary (unless the config is quiet).
/// The object under `run` in results.json that holds every wall-clock field (durations, CPU
/// time, sleeps): the only part of results.json that differs between two simulated runs of
/// one seed.
pub const WALL_CLOCK_FIELD: &str = "wall_clock";

pub fn write_and_summarise(report: &RunReport<'_>) -> anyhow::Result<RunOutcome> {
    let config = report.config;
    let opts = checker::RunCheckOptions {
        ordering: config.ordering,
        time_limit: Some(LIN_TIME_BUDGET),
        memory_limit: Some(LIN_MEMORY_BUDGET),
        net: Some(report.net.clone()),
        consistency_models: config.consistency_models.clone(),
        detection_bound: config.detection_bound,
        time_sync: config.workload_options.time_sync.check(),
    };
    let checks = config.workload.check(report.events, &opts);
    let mut results = serde_json::to_value(&checks)?;
    let mut valid = checks.valid;

    let object = results.as_object_mut().expect("results are an object");
    let availability = config
        .availability
        .map(|required| availability(report.events, required));
    if let Some(check) = &availability {
        valid = valid.merge(check.valid);
        object.insert("availability".into(), serde_json::to_value(check)?);
    }
    let slo = match &config.slo {
        Some(objective) => Some(checker::slo::check_slo(report.events, objective)?),
        None => None,
    };
    if let Some(check) = &slo {
        valid = valid.merge(check.valid);
        object.insert("slo".into(), serde_json::to_value(check)?);
    }
    if report.problems.iter().any(|p| p.error) {
        valid = valid.merge(Validity::Invalid);
    }
    object.insert("problems".into(), serde_json::to_value(&report.problems)?);
    let could_not_run = report.abort.is_some();
    if could_not_run {
        valid = Validity::Unknown;
    }
    object.insert(
        "run".into(),
        json!({
            "workload": config.workload.name(),
            "backend": if config.sim.is_some() {
                "sim"
            } else if config.remote.is_some() {
                "agents"
            } else {
                "process"
            },
            "bin": config.sim.is_none().then(|| config.bin.display().to_string()),
            "node": config.sim.as_ref().map(|p| p.name.clone()),
            "args": config.args,
            "node_count": config.node_ids.len(),
            "node_ids": config.node_ids,
            "clients": config.clients,
            "time_limit_s": config.time_limit.as_secs_f64(),
            "rate": config.rate,
            "rate_requested": config.rate_requested,
            "latency_ms": config.latency.as_millis() as u64,
            "latency_dist": config.latency_dist.name(),
            "topology": config.topology.name(),
            "nemesis": config.faults.iter().map(|f| f.name()).collect::<Vec<_>>(),
            "nemesis_targets": config.nemesis_targets.iter().map(|t| t.name()).collect::<Vec<_>>(),
            "nemesis_interval_s": config.nemesis_interval.as_secs_f64(),
            "byzantine": config.byzantine,
            "recovery_time_s": config.recovery_time.as_secs_f64(),
            "ordering": config.ordering.map(|o| o.name()),
            "seed": config.seed,
            "reproduce": config.reproduce(),
            "schedule": report.schedule,
            // Every field that depends on the machine and not on the run, in one place:
            // the rest of results.json is the same for the same seed under the simulator.
            "wall_clock": {
                "duration_s": report.duration.as_secs_f64(),
                "cpu_run_user_s": report.run_cpu.0,
                "cpu_run_system_s": report.run_cpu.1,
                "sleeps_run": report.run_sleeps,
                "cpu_user_s": cpu_seconds().0,
                "cpu_system_s": cpu_seconds().1,
            },
            "aborted": report.abort,
            "interrupted": report.interrupted,
            "ignored_flags": config.ignored_flags,
            "test_count": config.repetition.map(|(run, of)| json!({"run": run, "of": of})),
        }),
    );
    if let Some(hosts) = &report.hosts {
        object.insert("hosts".into(), hosts.clone());
    }
    let messages = report.dir.messages();
    let story = crate::story::tell(&crate::story::Evidence {
        workload: config.workload.name(),
        events: report.events,
        checks: &checks,
        problems: &report.problems,
        availability: availability.as_ref(),
        slo: slo.as_ref(),
        abort: report.abort.as_deref(),
        interrupted: report.interrupted,
        valid,
        journal: messages.is_file().then_some(messages.as_path()),
    });
    story.record(object);
    object.insert("valid".into(), serde_json::to_value(valid)?);
    let text = serde_json::to_string_pretty(&results)?;
    report.dir.write_results(&(text + "\n"))?;
    let page = if config.page {
        crate::report::write_report(&report.dir.dir)
    } else {
        Err(anyhow::anyhow!("not asked for"))
    };

    if !config.quiet {
        print_summary(report, &checks, &story, availability.as_ref(), valid);
        // A missed objective is told with the story; one met gets its own line.
        if let Some(slo) = slo.as_ref().filter(|s| s.valid == Validity::Valid) {
            println!("{slo}");
        }
        match &page {
            Ok(path) => println!("report: {}", path.display()),
            Err(err) => println!("report: not written: {err:#}"),
        }
    }
    Ok(RunOutcome {
        exit_code: if could_not_run || report.interrupted {
            3
        } else {
            valid.exit_code()
        },
        valid,
        dir: report.dir.dir.clone(),
        results,
    })
}

/// The summary's line naming the flags that had no effect, if any: `flags ignored here:
/// --username (why), --no-ssh (why)`, each reason said once.
pub fn ignored_flags_line(flags: &[crate::config::IgnoredFlag]) -> Option<String> {
    if flags.is_empty() {
        return None;
    }
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    for f in flags {
        match groups.iter_mut().find(|(why, _)| *why == f.why) {
            Some((_, names)) => names.push(&f.flag),
            None => groups.push((&f.why, vec![&f.flag])),
        }
    }
    let parts: Vec<String> = groups
        .iter()
        .map(|(why, names)| format!("{} ({why})", names.join(", ")))
        .collect();
    Some(format!("flags ignored here: {}", parts.join("; ")))
}

/// The nodes of one host of `results.json`'s `hosts`.
pub fn host_nodes(host: &Value) -> Vec<&str> {
    host["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

/// The periods (start, end in seconds; no end when it lasted to the end of the run) in which
/// one host of `results.json`'s `hosts` answered no clock probe.
pub fn silent_periods(host: &Value) -> Vec<(f64, Option<f64>)> {
    host["silent_periods_s"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|period| (period[0].as_f64().unwrap_or(f64::NAN), period[1].as_f64()))
        .collect()
}

/// The summary's lines on the hosts of a `--hosts` run: each host's nodes and clock offset
/// with its uncertainty, then the measured one-way delays of node-to-node messages.
pub fn hosts_lines(hosts: &Value) -> Vec<String> {
    let mut lines = vec!["hosts:".to_owned()];
    for host in hosts["hosts"].as_array().into_iter().flatten() {
        let nodes = host_nodes(host);
        lines.push(format!(
            "  {} ({}): {}; clock offset {:+.3} ms ± {:.3} ms (round trip {:.3} ms, {} probes); \
             partitions {}",
            host["host"].as_str().unwrap_or("?"),
            host["agent"].as_str().unwrap_or("?"),
            nodes.join(", "),
            host["clock_offset_ms"].as_f64().unwrap_or(f64::NAN),
            host["clock_uncertainty_ms"].as_f64().unwrap_or(f64::NAN),
            host["round_trip_ms"].as_f64().unwrap_or(f64::NAN),
            host["clock_probes"].as_u64().unwrap_or(0),
            if host["firewall"].as_bool() == Some(true) {
                "in the firewall (nftables) and by the agents"
            } else {
                "by the agents (no firewall)"
            }
        ));
    }
    for host in hosts["hosts"].as_array().into_iter().flatten() {
        for (from, to) in silent_periods(host) {
            lines.push(match to {
                Some(to) => format!(
                    "  {} ({}) answered no clock probe from {from:.1} s to {to:.1} s ({:.1} s)",
                    host["host"].as_str().unwrap_or("?"),
                    host["agent"].as_str().unwrap_or("?"),
                    to - from
                ),
                None => format!(
                    "  {} ({}) answered no clock probe from {from:.1} s to the end",
                    host["host"].as_str().unwrap_or("?"),
                    host["agent"].as_str().unwrap_or("?")
                ),
            });
        }
    }
    for (key, name) in [
        ("same_host", "within a host"),
        ("across_hosts", "across hosts"),
    ] {
        let q = &hosts["measured_delay_ms"][key];
        if q["count"].as_u64().unwrap_or(0) > 0 {
            lines.push(format!(
                "  measured one-way delay {name}: p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms ({} messages)",
                q["p50"].as_f64().unwrap_or(f64::NAN),
                q["p99"].as_f64().unwrap_or(f64::NAN),
                q["max"].as_f64().unwrap_or(f64::NAN),
                q["count"]
            ));
        }
    }
    lines
}

/// How many of the slowest values the summary names (results.json has them all).
pub const SLOW_LINES: usize = 3;

/// The checkers' results as the summary shows them: the op counts, the workload's result,
/// the ordering verdict, the Byzantine nodes' (when there are some), the network, then what went wrong, told (the ordering violations
/// are part of that story).
pub fn checks_text(checks: &checker::RunResults, story: &RunStory) -> String {
    let mut out = String::new();
    if let Some(stats) = &checks.stats {
        out.push_str(&stats.to_string());
    }
    out.push_str(&checks.workload.to_string());
    if let Some(ordering) = &checks.ordering {
        let text = ordering.to_string();
        out.push_str(text.lines().next().unwrap_or(""));
        out.push('\n');
    }
    if let Some(byzantine) = &checks.byzantine {
        // The first line: its violations are part of the story below.
        let text = byzantine.to_string();
        out.push_str(text.lines().next().unwrap_or(""));
        out.push('\n');
    }
    if let Some(net) = &checks.net {
        out.push_str(&net.to_string());
    }
    for line in story.summary(SLOW_LINES) {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

fn print_summary(
    report: &RunReport<'_>,
    checks: &checker::RunResults,
    story: &RunStory,
    availability: Option<&AvailabilityResult>,
    valid: Validity,
) {
    let config = report.config;
    println!();
    print!("{}", checks_text(checks, story));
    if let Some(availability) = availability {
        println!(
            "availability: {} of {} ops ok ({:.3}), required {}: {}",
            availability.ok_count,
            availability.op_count,
            availability.ok_fraction,
            availability.required,
            availability.valid
        );
    }
    if let Some(hosts) = &report.hosts {
        for line in hosts_lines(hosts) {
            println!("{line}");
        }
    }
    if report.problems.is_empty() {
        println!("node problems: none");
    } else {
        println!("node problems:");
        for p in &report.problems {
            println!(
                "  {}{} {} ({}x, first at {:.0} ms): {}",
                if p.error { "" } else { "[warning] " },
                p.node,
                p.description,
                p.count,
                p.first_at_ms,
                p.example
            );
        }
    }
    if let Some(abort) = &report.abort {
        println!("could not run the test: {abort}");
    }
    if let Some(line) = ignored_flags_line(&config.ignored_flags) {
        println!("{line}");
    }
    if let Some(line) = config.rate_capped() {
        println!("{line}");
    }
    let schedule = report.schedule;
    println!(
        "schedule: ops {} ({} of {} planned invoked, {} late), faults {} ({} of {} done)",
        schedule.ops_fingerprint,
        schedule.ops_invoked,
        schedule.ops_planned,
        schedule.ops_late,
        schedule.faults_fingerprint,
        schedule.faults_done,
        schedule.faults_planned
    );
    println!("results: {}", report.dir.results().display());
    println!("valid: {valid} (seed {})", config.seed);
    if valid != Validity::Valid {
        println!("reproduce: {}", config.reproduce());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::IgnoredFlag;

    #[test]
    fn the_ignored_flags_are_one_line_with_each_reason_said_once() {
        let flag = |flag: &str, why: &str| IgnoredFlag {
            flag: flag.into(),
            why: why.into(),
        };
        assert_eq!(ignored_flags_line(&[]), None);
        let line = ignored_flags_line(&[
            flag("--username", "ssh"),
            flag("--max-txn-length", "not used by the echo workload"),
            flag("--no-ssh", "ssh"),
        ]);
        assert_eq!(
            line.as_deref(),
            Some(
                "flags ignored here: --username, --no-ssh (ssh); --max-txn-length (not used by \
                 the echo workload)"
            )
        );
    }
}
