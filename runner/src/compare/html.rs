//! `compare.html`: the comparison as one self-contained page (inline CSS and SVG).

use std::fmt::Write;

use checker::Validity;

use super::charts::Figure;
use super::{Comparison, Row};
use crate::report::html::esc;

/// " Every node program ran with: ARGS." when there were arguments.
pub(crate) fn node_args_sentence(args: &[String]) -> String {
    if args.is_empty() {
        String::new()
    } else {
        format!(" Every node program ran with: {}.", args.join(" "))
    }
}

fn cell(v: Validity) -> &'static str {
    match v {
        Validity::Valid => "<td class=ok>ok</td>",
        Validity::Invalid => "<td class=bad>broken</td>",
        Validity::Unknown => "<td class=unk>unknown</td>",
    }
}

/// The link from `compare.html` to a run's `report.html`. The comparison lives in
/// `STORE/compare/<timestamp>/` and each run in `STORE/<workload>/<timestamp>/`, so the link
/// climbs two folders and names the run's last two: it opens from the compare folder wherever
/// the store is.
pub(crate) fn report_link(run_dir: &std::path::Path) -> String {
    let mut tail: Vec<String> = run_dir
        .iter()
        .rev()
        .take(2)
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    tail.reverse();
    format!("../../{}/{}", tail.join("/"), crate::report::REPORT_FILE)
}

/// A horizontal bar chart of one figure per row.
fn bars(title: &str, rows: &[Row], value: impl Fn(&Row) -> Option<f64>, unit: &str) -> String {
    let max = rows
        .iter()
        .filter_map(&value)
        .fold(0.0_f64, f64::max)
        .max(1e-9);
    let (label_w, bar_w, row_h) = (330.0, 420.0, 22.0);
    let height = row_h * rows.len() as f64 + 30.0;
    let mut svg = format!(
        "<figure><figcaption>{}</figcaption><svg xmlns='http://www.w3.org/2000/svg' \
         width='{}' height='{height}' role='img'>",
        esc(title),
        label_w + bar_w + 90.0
    );
    for (i, row) in rows.iter().enumerate() {
        let y = 10.0 + i as f64 * row_h;
        let _ = write!(
            svg,
            "<text x='{}' y='{}' text-anchor='end'>{} · {}</text>",
            label_w - 8.0,
            y + 14.0,
            esc(&row.variant),
            esc(&row.scenario)
        );
        match value(row) {
            Some(v) => {
                let w = (v / max * bar_w).max(1.0);
                let class = if row.valid == Validity::Valid {
                    "bar"
                } else {
                    "bar badbar"
                };
                let _ = write!(
                    svg,
                    "<rect class='{class}' x='{label_w}' y='{y}' width='{w:.1}' height='{}'/>\
                     <text x='{:.1}' y='{}'>{v:.2} {unit}</text>",
                    row_h - 6.0,
                    label_w + w + 6.0,
                    y + 14.0
                );
            }
            None => {
                let _ = write!(svg, "<text x='{label_w}' y='{}'>no data</text>", y + 14.0);
            }
        }
    }
    svg.push_str("</svg></figure>");
    svg
}

/// One bar chart per figure, one bar per run.
fn bar_charts(c: &Comparison) -> String {
    let figures: [(&str, Figure, &str); 7] = [
        ("Server messages per client op", |r| r.msgs_per_op, ""),
        (
            "Server messages per broadcast",
            |r| r.msgs_per_broadcast,
            "",
        ),
        (
            "Copies per broadcast: how many times each value crossed a link",
            |r| r.copies_per_broadcast,
            "",
        ),
        (
            "Broadcast latency p50 (ms): invoke to broadcast_ok",
            |r| r.latencies.broadcast.p50_ms,
            "ms",
        ),
        (
            "Visibility latency p50 (ms): invoke to visible in every read",
            |r| r.latencies.visibility.p50_ms,
            "ms",
        ),
        (
            "Visibility latency max (ms)",
            |r| r.latencies.visibility.max_ms,
            "ms",
        ),
        (
            "Stable latency max (ms): acknowledged to visible in every read",
            |r| r.latencies.stable.max_ms,
            "ms",
        ),
    ];
    figures
        .iter()
        .map(|(title, figure, unit)| bars(title, &c.rows, figure, unit))
        .collect()
}

