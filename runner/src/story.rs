//! A run's failure told for people: one headline for a table row (`harness compare` shows it)
//! and a few sentences, from the checkers' results, the history, the message journal and the
//! node problems. `results.json` keeps them as `headline`, `story`, `slow_values` and
//! `story_window`, beside every checker's raw result; the summary on stdout and `report.html`
//! tell them.
//!
//! For a broadcast or g-set run the sentences come from [`checker::story`]: what became of each
//! lost value, the ordering violations, and (`slow_values`) which node lagged behind which
//! partition; for a counter (g-counter, pn-counter), from [`checker::counter`]: each final read
//! out of reach, against the totals the adds could make; for kafka, from [`checker::kafka`]:
//! each anomaly of the logs with the ops that show it. To them this module adds why the harness could not judge the run (it could not
//! run the test, it was interrupted, an op never succeeded) and what the nodes did against the
//! protocol. The headline names the first of: the harness could not run the test; it was
//! interrupted; the workload's failure (lost values, then the order, then duplicates); a
//! node's protocol problem; availability below what was required; a check that could not
//! decide.

use std::path::Path;

use checker::broadcast::BroadcastHistory;
use checker::story::{Story, Window, broadcast_story};
use checker::{Check, Event, RunResults, Validity, WorkloadResult};
use serde_json::{Value, json};
use workloads::WorkloadKind;

use crate::problems::Problem;
use crate::results::AvailabilityResult;

/// What went wrong in a run, for people.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunStory {
    /// One line for a table row; `None` for a valid run.
    pub headline: Option<String>,
    /// What went wrong, one sentence a line (a handful of each kind, then "and N more").
    pub failures: Vec<String>,
    /// The values slowest to appear everywhere (broadcast runs).
    pub slow: Vec<String>,
    /// The part of the run the message diagram shows.
    pub window: Option<Window>,
}

/// Everything a run's story is told from.
pub struct Evidence<'a> {
    pub workload: &'a str,
    pub events: &'a [Event],
    pub checks: &'a RunResults,
    pub problems: &'a [Problem],
    pub availability: Option<&'a AvailabilityResult>,
    /// The service-level objective's verdict (`--slo`).
    pub slo: Option<&'a checker::slo::SloResult>,
    pub abort: Option<&'a str>,
    pub interrupted: bool,
    /// The run's verdict, all parts merged.
    pub valid: Validity,
    /// The run's `messages.jsonl`, if it has one.
    pub journal: Option<&'a Path>,
}

/// `n1 wrote lines that are not protocol messages (3 times, first at 12 ms): {example}`.
fn problem_sentence(p: &Problem) -> String {
    format!(
        "{} {} ({} time{}, first at {:.0} ms): {}",
        p.node,
        p.description,
        p.count,
        if p.count == 1 { "" } else { "s" },
        p.first_at_ms,
        p.example
    )
}

