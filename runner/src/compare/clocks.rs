//! `harness compare --preset clocks`: what clock skew breaks (the course's 3.1 physical clocks,
//! 3.3 Lamport clocks, 5.1 last-writer-wins). The same last-writer-wins store stamped by
//! Lamport clocks (`kv-gossip`) and by wall clocks (`kv-gossip-wall-clock`), side by side,
//! without faults and under `--nemesis clock` (clocks stepped, slewed, strobed, given leap
//! seconds), each over [`RUNS`] seeds (the given one and the next ones), on the `lww-register`
//! workload: a run is caught when some key's final value is a write that an acknowledged
//! write causally follows (a lost write), a node showed a write causally older than one it had
//! shown before (a causally stale read: the later write was lost there), or the replicas never
//! converged.
//!
//! From each variant and scenario the table takes: the runs, how many were caught, the lost
//! writes, causally stale reads and unconverged keys summed over the runs, the acknowledged
//! writes, and server messages per op (the mean). Below it, for each variant and scenario
//! caught, the checker's headline of its first run that lost a write (else of its first caught
//! run): the causal chain, the two writers, the skew of their clocks; and that run's folder. A
//! variant keeps causality unless its name says it stamps with wall clocks.
//!
//! Under `--sim` the runs are deterministic and fast (a virtual clock per node); as processes
//! the nodes' clocks are bent by libfaketime (Debian's faketime package). The exit code is 0
//! when every variant that keeps causality was valid in every run, 1 when one was not, 3 when
//! a run could not start.

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
pub const PRESET: &str = "clocks";

/// The store stamped by Lamport clocks, then by wall clocks.
pub const VARIANTS: [&str; 2] = ["kv-gossip", "kv-gossip-wall-clock"];

/// Runs per variant and scenario, at seeds `seed .. seed + RUNS`: one run under clock faults
/// catches the wall-clock store most of the time (about 9 runs in 10 when simulated), not
/// always.
pub const RUNS: u64 = 5;

/// One variant under one scenario, over [`RUNS`] seeds.
#[derive(Debug, Clone, Serialize)]
pub struct ClockRow {
    pub variant: String,
    pub scenario: String,
    /// True unless the variant stamps writes with wall clocks.
    pub keeps_causality: bool,
    pub runs: usize,
    /// Runs whose lww-register check failed.
    pub caught: usize,
    /// Keys that lost a causally later write, over every run.
    pub lost_writes: u64,
    /// Reads of a write causally older than one their node had shown, over every run.
    pub stale_reads: u64,
    /// Keys whose final reads disagree, over every run.
    pub diverged: u64,
    pub acknowledged_writes: u64,
    /// Mean server messages per client op.
    pub msgs_per_op: Option<f64>,
    /// The worst overall verdict of the runs.
    pub valid: Validity,
    /// The checker's story of the first caught run, or why a run has no verdict.
    pub reading: Option<String>,
    /// The seed and folder of each run.
    pub runs_at: Vec<(u64, PathBuf)>,
}

/// What `compare.json` holds for this preset.
#[derive(Debug, Serialize)]
pub struct ClockComparison {
    pub workload: &'static str,
    /// The first seed; the runs of each row use this one and the next [`RUNS`] - 1.
    pub seed: u64,
    pub seeds: Vec<u64>,
    pub sim: bool,
    pub node_args: Vec<String>,
    pub scenarios: Vec<Scenario>,
    pub rows: Vec<ClockRow>,
}

/// Three nodes, two clients each, four keys at a time that take 16 writes each, 60 ops/s:
/// enough keys that a write lost at a node is often read back there before a concurrent
/// write hides it; clock faults every two seconds on average.
fn scenarios(args: &CompareArgs) -> anyhow::Result<Vec<Scenario>> {
    let base = |name: &str, nemesis: &[&str]| Scenario {
        name: name.into(),
        workload: WorkloadKind::LwwRegister,
        node_count: 3,
        clients_per_node: 2,
        time_limit_s: 10.0,
        rate: 60.0,
        latency_ms: 10,
        latency_dist: LatencyDist::Exponential,
        topology: "grid".into(),
        key_count: Some(4),
        nemesis: nemesis.iter().map(|s| (*s).to_owned()).collect(),
        nemesis_targets: Vec::new(),
        nemesis_interval_s: 2.0,
        recovery_time_s: 5.0,
        byzantine: 0,
    };
    adjust(
        vec![base("no faults", &[]), base("clock", &["clock"])],
        args,
    )
}

/// True unless the node stamps writes with wall clocks, by its name.
pub fn keeps_causality(bin: &Path) -> bool {
    !name_of(bin).contains("wall-clock")
}

