//! `harness compare --preset lin-kv`: the key-value nodes side by side under partitions, one
//! line each, and what went wrong in the ones that are not linearizable.
//!
//! Each variant runs as an ordinary `harness test -w lin-kv` (its own folder in the store)
//! under the same seed and conditions. From each run the table takes the linearizability
//! verdict, the ops that ended ok / info / fail, availability (the fraction ok) and server
//! messages per client op; below it, for each run that is not linearizable, the checker's own
//! sentence about its first failure: the read, the write it missed, the values it could have
//! returned. A variant promises linearizability when its name begins with `lin-kv`
//! (`lin-kv-tob`, `lin-kv-leader`); `kv-gossip` and `kv-stale-reads` promise nothing, and are
//! there to be caught. `compare.json` and `compare.html` go in `store/compare/<timestamp>/`.
//!
//! The exit code is 0 when every variant that promises linearizability was found linearizable,
//! 1 when one was not (or its check could not finish: unknown is never a pass), 3 when a run
//! could not start. A broken variant that a run did not catch is said so in its line; that is
//! no failure of the nodes that keep their promise.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use checker::Validity;
use serde::Serialize;
use serde_json::Value;
use workloads::WorkloadKind;

use super::kv_page::num;
use super::table::align;
use super::{
    CompareArgs, Scenario, adjust, exit_code, name_of, node_arguments, run_all, variants,
    write_files,
};
use crate::net::LatencyDist;
use crate::report::html::esc;

/// The preset's name.
pub const PRESET: &str = "lin-kv";

/// The key-value nodes: the two linearizable ones, then the two broken ones.
pub const VARIANTS: [&str; 4] = ["lin-kv-tob", "lin-kv-leader", "kv-gossip", "kv-stale-reads"];

/// One variant under one scenario.
#[derive(Debug, Clone, Serialize)]
pub struct LinKvRow {
    pub variant: String,
    pub scenario: String,
    pub promises_linearizable: bool,
    /// The linearizability verdict on the run's history.
    pub linearizable: Validity,
    /// The run's overall verdict (protocol problems and stats included).
    pub valid: Validity,
    pub ops: u64,
    pub ok: u64,
    pub info: u64,
    pub fail: u64,
    pub availability: Option<f64>,
    pub msgs_per_op: Option<f64>,
    /// The checker's account of the first failure, or why there is no verdict.
    pub reading: Option<String>,
    pub run_dir: PathBuf,
}

/// What `compare.json` holds for this preset.
#[derive(Debug, Serialize)]
pub struct LinKvComparison {
    pub workload: &'static str,
    pub seed: u64,
    /// The arguments every node program got (after `--`).
    pub node_args: Vec<String>,
    pub scenarios: Vec<Scenario>,
    pub rows: Vec<LinKvRow>,
}

/// Five nodes under partitions, busy enough that a replica caught behind when a partition
/// begins is read from while it lasts.
fn scenarios(args: &CompareArgs) -> anyhow::Result<Vec<Scenario>> {
    let list = vec![Scenario {
        name: "partitions".into(),
        workload: WorkloadKind::LinKv,
        node_count: 5,
        clients_per_node: 4,
        time_limit_s: 15.0,
        rate: 100.0,
        latency_ms: 30,
        latency_dist: LatencyDist::Exponential,
        topology: "grid".into(),
        key_count: Some(3),
        nemesis: vec!["partition".into()],
        nemesis_targets: Vec::new(),
        nemesis_interval_s: 1.5,
        // lin-kv has no final reads: nothing to recover for.
        recovery_time_s: 0.0,
        byzantine: 0,
    }];
    adjust(list, args)
}

/// Whether a node promises linearizability, by its name: `lin-kv-*` do.
pub fn promises_linearizable(bin: &Path) -> bool {
    name_of(bin).starts_with("lin-kv")
}

/// The reading of a run: the checker's sentence about the first failure, why there is no
/// verdict, or that a broken node was not caught.
fn reading(results: &Value, linearizable: Validity, promises: bool) -> Option<String> {
    let lin = &results["workload"];
    match linearizable {
        Validity::Invalid => Some(lin["failure"]["explanation"].as_str().map_or_else(
            || "not linearizable (no failure recorded)".to_owned(),
            str::to_owned,
        )),
        Validity::Unknown => Some(format!(
            "no verdict: {}",
            lin["unknown_reason"]
                .as_str()
                .or(lin["error"].as_str())
                .unwrap_or("the check did not finish")
        )),
        Validity::Valid if !promises => Some(
            "not caught in this run: its history happened to be linearizable (try another seed)"
                .to_owned(),
        ),
        Validity::Valid => None,
    }
}