/// Tell the story of a run.
pub fn tell(e: &Evidence<'_>) -> RunStory {
    let mut story = RunStory::default();
    let plan = e
        .workload
        .parse::<WorkloadKind>()
        .ok()
        .map(WorkloadKind::check_plan);
    // A run with Byzantine nodes: set-full judged the correct nodes only, and so is told.
    let judged = e
        .checks
        .byzantine
        .as_ref()
        .and_then(|_| checker::byzantine::ByzantineRun::of(e.events))
        .map(|run| checker::byzantine::judged_events(e.events, &run));
    let events = judged.as_deref().unwrap_or(e.events);
    let workload_story: Option<Story> = match (&e.checks.workload, plan) {
        (WorkloadResult::SetFull(sf), Some(Check::SetFull(ops))) => {
            BroadcastHistory::of(events, ops)
                .ok()
                .map(|h| broadcast_story(&h, sf, e.checks.ordering.as_ref(), e.journal))
        }
        (result, _) => result.story(),
    };
    let mut headlines: Vec<String> = Vec::new();
    if let Some(abort) = e.abort {
        let line = format!("the harness could not run the test: {abort}");
        story.failures.push(line.clone());
        headlines.push(line);
    }
    if e.interrupted {
        let line = "the run was interrupted before its end".to_owned();
        story.failures.push(line.clone());
        headlines.push(line);
    }
    // What the Byzantine nodes made the correct ones do wrong comes before what set-full
    // saw: it is the cause.
    if let Some(b) = &e.checks.byzantine {
        for v in &b.violations {
            let line = format!("{} broken: {}", v.rule, v.explanation);
            story.failures.push(line.clone());
            headlines.push(line);
        }
        if e.valid != Validity::Valid
            && let Some(line) = b.stalled()
        {
            story.failures.push(line.clone());
            headlines.push(line);
        }
        if b.violation_count > b.violations.len() {
            story.failures.push(format!(
                "and {} more violation(s) of Byzantine reliable broadcast (results.json has \
                 the first {})",
                b.violation_count - b.violations.len(),
                b.violations.len()
            ));
        }
    }
    if let Some(s) = &workload_story {
        story.failures.extend(s.failures.iter().cloned());
        story.slow = s.slow.clone();
        story.window = s.window.clone();
        headlines.extend(s.headline.clone());
    } else if e.checks.workload.valid() != Validity::Valid {
        let text = e.checks.workload.to_string();
        let first = match &e.checks.workload {
            // The op that cannot be linearized, and why, rather than the semantics line.
            WorkloadResult::Linearizable(lin) if lin.failure.is_some() => lin
                .failure
                .as_ref()
                .map(|f| f.explanation.clone())
                .unwrap_or_default(),
            _ => text.lines().next().unwrap_or("").trim().to_owned(),
        };
        let line = format!("the {} check did not pass: {first}", e.workload);
        story.failures.push(line.clone());
        headlines.push(line);
    }
    for p in e.problems.iter().filter(|p| p.error) {
        let line = problem_sentence(p);
        story.failures.push(line.clone());
        headlines.push(format!("{} broke the protocol: {line}", p.node));
    }
    if let Some(a) = e.availability.filter(|a| a.valid != Validity::Valid) {
        let line = format!(
            "only {} of {} ops succeeded ({:.1}%), short of the required {}",
            a.ok_count,
            a.op_count,
            a.ok_fraction * 100.0,
            a.required
        );
        story.failures.push(line.clone());
        headlines.push(line);
    }
    if let Some(slo) = e.slo.filter(|s| s.valid != Validity::Valid) {
        let line = format!("the service-level objective was missed: {slo}");
        story.failures.push(line.clone());
        headlines.push(line);
    }
    if let Some(stats) = &e.checks.stats {
        for (f, s) in stats.by_f.iter().filter(|(_, s)| s.ok_count == 0) {
            let line = format!(
                "no {f} ever succeeded ({} invoked: {} failed, {} indefinite): invalid, as \
                 Jepsen's stats checker judges an operation that never succeeds",
                s.count, s.fail_count, s.info_count
            );
            story.failures.push(line.clone());
            headlines.push(line);
        }
    }
    if e.valid != Validity::Valid {
        story.headline = Some(
            headlines
                .into_iter()
                .next()
                .unwrap_or_else(|| format!("the run is {} and no check says why", e.valid)),
        );
    }
    story
}

impl RunStory {
    /// Add `headline`, `story` (what went wrong), `slow_values` and (when there is one)
    /// `story_window` to `results.json`.
    pub fn record(&self, results: &mut serde_json::Map<String, Value>) {
        results.insert("headline".into(), json!(self.headline));
        results.insert("story".into(), json!(self.failures));
        results.insert("slow_values".into(), json!(self.slow));
        if let Some(window) = &self.window {
            results.insert("story_window".into(), json!(window));
        }
    }

    /// The summary's lines: the headline, the failures (a handful of each kind already), then
    /// at most `slow` of the slow values.
    pub fn summary(&self, slow: usize) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(h) = &self.headline {
            out.push(format!("what went wrong: {h}"));
        }
        if !self.failures.is_empty() {
            out.push("the story:".to_owned());
            out.extend(self.failures.iter().map(|l| format!("  {l}")));
        }
        if !self.slow.is_empty() {
            out.push("slowest to reach every read:".to_owned());
            out.extend(self.slow.iter().take(slow).map(|l| format!("  {l}")));
            if self.slow.len() > slow {
                out.push(format!("  and {} more", self.slow.len() - slow));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use checker::{RunCheckOptions, parse_history};
    use workloads::check_run;

    use super::*;
    use crate::problems::{ProblemKind, Problems};

    fn evidence<'a>(
        events: &'a [Event],
        checks: &'a RunResults,
        problems: &'a [Problem],
    ) -> Evidence<'a> {
        Evidence {
            workload: "broadcast",
            events,
            checks,
            problems,
            availability: None,
            slo: None,
            abort: None,
            interrupted: false,
            valid: checks.valid,
            journal: None,
        }
    }

