//! `report.html` of a real run with a partition: the charts, one point per client op, the
//! fault intervals, the verdicts, and the same page again from the files alone.

use checker::{EventType, Process, Validity};
use runner::report::{ReportArgs, write_report};
use serde_json::Value;

use crate::harness::{harness_test, node_bin};

/// The part of `page` from the element with `id` to the end of its `</svg>`.
fn svg<'a>(page: &'a str, id: &str) -> &'a str {
    let start = page
        .find(&format!(r#"<svg id="{id}""#))
        .unwrap_or_else(|| panic!("no <svg id=\"{id}\"> in the report"));
    let len = page[start..].find("</svg>").expect("a closed svg") + "</svg>".len();
    &page[start..start + len]
}

/// The sum of the integer attribute `name` over the elements that carry it in `text`.
fn sum_attr(text: &str, name: &str) -> u64 {
    let key = format!(r#" {name}=""#);
    text.match_indices(&key)
        .map(|(i, _)| {
            let rest = &text[i + key.len()..];
            rest[..rest.find('"').expect("closed attribute")]
                .parse::<u64>()
                .expect("an integer attribute")
        })
        .sum()
}

#[test]
fn a_run_with_a_partition_gets_a_report_with_charts_fault_intervals_and_the_verdict() {
    let bin = node_bin("broadcast-eager");
    let run = harness_test(&[
        "-w",
        "broadcast",
        "--bin",
        bin.to_str().unwrap(),
        "--node-count",
        "3",
        "--time-limit",
        "4",
        "--rate",
        "20",
        "--latency",
        "10",
        "--nemesis",
        "partition",
        "--nemesis-interval",
        "1",
        "--recovery-time",
        "1",
        "--seed",
        "11",
    ]);
    assert!(
        run.code <= 2,
        "the run itself failed (exit {}):\n{}\n{}",
        run.code,
        run.stdout,
        run.stderr
    );
    let path = run.dir.join("report.html");
    if !path.exists() {
        write_report(&run.dir).expect("rendering the report");
    }
    let page = std::fs::read_to_string(&path).expect("report.html in the run folder");
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(
        page.len() < 400_000,
        "the page stays light: {} bytes",
        page.len()
    );

    // Three charts: latency, throughput, and the message-sequence diagram.
    assert_eq!(page.matches("<svg").count(), 3);
    let latency = svg(&page, "latency");
    let throughput = svg(&page, "throughput");
    let lamport = svg(&page, "lamport");

    // One point per client op: the points' paths stand for every invocation of the history.
    let invocations = run
        .history
        .iter()
        .filter(|e| e.kind == EventType::Invoke && matches!(e.process, Process::Client(_)))
        .count() as u64;
    assert!(
        invocations > 20,
        "a 4 s run at up to 20 ops/s: {invocations} ops"
    );
    assert_eq!(latency.matches(r#"<path class="pts "#).count(), 4);
    assert_eq!(sum_attr(latency, "data-ops"), invocations);
    let drawn = sum_attr(latency, "data-points");
    assert!(drawn > 0 && drawn <= invocations, "{drawn} points drawn");
    let ok = run
        .history
        .iter()
        .filter(|e| e.kind == EventType::Ok && matches!(e.process, Process::Client(_)))
        .count();
    assert!(latency.contains(&format!(r#"<path class="pts ok" data-ops="{ok}""#)));
    assert!(throughput.contains(r#"<rect class="rate ok""#));

    // Every partition of the history is a shaded, labelled band in both time charts.
    let partitions = run
        .history
        .iter()
        .filter(|e| e.process.is_nemesis() && e.f == "start-partition")
        .count();
    assert!(
        partitions >= 1,
        "seed 11 partitions the cluster at least once"
    );
    for chart in [latency, throughput] {
        assert_eq!(
            chart.matches(r#"<rect class="band partition""#).count(),
            partitions
        );
        assert!(chart.contains(">partition</text>"), "the lane is labelled");
    }
    assert!(page.contains("<h3>Faults</h3>"));

    // The verdict, as results.json has it, and each checker's own.
    let valid: Validity = serde_json::from_value(run.results["valid"].clone()).unwrap();
    let (word, class) = match valid {
        Validity::Valid => ("VALID", "valid"),
        Validity::Invalid => ("INVALID", "invalid"),
        Validity::Unknown => ("UNKNOWN", "unknown"),
    };
    assert!(page.contains(&format!(
        r#"<header id="verdict" class="verdict {class}"><div class="word">{word}</div>"#
    )));
    for checker in ["workload", "ordering", "availability"] {
        assert!(
            page.contains(&format!("<tr><td>{checker}</td>")),
            "{checker}"
        );
        if let Some(v) = run.results[checker].get("valid") {
            let v: Validity = serde_json::from_value(v.clone()).unwrap();
            let badge = match v {
                Validity::Valid => r#"<span class="badge valid">"#,
                Validity::Invalid => r#"<span class="badge invalid">"#,
                Validity::Unknown => r#"<span class="badge unknown">"#,
            };
            let row = page
                .split(&format!("<tr><td>{checker}</td>"))
                .nth(1)
                .unwrap();
            assert!(
                row.starts_with(&format!("<td>{badge}")),
                "{checker}: {row:.80}"
            );
        }
    }
    if valid != Validity::Valid {
        assert!(page.contains(r#"<section id="failure">"#));
    }
    if let Some(seed) = run.results["run"]["seed"].as_u64() {
        assert!(page.contains(&format!("seed {seed}")));
    }

    // The diagram: the three nodes, arrows labelled by body type, capped.
    for node in ["n0", "n1", "n2"] {
        assert!(lamport.contains(&format!(">{node}</text>")), "{node}");
    }
    assert!(lamport.contains(r#"<line class="arrow""#));
    assert!(lamport.contains(">broadcast</text>"));
    let arrows = lamport.matches(r#"<g class="msg"#).count();
    assert_eq!(
        arrows,
        runner::report::DIAGRAM_MESSAGES,
        "hundreds of messages, capped"
    );
    assert!(page.contains(&format!(
        "capped at {}: the other",
        runner::report::DIAGRAM_MESSAGES
    )));

    // From the files alone, `harness report` renders the same page.
    std::fs::remove_file(&path).unwrap();
    let code = runner::report::run(&ReportArgs {
        dir: run.dir.clone(),
    })
    .expect("harness report");
    assert_eq!(code, 0);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), page);
    let again = write_report(&run.dir).unwrap();
    assert_eq!(std::fs::read_to_string(again).unwrap(), page);
    let results: Value =
        serde_json::from_str(&std::fs::read_to_string(run.dir.join("results.json")).unwrap())
            .unwrap();
    assert_eq!(results, run.results, "the report leaves results.json alone");
}