fn row_for(scenario: &Scenario, bin: &Path, outcome: &crate::results::RunOutcome) -> LinKvRow {
    let r = &outcome.results;
    let promises = promises_linearizable(bin);
    let linearizable = match &r["workload"]["valid"] {
        Value::Bool(true) => Validity::Valid,
        Value::Bool(false) => Validity::Invalid,
        _ => Validity::Unknown,
    };
    let stat = |k: &str| r["stats"][k].as_u64().unwrap_or(0);
    LinKvRow {
        variant: name_of(bin),
        scenario: scenario.name.clone(),
        promises_linearizable: promises,
        linearizable,
        valid: outcome.valid,
        ops: stat("count"),
        ok: stat("ok_count"),
        info: stat("info_count"),
        fail: stat("fail_count"),
        availability: r["stats"]["availability"].as_f64(),
        msgs_per_op: r["net"]["servers"]["msgs_per_op"].as_f64(),
        reading: reading(r, linearizable, promises),
        run_dir: outcome.dir.clone(),
    }
}

fn verdict(v: Validity) -> &'static str {
    match v {
        Validity::Valid => "yes",
        Validity::Invalid => "NO",
        Validity::Unknown => "unknown",
    }
}

/// The table, one line per variant and scenario, then the readings.
pub fn render_table(rows: &[LinKvRow]) -> String {
    let header = [
        "variant",
        "scenario",
        "linearizable",
        "promises",
        "ok",
        "info",
        "fail",
        "availability",
        "msgs/op",
    ];
    let mut cells: Vec<Vec<String>> = vec![header.iter().map(|s| (*s).to_owned()).collect()];
    for row in rows {
        cells.push(vec![
            row.variant.clone(),
            row.scenario.clone(),
            verdict(row.linearizable).to_owned(),
            if row.promises_linearizable {
                "yes"
            } else {
                "no"
            }
            .to_owned(),
            row.ok.to_string(),
            row.info.to_string(),
            row.fail.to_string(),
            num(row.availability, 3),
            num(row.msgs_per_op, 2),
        ]);
    }
    let mut out = align(&cells);
    out.push_str(
        "linearizable: the checker's verdict on the run's history; promises: lin-kv-* nodes \
         claim linearizability, kv-* nodes do not\n",
    );
    let readings: Vec<&LinKvRow> = rows.iter().filter(|r| r.reading.is_some()).collect();
    if !readings.is_empty() {
        out.push_str("\nreadings:\n");
        for row in readings {
            let _ = writeln!(
                out,
                "{} ({}): {}\n  files: {}",
                row.variant,
                row.scenario,
                row.reading.as_deref().unwrap_or_default(),
                row.run_dir.display()
            );
        }
    }
    out
}

/// `compare.html`: the scenarios, the table and the readings on one page.
fn render_html(c: &LinKvComparison) -> String {
    let mut html =
        super::kv_page::head("lin-kv comparison", "Key-value stores: linearizable or not");
    let _ = write!(
        html,
        "<p>Seed {} for every run.{}</p><ul>",
        c.seed,
        esc(&super::html::node_args_sentence(&c.node_args))
    );
    for s in &c.scenarios {
        super::kv_page::scenario_item(&mut html, s);
    }
    html.push_str(
        "</ul><table><tr><th>variant</th><th>scenario</th><th>linearizable</th>\
         <th>promises</th><th>ok</th><th>info</th><th>fail</th><th>availability</th>\
         <th>msgs/op</th><th>run</th></tr>",
    );
    for r in &c.rows {
        let class = match r.linearizable {
            Validity::Valid => "ok",
            Validity::Invalid => "bad",
            Validity::Unknown => "unk",
        };
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td><td class={class}>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><a href='{}'>files</a></td></tr>",
            esc(&r.variant),
            esc(&r.scenario),
            verdict(r.linearizable),
            if r.promises_linearizable { "yes" } else { "no" },
            r.ok,
            r.info,
            r.fail,
            num(r.availability, 3),
            num(r.msgs_per_op, 2),
            esc(&r.run_dir.join("report.html").display().to_string())
        );
    }
    super::kv_page::readings_and_end(
        &mut html,
        c.rows.iter().filter_map(|r| {
            let reading = r.reading.as_deref()?;
            Some((r.variant.as_str(), r.scenario.as_str(), reading))
        }),
    );
    html
}

