//! The charts of a sweep in `compare.html`: a figure against the swept value, one line per
//! variant (SVG, drawn here, no script), with the course's reference curves (n(n-1) and
//! n log2 n) when the swept value is the node count; and the cost / latency frontier: server
//! messages per op against visibility latency, each run a point, the Gossip Glomers limits
//! drawn, the runs no other beats on both marked.

use std::fmt::Write;

use super::sweep::NODE_COUNT;
use super::{Comparison, Row};
use crate::report::html::esc;

const COLORS: [&str; 8] = [
    "#4f7cac", "#c0504d", "#9bbb59", "#8064a2", "#f79646", "#2c9fa0", "#7f7f7f", "#b5a000",
];
const REFERENCE: &str = "#999";

/// One figure of a run.
pub(super) type Figure = fn(&Row) -> Option<f64>;

/// One line of a chart.
struct Series {
    label: String,
    points: Vec<(f64, f64)>,
    dashed: bool,
}

/// How values map to pixels along one axis.
#[derive(Clone, Copy)]
struct Axis {
    lo: f64,
    hi: f64,
    log: bool,
    from: f64,
    to: f64,
}

impl Axis {
    fn new(values: impl Iterator<Item = f64>, log: bool, from: f64, to: f64) -> Axis {
        let values: Vec<f64> = values
            .filter(|v| v.is_finite() && (!log || *v > 0.0))
            .collect();
        let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let (lo, hi) = if lo.is_finite() {
            (lo, hi)
        } else {
            (1.0, 10.0)
        };
        let (lo, hi) = if log {
            (
                10f64.powf(lo.log10().floor()),
                10f64.powf(hi.log10().ceil().max(lo.log10().floor() + 1.0)),
            )
        } else {
            let lo = if lo >= 0.0 { 0.0 } else { lo };
            (lo, if hi > lo { hi * 1.05 } else { lo + 1.0 })
        };
        Axis {
            lo,
            hi,
            log,
            from,
            to,
        }
    }

    fn at(&self, v: f64) -> f64 {
        let t = if self.log {
            (v.max(self.lo).log10() - self.lo.log10()) / (self.hi.log10() - self.lo.log10())
        } else {
            (v - self.lo) / (self.hi - self.lo)
        };
        self.from + t * (self.to - self.from)
    }

    fn contains(&self, v: f64) -> bool {
        v >= self.lo && v <= self.hi && (!self.log || v > 0.0)
    }

    /// Tick values: 1, 2, 5 times the powers of ten on a log axis; about five round steps on a
    /// linear one.
    fn ticks(&self) -> Vec<f64> {
        if self.log {
            let mut out = Vec::new();
            let mut p = self.lo;
            while p <= self.hi * 1.000_001 {
                for m in [1.0, 2.0, 5.0] {
                    let v = p * m;
                    if v <= self.hi * 1.000_001 {
                        out.push(v);
                    }
                }
                p *= 10.0;
            }
            return out;
        }
        let raw = (self.hi - self.lo) / 5.0;
        let mag = 10f64.powf(raw.log10().floor());
        let step = [1.0, 2.0, 5.0, 10.0]
            .iter()
            .map(|m| m * mag)
            .find(|s| *s >= raw)
            .unwrap_or(mag * 10.0);
        let mut out = Vec::new();
        let mut v = (self.lo / step).ceil() * step;
        while v <= self.hi {
            out.push(v);
            v += step;
        }
        out
    }
}