/// The row of one variant under one scenario from its runs `(seed, outcome)`.
fn row_for(
    scenario: &Scenario,
    bin: &Path,
    runs: &[(u64, &crate::results::RunOutcome)],
) -> ClockRow {
    let count = |r: &Value, k: &str| r["workload"][k].as_u64().unwrap_or(0);
    let caught_run = |r: &Value| r["workload"]["valid"] == Value::Bool(false);
    let keeps = keeps_causality(bin);
    let caught: Vec<&(u64, &crate::results::RunOutcome)> = runs
        .iter()
        .filter(|(_, o)| caught_run(&o.results))
        .collect();
    let undecided = runs
        .iter()
        .find(|(_, o)| !caught_run(&o.results) && o.results["workload"]["valid"] != true);
    // A run that lost a write at the end tells the plainest story: prefer it.
    let first = caught
        .iter()
        .find(|(_, o)| count(&o.results, "lost_write_count") > 0)
        .or(caught.first());
    let reading = match (first, undecided) {
        (Some((seed, o)), _) => Some(format!(
            "seed {seed}: {}",
            o.results["headline"]
                .as_str()
                .unwrap_or("the lww-register check failed")
        )),
        (None, Some((seed, o))) => Some(format!(
            "seed {seed}: no verdict: {}",
            o.results["headline"]
                .as_str()
                .unwrap_or("the check did not finish")
        )),
        (None, None) if !keeps && !scenario.nemesis.is_empty() => Some(format!(
            "not caught in {} runs: no write lost to a causally earlier one, no causally stale \
             read (try other seeds)",
            runs.len()
        )),
        (None, None) => None,
    };
    let per_op: Vec<f64> = runs
        .iter()
        .filter_map(|(_, o)| o.results["net"]["servers"]["msgs_per_op"].as_f64())
        .collect();
    ClockRow {
        variant: name_of(bin),
        scenario: scenario.name.clone(),
        keeps_causality: keeps,
        runs: runs.len(),
        caught: caught.len(),
        lost_writes: runs
            .iter()
            .map(|(_, o)| count(&o.results, "lost_write_count"))
            .sum(),
        stale_reads: runs
            .iter()
            .map(|(_, o)| count(&o.results, "causally_stale_read_count"))
            .sum(),
        diverged: runs
            .iter()
            .map(|(_, o)| count(&o.results, "diverged_count"))
            .sum(),
        acknowledged_writes: runs
            .iter()
            .map(|(_, o)| count(&o.results, "acknowledged_write_count"))
            .sum(),
        msgs_per_op: (!per_op.is_empty()).then(|| per_op.iter().sum::<f64>() / per_op.len() as f64),
        valid: Validity::all(runs.iter().map(|(_, o)| o.valid)),
        reading,
        runs_at: runs.iter().map(|(s, o)| (*s, o.dir.clone())).collect(),
    }
}

/// The table, one line per variant and scenario, then the readings.
pub fn render_table(rows: &[ClockRow]) -> String {
    let header = [
        "variant",
        "scenario",
        "keeps causality",
        "runs",
        "caught",
        "lost writes",
        "stale reads",
        "diverged",
        "acked writes",
        "msgs/op",
    ];
    let mut cells: Vec<Vec<String>> = vec![header.iter().map(|s| (*s).to_owned()).collect()];
    for row in rows {
        cells.push(vec![
            row.variant.clone(),
            row.scenario.clone(),
            if row.keeps_causality { "yes" } else { "no" }.to_owned(),
            row.runs.to_string(),
            row.caught.to_string(),
            row.lost_writes.to_string(),
            row.stale_reads.to_string(),
            row.diverged.to_string(),
            row.acknowledged_writes.to_string(),
            num(row.msgs_per_op, 2),
        ]);
    }
    let mut out = align(&cells);
    out.push_str(
        "caught: runs whose lww-register check failed; lost writes: keys whose final value is a \
         write that an acknowledged write causally follows; stale reads: reads of a write \
         causally older than one the node had shown; diverged: keys whose final reads disagree \
         (each summed over the runs)\n",
    );
    let readings: Vec<&ClockRow> = rows.iter().filter(|r| r.reading.is_some()).collect();
    if !readings.is_empty() {
        out.push_str("\nreadings:\n");
        for row in readings {
            let first = row
                .runs_at
                .iter()
                .find(|(s, _)| {
                    row.reading
                        .as_deref()
                        .is_some_and(|r| r.starts_with(&format!("seed {s}:")))
                })
                .or(row.runs_at.first());
            let _ = writeln!(
                out,
                "{} ({}): {}{}",
                row.variant,
                row.scenario,
                row.reading.as_deref().unwrap_or_default(),
                first.map_or_else(String::new, |(_, d)| format!("\n  files: {}", d.display()))
            );
        }
    }
    out
}