/// The page.
pub fn render(c: &Comparison) -> String {
    let mut html = String::from(
        "<!doctype html><html><head><meta charset='utf-8'><title>broadcast comparison</title>\
         <style>body{font:14px system-ui,sans-serif;margin:24px;color:#222}\
         table{border-collapse:collapse}td,th{padding:4px 10px;border-bottom:1px solid #ddd;\
         text-align:right}td:first-child,td:nth-child(2),th:first-child,th:nth-child(2)\
         {text-align:left}.ok{color:#1a7f37}.bad{color:#c62828;font-weight:bold}\
         .unk{color:#a66f00}svg text{font:12px system-ui,sans-serif}.bar{fill:#4f7cac}\
         .badbar{fill:#c62828}figure{margin:24px 0}figcaption{font-weight:bold;margin:6px 0}\
         th{text-align:center}.note{color:#555;max-width:900px}ul.why li{margin:4px 0}\
         </style></head><body><h1>Broadcast algorithms side by side</h1>",
    );
    let sweeps: Vec<String> = c
        .sweeps
        .iter()
        .map(|s| format!(" {} took the values {}.", s.param, s.values.join(", ")))
        .collect();
    let _ = write!(
        html,
        "<p>Seed {} for every run{}.{}{}</p><h2>Scenarios</h2><ul>",
        c.seed,
        if c.sim { ", simulated" } else { "" },
        esc(&node_args_sentence(&c.node_args)),
        esc(&sweeps.concat())
    );
    for s in &c.scenarios {
        let faults = if s.nemesis.is_empty() {
            "no faults".to_owned()
        } else {
            format!(
                "{} every {} s on average",
                s.nemesis.join(", "),
                s.nemesis_interval_s
            )
        };
        let _ = write!(
            html,
            "<li><b>{}</b>: {} nodes, {} topology, latency {} ms, {} ops/s for {} s, {}, \
             {} s recovery</li>",
            esc(&s.name),
            s.node_count,
            esc(&s.topology),
            s.latency_ms,
            s.rate,
            s.time_limit_s,
            esc(&faults),
            s.recovery_time_s
        );
    }
    html.push_str(
        "</ul><h2>Results</h2><table><tr><th rowspan=2>variant</th><th rowspan=2>scenario</th>\
         <th colspan=2>server msgs per</th><th rowspan=2>copies per broadcast</th>\
         <th colspan=2>broadcast latency</th>\
         <th colspan=2>visibility latency</th><th colspan=3>stable latency</th>\
         <th rowspan=2>lost</th><th rowspan=2>duplicated</th><th colspan=3>order kept</th>\
         <th rowspan=2>promises</th><th rowspan=2>valid</th><th rowspan=2>run</th></tr>\
         <tr><th>op</th><th>broadcast</th><th>p50 ms</th><th>max ms</th><th>p50 ms</th>\
         <th>max ms</th><th>p50 ms</th><th>p95 ms</th><th>max ms</th><th>fifo</th>\
         <th>causal</th><th>total</th></tr>",
    );
    let num = |x: Option<f64>, d: usize| x.map_or_else(|| "-".into(), |x| format!("{x:.d$}"));
    for r in &c.rows {
        let l = &r.latencies;
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td>",
            esc(&r.variant),
            esc(&r.scenario)
        );
        for figure in [
            num(r.msgs_per_op, 2),
            num(r.msgs_per_broadcast, 2),
            num(r.copies_per_broadcast, 1),
            num(l.broadcast.p50_ms, 0),
            num(l.broadcast.max_ms, 0),
            num(l.visibility.p50_ms, 0),
            num(l.visibility.max_ms, 0),
            num(l.stable.p50_ms, 0),
            num(l.stable.p95_ms, 0),
            num(l.stable.max_ms, 0),
            r.lost.map_or("-".into(), |x| x.to_string()),
            r.duplicated.map_or("-".into(), |x| x.to_string()),
        ] {
            let _ = write!(html, "<td>{}</td>", esc(&figure));
        }
        let _ = write!(
            html,
            "{}{}{}<td>{}</td>{}<td><a href='{}'>report</a></td></tr>",
            cell(r.fifo),
            cell(r.causal),
            cell(r.total),
            esc(r.promises.as_deref().unwrap_or("-")),
            cell(r.valid),
            esc(&report_link(&r.run_dir))
        );
    }
    html.push_str(
        "</table><p class=note>Server msgs per op: server-to-server messages per client op \
         (final reads included); per broadcast: per broadcast invocation. Copies per \
         broadcast: how many times each broadcast value crossed a link between servers, \
         whatever batching packed into one message (n(n-1) for eager reliable broadcast). \
         Broadcast latency: \
         from a broadcast's invocation to its broadcast_ok, what the client waits. Visibility \
         latency: from the invocation to the moment every read has the value. Stable latency: \
         Jepsen's set-full figure, from the moment the value was acknowledged (or first read) \
         to the last read that still missed it; a node that acknowledges late shows 0 here \
         while the client waits.</p>",
    );
    let not_valid: Vec<&Row> = c
        .rows
        .iter()
        .filter(|r| r.valid != Validity::Valid)
        .collect();
    if !not_valid.is_empty() {
        html.push_str("<h2>Why not valid</h2><ul class=why>");
        for r in not_valid {
            let _ = write!(
                html,
                "<li><b>{}</b> ({}): {} <a href='{}'>report</a> · <code>{}</code></li>",
                esc(&r.variant),
                esc(&r.scenario),
                esc(r.why.as_deref().unwrap_or("no reason recorded")),
                esc(&report_link(&r.run_dir)),
                esc(&r.run_dir.display().to_string())
            );
        }
        html.push_str("</ul>");
    }
    if c.sweeps.is_empty() {
        html.push_str(&bar_charts(c));
    } else {
        // A sweep's runs are drawn against the swept value instead of one bar each.
        html.push_str(&super::charts::sweep_charts(c));
    }
    html.push_str("</body></html>\n");
    html
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::super::{Latencies, Spread};
    use super::*;

    fn row(variant: &str, valid: Validity, why: Option<&str>) -> Row {
        let spread = Spread {
            p50_ms: Some(12.0),
            p95_ms: Some(30.0),
            max_ms: Some(40.0),
        };
        Row {
            variant: variant.into(),
            program: variant.into(),
            node_args: Vec::new(),
            settings: Vec::new(),
            node_count: 5,
            scenario: "partitions and kills".into(),
            promises: None,
            msgs_per_op: Some(2.5),
            msgs_per_broadcast: Some(5.0),
            copies_per_broadcast: Some(20.0),
            latencies: Latencies {
                broadcast: spread,
                visibility: spread,
                stable: spread,
            },
            lost: Some(if valid == Validity::Valid { 0 } else { 3 }),
            duplicated: Some(0),
            fifo: Validity::Valid,
            causal: Validity::Valid,
            total: Validity::Invalid,
            valid,
            why: why.map(str::to_owned),
            ops_ok: 10,
            ops_total: 10,
            run_dir: PathBuf::from(format!("/tmp/store/broadcast/2026{variant}")),
        }
    }

    #[test]
    fn rows_link_to_their_reports_and_an_invalid_one_says_why() {
        let c = Comparison {
            seed: 7,
            node_args: vec![],
            sim: false,
            sweeps: vec![],
            scenarios: vec![],
            rows: vec![
                row("eager", Validity::Valid, None),
                row(
                    "lossy<b>",
                    Validity::Invalid,
                    Some("3 acknowledged values lost after the kill of n0, n3, n4 at 4.10 s"),
                ),
            ],
        };
        let html = render(&c);
        assert!(html.contains("<a href='../../broadcast/2026eager/report.html'>report</a>"));
        let why = &html[html.find("<h2>Why not valid</h2>").expect("a why section")..];
        assert!(why.contains(
            "<li><b>lossy&lt;b&gt;</b> (partitions and kills): 3 acknowledged values lost after \
             the kill of n0, n3, n4 at 4.10 s <a href='../../broadcast/2026lossy&lt;b&gt;/report.html'>report</a>"
        ), "{why}");
        assert!(
            !why.contains("<b>eager</b>"),
            "a valid row has no line of why"
        );
        for head in [
            "broadcast latency",
            "visibility latency",
            "stable latency",
            "server msgs per",
        ] {
            assert!(html.contains(head), "{head}");
        }
        let all_valid = Comparison {
            rows: vec![row("eager", Validity::Valid, None)],
            ..c
        };
        assert!(!render(&all_valid).contains("Why not valid"));
    }
}