/// Run the comparison; prints the table and returns the exit code.
pub fn run(args: &CompareArgs, seed: u64) -> anyhow::Result<u8> {
    if !args.sweep.is_empty() {
        anyhow::bail!("--sweep draws broadcast costs; it does not go with --preset {PRESET}");
    }
    let scenarios = scenarios(args)?;
    let bins = variants(args, &VARIANTS)?;
    println!(
        "comparing {} key-value node(s) over {} scenario(s), seed {seed}{}",
        bins.len(),
        scenarios.len(),
        node_arguments(args)
    );
    let jobs = args.jobs.unwrap_or(1);
    let (outcomes, could_not_run) = run_all(&scenarios, &bins, args, seed, jobs, |_| None)?;
    let rows = outcomes
        .iter()
        .map(|o| row_for(&scenarios[o.scenario], &o.bin, &o.run))
        .collect();
    let comparison = LinKvComparison {
        workload: PRESET,
        seed,
        node_args: args.args.clone(),
        scenarios,
        rows,
    };
    let runs: Vec<(&Path, Validity)> = comparison
        .rows
        .iter()
        .map(|r| (r.run_dir.as_path(), r.valid))
        .collect();
    let dir = write_files(args, &comparison, &render_html(&comparison), &runs)?;
    print!("{}", render_table(&comparison.rows));
    println!("files: {}", dir.display());
    let kept = comparison
        .rows
        .iter()
        .filter(|r| r.promises_linearizable)
        .all(|r| r.linearizable == Validity::Valid && r.valid == Validity::Valid);
    Ok(exit_code(could_not_run, kept))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(variant: &str, linearizable: Validity, reading: Option<&str>) -> LinKvRow {
        LinKvRow {
            variant: variant.into(),
            scenario: "partitions".into(),
            promises_linearizable: promises_linearizable(Path::new(variant)),
            linearizable,
            valid: linearizable,
            ops: 120,
            ok: 80,
            info: 10,
            fail: 30,
            availability: Some(80.0 / 120.0),
            msgs_per_op: Some(21.456),
            reading: reading.map(str::to_owned),
            run_dir: PathBuf::from("store/lin-kv/x"),
        }
    }

    #[test]
    fn promises_follow_the_name() {
        assert!(promises_linearizable(Path::new(
            "target/release/lin-kv-tob"
        )));
        assert!(promises_linearizable(Path::new("lin-kv-leader")));
        assert!(!promises_linearizable(Path::new("kv-gossip")));
        assert!(!promises_linearizable(Path::new("/x/kv-stale-reads")));
    }

    #[test]
    fn one_aligned_line_per_variant_then_the_readings() {
        let text = render_table(&[
            row("lin-kv-tob", Validity::Valid, None),
            row(
                "kv-gossip",
                Validity::Invalid,
                Some("key 1: the read ... missed it"),
            ),
        ]);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("variant") && lines[0].contains("msgs/op"));
        assert!(lines[2].starts_with("lin-kv-tob") && lines[2].contains("yes"));
        assert!(lines[2].contains("0.667") && lines[2].contains("21.46"));
        assert!(lines[3].starts_with("kv-gossip") && lines[3].contains("NO"));
        assert_eq!(lines[2].len(), lines[3].len(), "columns align");
        assert!(text.contains("kv-gossip (partitions): key 1: the read ... missed it"));
        assert!(
            !text.contains("lin-kv-tob (partitions)"),
            "no reading for a pass"
        );
    }

    #[test]
    fn readings_say_why_and_never_pass_an_unknown() {
        let unknown = serde_json::json!({"workload": {"valid": "unknown",
            "unknown_reason": "the time budget of 120s ran out"}});
        assert_eq!(
            reading(&unknown, Validity::Unknown, true).as_deref(),
            Some("no verdict: the time budget of 120s ran out")
        );
        let invalid = serde_json::json!({"workload": {"valid": false,
            "failure": {"explanation": "key 0: the read ..."}}});
        assert_eq!(
            reading(&invalid, Validity::Invalid, false).as_deref(),
            Some("key 0: the read ...")
        );
        assert!(
            reading(&Value::Null, Validity::Valid, false)
                .is_some_and(|r| r.starts_with("not caught"))
        );
        assert_eq!(reading(&Value::Null, Validity::Valid, true), None);
    }
}