fn tick_text(v: f64) -> String {
    if v >= 10_000.0 {
        format!("{:.0}k", v / 1000.0)
    } else if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

const W: f64 = 620.0;
const H: f64 = 340.0;
const LEFT: f64 = 70.0;
const BOTTOM: f64 = 45.0;
const TOP: f64 = 15.0;
const LEGEND_W: f64 = 330.0;

/// The frame of a chart: axes with ticks and titles. Returns the SVG opened (to be closed by
/// the caller with `</svg></figure>`).
fn frame(title: &str, x: &Axis, y: &Axis, x_title: &str, y_title: &str) -> String {
    let mut svg = format!(
        "<figure><figcaption>{}</figcaption><svg xmlns='http://www.w3.org/2000/svg' \
         width='{}' height='{H}' role='img'>",
        esc(title),
        W + LEGEND_W
    );
    let (x0, y0) = (LEFT, H - BOTTOM);
    let _ = write!(
        svg,
        "<line x1='{x0}' y1='{y0}' x2='{W}' y2='{y0}' stroke='#333'/>\
         <line x1='{x0}' y1='{TOP}' x2='{x0}' y2='{y0}' stroke='#333'/>"
    );
    for t in x.ticks() {
        let px = x.at(t);
        let _ = write!(
            svg,
            "<line x1='{px:.1}' y1='{y0}' x2='{px:.1}' y2='{}' stroke='#333'/>\
             <text x='{px:.1}' y='{}' text-anchor='middle'>{}</text>",
            y0 + 4.0,
            y0 + 16.0,
            tick_text(t)
        );
    }
    for t in y.ticks() {
        let py = y.at(t);
        let _ = write!(
            svg,
            "<line x1='{x0}' y1='{py:.1}' x2='{W}' y2='{py:.1}' stroke='#eee'/>\
             <text x='{}' y='{:.1}' text-anchor='end'>{}</text>",
            x0 - 6.0,
            py + 4.0,
            tick_text(t)
        );
    }
    let _ = write!(
        svg,
        "<text x='{:.1}' y='{}' text-anchor='middle'>{}</text>\
         <text x='14' y='{:.1}' text-anchor='middle' transform='rotate(-90 14 {:.1})'>{}</text>",
        (x0 + W) / 2.0,
        H - 8.0,
        esc(x_title),
        (TOP + y0) / 2.0,
        (TOP + y0) / 2.0,
        esc(y_title)
    );
    svg
}

/// A line chart of `series` (and dashed reference curves), with a legend on the right.
fn line_chart(title: &str, x_title: &str, y_title: &str, series: &[Series], log: bool) -> String {
    let x = Axis::new(
        series.iter().flat_map(|s| s.points.iter().map(|p| p.0)),
        log,
        LEFT,
        W - 10.0,
    );
    let y = Axis::new(
        series.iter().flat_map(|s| s.points.iter().map(|p| p.1)),
        log,
        H - BOTTOM,
        TOP,
    );
    let mut svg = frame(title, &x, &y, x_title, y_title);
    let mut color = 0;
    for (i, s) in series.iter().enumerate() {
        let stroke = if s.dashed {
            REFERENCE
        } else {
            color += 1;
            COLORS[(color - 1) % COLORS.len()]
        };
        let dash = if s.dashed {
            " stroke-dasharray='5 4'"
        } else {
            ""
        };
        let path: Vec<String> = s
            .points
            .iter()
            .filter(|(px, py)| x.contains(*px) && y.contains(*py))
            .map(|(px, py)| format!("{:.1},{:.1}", x.at(*px), y.at(*py)))
            .collect();
        let _ = write!(
            svg,
            "<polyline fill='none' stroke='{stroke}' stroke-width='2'{dash} points='{}'/>",
            path.join(" ")
        );
        if !s.dashed {
            for p in &path {
                let (cx, cy) = p.split_once(',').unwrap_or(("0", "0"));
                let _ = write!(svg, "<circle cx='{cx}' cy='{cy}' r='3' fill='{stroke}'/>");
            }
        }
        let ly = TOP + 10.0 + i as f64 * 18.0;
        let _ = write!(
            svg,
            "<line x1='{}' y1='{ly}' x2='{}' y2='{ly}' stroke='{stroke}' stroke-width='2'{dash}/>\
             <text x='{}' y='{:.1}'>{}</text>",
            W + 10.0,
            W + 34.0,
            W + 40.0,
            ly + 4.0,
            esc(&s.label)
        );
    }
    svg.push_str("</svg></figure>");
    svg
}

/// What a row's line is called in a chart against the first swept parameter: the variant
/// without that parameter's setting, and the scenario when there are several.
fn line_label(row: &Row, first: &str, scenarios: usize) -> String {
    let mut label = row.program.clone();
    if row.variant.contains("(unbatched)") {
        label.push_str(" (unbatched)");
    }
    for (p, v) in row.settings.iter().filter(|(p, _)| p != first) {
        label.push_str(&format!(" {p}={v}"));
    }
    if scenarios > 1 {
        label.push_str(&format!(" · {}", row.scenario));
    }
    label
}

/// The lines of one figure against the first swept parameter (rows without the figure, or
/// whose swept value is not a number, are left out).
fn series_of(c: &Comparison, first: &str, figure: impl Fn(&Row) -> Option<f64>) -> Vec<Series> {
    let mut out: Vec<Series> = Vec::new();
    for row in &c.rows {
        let Some(x) = row
            .settings
            .iter()
            .find(|(p, _)| p == first)
            .and_then(|(_, v)| v.parse::<f64>().ok())
        else {
            continue;
        };
        let Some(y) = figure(row) else { continue };
        let label = line_label(row, first, c.scenarios.len());
        match out.iter_mut().find(|s| s.label == label) {
            Some(s) => s.points.push((x, y)),
            None => out.push(Series {
                label,
                points: vec![(x, y)],
                dashed: false,
            }),
        }
    }
    for s in &mut out {
        s.points.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    out
}

/// n(n-1) and n log2 n over the node counts of the sweep.
fn references(c: &Comparison) -> Vec<Series> {
    let mut ns: Vec<f64> = c.rows.iter().map(|r| r.node_count as f64).collect();
    ns.sort_by(f64::total_cmp);
    ns.dedup();
    vec![
        Series {
            label: "n(n-1): eager, every node to every other".into(),
            points: ns.iter().map(|n| (*n, n * (n - 1.0))).collect(),
            dashed: true,
        },
        Series {
            label: "n log2 n".into(),
            points: ns.iter().map(|n| (*n, n * n.log2())).collect(),
            dashed: true,
        },
    ]
}

/// The charts of a sweep: each figure against the first swept parameter, then the frontier.
/// Empty without a sweep.
pub fn sweep_charts(c: &Comparison) -> String {
    let Some(first) = c.sweeps.first().map(|s| s.param.clone()) else {
        return String::new();
    };
    let by_nodes = first == NODE_COUNT;
    let mut html = format!(
        "<h2>Against {}</h2><p class=note>One line per variant{}.{}</p>",
        esc(&first),
        if c.sweeps.len() > 1 {
            " and setting of the other swept parameters"
        } else {
            ""
        },
        if by_nodes {
            " Dashed: the course's reference curves, n(n-1) copies for eager reliable \
             broadcast and n log2 n. Both axes are logarithmic."
        } else {
            ""
        }
    );
    let cost: [(&str, &str, Figure); 2] = [
        (
            "Copies per broadcast: how many times each value crossed a link",
            "copies per broadcast",
            |r| r.copies_per_broadcast,
        ),
        (
            "Messages per broadcast: server-to-server envelopes, whatever they carry",
            "messages per broadcast",
            |r| r.msgs_per_broadcast,
        ),
    ];
    for (title, y_title, figure) in cost {
        let mut series = series_of(c, &first, figure);
        if by_nodes {
            series.extend(references(c));
        }
        html.push_str(&line_chart(title, &first, y_title, &series, by_nodes));
    }
    let latency: [(&str, Figure); 3] = [
        ("Broadcast latency p50 (ms): invoke to broadcast_ok", |r| {
            r.latencies.broadcast.p50_ms
        }),
        (
            "Visibility latency p50 (ms): invoke to visible in every read",
            |r| r.latencies.visibility.p50_ms,
        ),
        ("Visibility latency max (ms)", |r| {
            r.latencies.visibility.max_ms
        }),
    ];
    for (title, figure) in latency {
        let series = series_of(c, &first, figure);
        html.push_str(&line_chart(title, &first, "ms", &series, false));
    }
    html.push_str(&frontier(c));
    html
}

/// The valid runs no other valid run of the same scenario beats: none has as few or fewer
/// messages per op with visibility latencies (p50 and max) as low or lower, one of the three
/// strictly. Indices into `rows`.
pub fn frontier_rows(rows: &[Row]) -> Vec<usize> {
    let key = |r: &Row| {
        Some((
            r.msgs_per_op?,
            r.latencies.visibility.p50_ms?,
            r.latencies.visibility.max_ms?,
        ))
    };
    (0..rows.len())
        .filter(|&i| {
            let Some(a) = key(&rows[i]) else { return false };
            rows[i].valid == checker::Validity::Valid
                && !rows.iter().enumerate().any(|(j, other)| {
                    j != i
                        && other.scenario == rows[i].scenario
                        && other.valid == checker::Validity::Valid
                        && key(other).is_some_and(|b| {
                            b.0 <= a.0 && b.1 <= a.1 && b.2 <= a.2 && (b.0, b.1, b.2) != a
                        })
                })
        })
        .collect()
}

/// The Gossip Glomers limits of the efficient-broadcast challenges (3d and 3e):
/// `(name, msgs per op, median latency ms, max latency ms)`.
pub const GLOMERS_LIMITS: [(&str, f64, f64, f64); 2] =
    [("3d", 30.0, 400.0, 600.0), ("3e", 20.0, 1000.0, 2000.0)];

/// Messages per op against visibility latency, p50 (filled) and max (hollow), one pair per
/// run joined by a line; the frontier's runs labelled; the Glomers limits drawn where they
/// fall inside the chart.
fn frontier(c: &Comparison) -> String {
    let rows: Vec<&Row> = c
        .rows
        .iter()
        .filter(|r| r.msgs_per_op.is_some() && r.latencies.visibility.max_ms.is_some())
        .collect();
    if rows.is_empty() {
        return String::new();
    }
    let best = frontier_rows(&c.rows);
    let x = Axis::new(
        rows.iter().filter_map(|r| r.msgs_per_op),
        false,
        LEFT,
        W - 10.0,
    );
    let y = Axis::new(
        rows.iter()
            .flat_map(|r| [r.latencies.visibility.p50_ms, r.latencies.visibility.max_ms])
            .flatten(),
        false,
        H - BOTTOM,
        TOP,
    );
    let mut svg = frame(
        "Cost against latency: server messages per op and visibility latency (p50 filled, \
         max hollow)",
        &x,
        &y,
        "server messages per op",
        "visibility latency, ms",
    );
    for (name, msgs, p50, max) in GLOMERS_LIMITS {
        for (v, what) in [(p50, "median"), (max, "max")] {
            if y.contains(v) {
                let py = y.at(v);
                let _ = write!(
                    svg,
                    "<line x1='{LEFT}' y1='{py:.1}' x2='{}' y2='{py:.1}' stroke='#c62828' \
                     stroke-dasharray='3 3'/><text x='{}' y='{:.1}' fill='#c62828'>\
                     Glomers {name} {what} {v:.0} ms</text>",
                    W - 10.0,
                    LEFT + 4.0,
                    py - 3.0
                );
            }
        }
        if x.contains(msgs) {
            let px = x.at(msgs);
            let _ = write!(
                svg,
                "<line x1='{px:.1}' y1='{TOP}' x2='{px:.1}' y2='{}' stroke='#c62828' \
                 stroke-dasharray='3 3'/>",
                H - BOTTOM
            );
        }
    }
    let mut legend = 0;
    for (i, r) in c.rows.iter().enumerate() {
        let (Some(m), Some(p50), Some(max)) = (
            r.msgs_per_op,
            r.latencies.visibility.p50_ms,
            r.latencies.visibility.max_ms,
        ) else {
            continue;
        };
        let on_front = best.contains(&i);
        let color = if on_front { "#1a7f37" } else { "#4f7cac" };
        let (px, y50, ymax) = (x.at(m), y.at(p50), y.at(max));
        let _ = write!(
            svg,
            "<line x1='{px:.1}' y1='{y50:.1}' x2='{px:.1}' y2='{ymax:.1}' stroke='{color}' \
             stroke-opacity='0.4'/><circle cx='{px:.1}' cy='{y50:.1}' r='3.5' fill='{color}'>\
             <title>{}</title></circle><circle cx='{px:.1}' cy='{ymax:.1}' r='3.5' \
             fill='white' stroke='{color}'><title>{}</title></circle>",
            esc(&format!("{}: {m:.2} msgs/op, p50 {p50:.0} ms", r.variant)),
            esc(&format!("{}: {m:.2} msgs/op, max {max:.0} ms", r.variant)),
        );
        if on_front {
            let ly = TOP + 10.0 + legend as f64 * 18.0;
            legend += 1;
            let _ = write!(
                svg,
                "<text x='{}' y='{ly:.1}' fill='{color}'>{}</text>",
                W + 10.0,
                esc(&format!(
                    "{}: {m:.2}/op, p50 {p50:.0}, max {max:.0}",
                    r.variant
                ))
            );
        }
    }
    let outside: Vec<String> = GLOMERS_LIMITS
        .iter()
        .filter(|(_, msgs, _, _)| !x.contains(*msgs))
        .map(|(name, msgs, _, _)| format!("{name}: at most {msgs:.0} msgs/op"))
        .collect();
    svg.push_str("</svg></figure>");
    format!(
        "<h2>Frontier</h2><p class=note>Green: the runs no other valid run beats on messages per \
         op and both visibility latencies at once (listed on the right). Red: the Gossip \
         Glomers limits (3d: under 30 messages per op, median latency under 400 ms, max under \
         600 ms; 3e: under 20, 1 s, 2 s){}.</p>{svg}",
        if outside.is_empty() {
            String::new()
        } else {
            format!(
                "; the message limits lie right of the chart ({})",
                outside.join("; ")
            )
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(variant: &str, msgs: f64, p50: f64, max: f64) -> Row {
        use super::super::{Latencies, Spread};
        let visibility = Spread {
            p50_ms: Some(p50),
            p95_ms: Some(max),
            max_ms: Some(max),
        };
        Row {
            variant: variant.into(),
            program: "broadcast-gossip".into(),
            node_args: Vec::new(),
            settings: Vec::new(),
            node_count: 25,
            scenario: "no faults".into(),
            promises: None,
            msgs_per_op: Some(msgs),
            msgs_per_broadcast: Some(2.0 * msgs),
            copies_per_broadcast: Some(25.0),
            latencies: Latencies {
                visibility,
                ..Latencies::default()
            },
            lost: Some(0),
            duplicated: Some(0),
            fifo: checker::Validity::Valid,
            causal: checker::Validity::Valid,
            total: checker::Validity::Valid,
            valid: checker::Validity::Valid,
            why: None,
            ops_ok: 1,
            ops_total: 1,
            run_dir: "store/broadcast/x".into(),
        }
    }

    #[test]
    fn the_frontier_keeps_the_runs_no_other_valid_run_of_their_scenario_beats() {
        let mut rows = vec![
            row("cheap", 1.3, 214.0, 659.0),
            row("fast", 2.8, 236.0, 299.0),
            row("beaten by fast", 3.0, 640.0, 891.0),
            row("cheaper but broken", 1.0, 100.0, 100.0),
            row("other scenario", 9.0, 900.0, 900.0),
        ];
        rows[3].valid = checker::Validity::Invalid;
        rows[4].scenario = "partitions".into();
        assert_eq!(frontier_rows(&rows), vec![0, 1, 4]);
    }

    #[test]
    fn axes_map_ends_to_the_frame_and_tick_round_values() {
        let lin = Axis::new([0.0, 95.0].into_iter(), false, 0.0, 100.0);
        assert_eq!(lin.at(0.0), 0.0);
        assert!(lin.ticks().contains(&20.0), "{:?}", lin.ticks());
        let log = Axis::new([5.0, 9900.0].into_iter(), true, 0.0, 100.0);
        assert_eq!((log.lo, log.hi), (1.0, 10_000.0));
        assert!((log.at(100.0) - 50.0).abs() < 1e-9);
        assert!(log.ticks().contains(&5000.0));
        assert_eq!(tick_text(20_000.0), "20k");
    }
}