/// `compare.html`: the scenarios, the table and the readings on one page.
fn render_html(c: &ClockComparison) -> String {
    let mut html = super::kv_page::head(
        "clock comparison",
        "Last-writer-wins under clock skew: Lamport stamps and wall-clock stamps",
    );
    let _ = write!(
        html,
        "<p>Seeds {} for every variant{}.{}</p><ul>",
        c.seeds
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        if c.sim { ", simulated" } else { "" },
        esc(&super::html::node_args_sentence(&c.node_args))
    );
    for s in &c.scenarios {
        super::kv_page::scenario_item(&mut html, s);
    }
    html.push_str(
        "</ul><table><tr><th>variant</th><th>scenario</th><th>keeps causality</th>\
         <th>runs</th><th>caught</th><th>lost writes</th><th>stale reads</th><th>diverged</th>\
         <th>acked writes</th><th>msgs/op</th><th>runs</th></tr>",
    );
    for r in &c.rows {
        let class = if r.caught == 0 { "ok" } else { "bad" };
        let links: Vec<String> = r
            .runs_at
            .iter()
            .map(|(seed, dir)| {
                format!(
                    "<a href='{}'>{seed}</a>",
                    esc(&dir.join("report.html").display().to_string())
                )
            })
            .collect();
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class={class}>{}</td>\
             <td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&r.variant),
            esc(&r.scenario),
            if r.keeps_causality { "yes" } else { "no" },
            r.runs,
            r.caught,
            r.lost_writes,
            r.stale_reads,
            r.diverged,
            r.acknowledged_writes,
            num(r.msgs_per_op, 2),
            links.join(" ")
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
    let seeds: Vec<u64> = (0..RUNS).map(|i| seed.wrapping_add(i)).collect();
    println!(
        "comparing {} key-value node(s) over {} scenario(s), seeds {}{}",
        bins.len(),
        scenarios.len(),
        seeds
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        node_arguments(args)
    );
    let jobs = args.jobs.unwrap_or_else(|| {
        if args.sim {
            std::thread::available_parallelism().map_or(1, usize::from)
        } else {
            // Light runs (3 nodes, 30 ops/s): several at once.
            4
        }
    });
    let mut could_not_run = false;
    // Per seed, the outcomes in run_all's order (scenario by scenario, variant by variant).
    let mut by_seed = Vec::new();
    for &s in &seeds {
        let (outcomes, failed) = run_all(&scenarios, &bins, args, s, jobs, |_| None)?;
        could_not_run |= failed;
        by_seed.push((s, outcomes));
    }
    let mut rows = Vec::new();
    for (i, scenario) in scenarios.iter().enumerate() {
        for bin in &bins {
            let runs: Vec<(u64, &crate::results::RunOutcome)> = by_seed
                .iter()
                .flat_map(|(s, outcomes)| {
                    outcomes
                        .iter()
                        .filter(|o| o.scenario == i && &o.bin == bin)
                        .map(|o| (*s, &o.run))
                })
                .collect();
            rows.push(row_for(scenario, bin, &runs));
        }
    }
    let comparison = ClockComparison {
        workload: WorkloadKind::LwwRegister.name(),
        seed,
        seeds,
        sim: args.sim,
        node_args: args.args.clone(),
        scenarios,
        rows,
    };
    let runs: Vec<(&Path, Validity)> = comparison
        .rows
        .iter()
        .flat_map(|r| r.runs_at.iter().map(move |(_, d)| (d.as_path(), r.valid)))
        .collect();
    let dir = write_files(args, &comparison, &render_html(&comparison), &runs)?;
    print!("{}", render_table(&comparison.rows));
    println!("files: {}", dir.display());
    let kept = comparison
        .rows
        .iter()
        .filter(|r| r.keeps_causality)
        .all(|r| r.caught == 0 && r.valid == Validity::Valid);
    Ok(exit_code(could_not_run, kept))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(variant: &str, scenario: &str, caught: usize, reading: Option<&str>) -> ClockRow {
        ClockRow {
            variant: variant.into(),
            scenario: scenario.into(),
            keeps_causality: keeps_causality(Path::new(variant)),
            runs: 5,
            caught,
            lost_writes: caught as u64 * 2,
            stale_reads: caught as u64 * 3,
            diverged: 0,
            acknowledged_writes: 700,
            msgs_per_op: Some(0.8712),
            valid: if caught == 0 {
                Validity::Valid
            } else {
                Validity::Invalid
            },
            reading: reading.map(str::to_owned),
            runs_at: (0..5)
                .map(|s| (7 + s, PathBuf::from(format!("store/lww-register/{s}"))))
                .collect(),
        }
    }

    #[test]
    fn the_wall_clock_store_is_the_one_that_does_not_keep_causality() {
        assert!(keeps_causality(Path::new("target/debug/kv-gossip")));
        assert!(!keeps_causality(Path::new("kv-gossip-wall-clock")));
    }

    #[test]
    fn one_aligned_line_per_variant_and_scenario_then_the_readings_with_their_run() {
        let text = render_table(&[
            row("kv-gossip", "clock", 0, None),
            row(
                "kv-gossip-wall-clock",
                "clock",
                4,
                Some("seed 8: 1 key lost an acknowledged write ..."),
            ),
        ]);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("variant") && lines[0].contains("lost writes"));
        assert!(lines[2].starts_with("kv-gossip ") && lines[2].contains("yes"));
        assert!(lines[2].contains("0.87"));
        assert!(lines[3].starts_with("kv-gossip-wall-clock") && lines[3].contains(" no "));
        assert_eq!(lines[2].len(), lines[3].len(), "columns align");
        assert!(text.contains(
            "kv-gossip-wall-clock (clock): seed 8: 1 key lost an acknowledged write ...\n  \
             files: store/lww-register/1"
        ));
        assert!(!text.contains("kv-gossip (clock)"), "no reading for a pass");
    }
}