    #[test]
    fn a_protocol_problem_heads_a_run_whose_checks_passed() {
        let text = r#"{"index":0,"time":0,"process":0,"node":"n0","type":"invoke","f":"broadcast","value":1}
{"index":1,"time":1000000,"process":0,"node":"n0","type":"ok","f":"broadcast","value":1}
{"index":2,"time":2000000,"process":1,"node":"n1","type":"invoke","f":"read","value":null}
{"index":3,"time":3000000,"process":1,"node":"n1","type":"ok","f":"read","value":[1]}
"#;
        let events = parse_history("h", text.as_bytes()).unwrap();
        let checks = check_run("broadcast", &events, &RunCheckOptions::default());
        let mut problems = Problems::default();
        problems.record("n2", ProblemKind::MalformedLine, 12_000_000, || {
            "hello".into()
        });
        let problems = problems.list();
        let mut e = evidence(&events, &checks, &problems);
        e.valid = Validity::Invalid;
        let story = tell(&e);
        assert_eq!(
            story.headline.as_deref(),
            Some(
                "n2 broke the protocol: n2 wrote lines that are not protocol messages \
                 (1 time, first at 12 ms): hello"
            )
        );
        let mut results = serde_json::Map::new();
        story.record(&mut results);
        assert_eq!(results["story"].as_array().unwrap().len(), 1);
        assert!(results.get("story_window").is_none());
        let summary = story.summary(5);
        assert!(summary[0].starts_with("what went wrong: n2 broke the protocol"));
    }

    #[test]
    fn a_valid_run_has_no_headline_and_an_op_that_never_succeeded_says_why_it_is_invalid() {
        let text = r#"{"index":0,"time":0,"process":0,"node":"n0","type":"invoke","f":"broadcast","value":1}
{"index":1,"time":1000000,"process":0,"node":"n0","type":"ok","f":"broadcast","value":1}
{"index":2,"time":2000000,"process":1,"node":"n1","type":"invoke","f":"read","value":null}
{"index":3,"time":3000000,"process":1,"node":"n1","type":"fail","f":"read","value":null}
"#;
        let events = parse_history("h", text.as_bytes()).unwrap();
        let checks = check_run("broadcast", &events, &RunCheckOptions::default());
        assert_eq!(checks.valid, Validity::Invalid);
        let story = tell(&evidence(&events, &checks, &[]));
        let headline = story.headline.unwrap();
        assert!(
            headline.starts_with("none of the 1 broadcast values was ever in every later read"),
            "{headline}"
        );
        assert!(
            story.failures.iter().any(|l| l
                .starts_with("no read ever succeeded (1 invoked: 1 failed")
                && l.contains("invalid, as Jepsen's stats checker")),
            "{:?}",
            story.failures
        );
        let mut checks = checks;
        checks.valid = Validity::Valid;
        let mut e = evidence(&events, &checks, &[]);
        e.valid = Validity::Valid;
        assert_eq!(tell(&e).headline, None);
    }

    #[test]
    fn a_counter_whose_final_read_is_out_of_reach_is_told_with_the_possible_totals() {
        let text = r#"{"index":0,"time":0,"process":0,"node":"n0","type":"invoke","f":"add","value":-3}
{"index":1,"time":1000000,"process":0,"node":"n0","type":"ok","f":"add","value":-3}
{"index":2,"time":2000000,"process":1,"node":"n1","type":"invoke","f":"read","value":null,"final":true}
{"index":3,"time":3000000,"process":1,"node":"n1","type":"ok","f":"read","value":-6,"final":true}
"#;
        let events = parse_history("h", text.as_bytes()).unwrap();
        let checks = check_run("pn-counter", &events, &RunCheckOptions::default());
        let mut e = evidence(&events, &checks, &[]);
        e.workload = "pn-counter";
        let story = tell(&e);
        assert_eq!(
            story.headline.as_deref(),
            Some(
                "1 final read out of reach of every possible total: n1 returned -6, less than \
                 the smallest total (-3)"
            )
        );
        assert_eq!(
            story.failures,
            vec![
                "the final read at n1 (event 3) returned -6, but the 1 add that succeeded was -3: \
                 -6 is 3 below the smallest possible total, as if some acknowledged add were lost \
                 or some decrement counted more than once"
            ]
        );
    }
}
