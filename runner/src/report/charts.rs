//! The two time charts of the report, hand-written SVG: the latency of every client op
//! (x = invocation time, y = latency) and the ops completed per second, both with the fault
//! intervals shaded and labelled in lanes above the plot.
//!
//! Points are drawn as the round caps of zero-length path segments, one `<path>` per outcome,
//! and points falling on the same pixel are drawn once, so a chart of many thousand ops stays
//! small. Each path says how many ops it stands for (`data-ops`) and how many distinct points
//! it draws (`data-points`).

use std::collections::BTreeSet;
use std::fmt::Write;

use super::html::Esc;
use super::scale::{Linear, Log, YScale, fmt_ms, fmt_num, nice_ceil};
use super::timeline::{Fault, Outcome, Timeline};

/// The width of every chart, in SVG units.
pub const WIDTH: f64 = 1100.0;
const LEFT: f64 = 72.0;
const RIGHT: f64 = 16.0;
const LANE: f64 = 15.0;
const AXIS: f64 = 34.0;

/// The fault kinds the report knows, in lane order; others get a lane after these.
pub const FAULT_KINDS: [&str; 6] = ["partition", "kill", "wipe", "pause", "loss", "duplicate"];

/// The CSS class of a fault kind: its name if known, else `other` (a name from a file never
/// becomes a class).
pub fn fault_class(kind: &str) -> &'static str {
    FAULT_KINDS
        .iter()
        .find(|k| **k == kind)
        .copied()
        .unwrap_or("other")
}

/// The frame shared by the time charts: the time axis and the fault lanes.
struct Frame<'a> {
    x: Linear,
    /// The end of the time axis, nanoseconds: where a fault still on is shaded to.
    end: u64,
    lanes: Vec<&'a str>,
    /// The top of the plot area (below the lanes) and its bottom.
    top: f64,
    bottom: f64,
}

impl<'a> Frame<'a> {
    fn new(tl: &'a Timeline, end: u64, plot_height: f64) -> Frame<'a> {
        let mut lanes: Vec<&str> = Vec::new();
        for kind in FAULT_KINDS {
            if tl.faults.iter().any(|f| f.kind == kind) {
                lanes.push(kind);
            }
        }
        let others: BTreeSet<&str> = tl
            .faults
            .iter()
            .map(|f| f.kind.as_str())
            .filter(|k| !FAULT_KINDS.contains(k))
            .collect();
        lanes.extend(others);
        // The lanes, then a line for the y axis's title.
        let top = 8.0 + LANE * lanes.len() as f64 + 18.0;
        let seconds = (end as f64 / 1e9).max(0.001);
        Frame {
            x: Linear::new((0.0, seconds), (LEFT, WIDTH - RIGHT)),
            end,
            lanes,
            top,
            bottom: top + plot_height,
        }
    }

    fn height(&self) -> f64 {
        self.bottom + AXIS
    }

    fn tx(&self, ns: u64) -> f64 {
        self.x.map(ns as f64 / 1e9)
    }

    fn open(&self, out: &mut String, id: &str, title: &str) {
        let h = self.height();
        let _ = write!(
            out,
            r#"<svg id="{id}" class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {h}" width="{WIDTH}" height="{h}" role="img" aria-label="{title}">"#,
        );
    }

    /// Shaded bands over the plot and labelled bars in the lanes, one per fault.
    fn faults(&self, out: &mut String, faults: &[Fault]) {
        for fault in faults {
            let class = fault_class(&fault.kind);
            let x0 = self.tx(fault.start);
            let x1 = self.tx(fault.end.unwrap_or(self.end)).max(x0 + 1.0);
            let still_on = if fault.end.is_none() {
                " (still on at the end)"
            } else {
                ""
            };
            let title = format!(
                "{} from {} to {}{still_on}: {}",
                fault.label,
                fmt_ms(fault.start as f64 / 1e6),
                fault
                    .end
                    .map_or("the end".to_owned(), |e| fmt_ms(e as f64 / 1e6)),
                fault.detail
            );
            let _ = write!(
                out,
                r#"<rect class="band {class}" x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}"><title>{}</title></rect>"#,
                x0,
                self.top,
                x1 - x0,
                self.bottom - self.top,
                Esc(&title)
            );
            let Some(lane) = self.lanes.iter().position(|k| *k == fault.kind) else {
                continue;
            };
            let y = 8.0 + LANE * lane as f64;
            let _ = write!(
                out,
                r#"<rect class="bar {class}" x="{:.1}" y="{y:.1}" width="{:.1}" height="{:.1}"><title>{}</title></rect>"#,
                x0,
                x1 - x0,
                LANE - 3.0,
                Esc(&title)
            );
            // The label goes inside the bar when it fits (about 5.6 units a character).
            let label = format!("{}{still_on}", fault.label);
            if (label.chars().count() as f64) * 5.6 + 6.0 < x1 - x0 {
                let _ = write!(
                    out,
                    r#"<text class="lane-label" x="{:.1}" y="{:.1}">{}</text>"#,
                    x0 + 3.0,
                    y + LANE - 6.0,
                    Esc(&label)
                );
            }
        }
        for (i, kind) in self.lanes.iter().enumerate() {
            let _ = write!(
                out,
                r#"<text class="lane-name" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
                LEFT - 6.0,
                8.0 + LANE * i as f64 + LANE - 6.0,
                Esc(kind)
            );
        }
    }

    /// The y axis: a grid line and a label at each tick (`(y, label)`), and its title above
    /// the plot.
    fn y_axis(
        &self,
        out: &mut String,
        ticks: impl IntoIterator<Item = (f64, String)>,
        title: &str,
    ) {
        for (py, label) in ticks {
            let _ = write!(
                out,
                r#"<line class="grid" x1="{LEFT}" y1="{py:.1}" x2="{:.1}" y2="{py:.1}"/><text class="tick" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
                WIDTH - RIGHT,
                LEFT - 6.0,
                py + 3.5,
                Esc(&label)
            );
        }
        let _ = write!(
            out,
            r#"<text class="axis-title" x="{LEFT}" y="{:.1}">{}</text>"#,
            self.top - 4.0,
            Esc(title)
        );
    }

    /// A dashed line across the plot at `py` (a timeout, a target), labelled at its right end.
    fn reference(&self, out: &mut String, py: f64, label: &str) {
        let _ = write!(
            out,
            r#"<line class="timeout" x1="{LEFT}" y1="{py:.1}" x2="{:.1}" y2="{py:.1}"/><text class="axis-title" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            WIDTH - RIGHT,
            WIDTH - RIGHT - 4.0,
            py - 5.0,
            Esc(label)
        );
    }

    /// The time axis below the plot, with vertical grid lines.
    fn time_axis(&self, out: &mut String) {
        let seconds = self.end as f64 / 1e9;
        for t in self.x.ticks(10) {
            let x = self.x.map(t);
            let _ = write!(
                out,
                r#"<line class="grid" x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}"/><text class="tick" x="{x:.1}" y="{:.1}" text-anchor="middle">{} s</text>"#,
                self.top,
                self.bottom,
                self.bottom + 14.0,
                fmt_num(t)
            );
        }
        let _ = write!(
            out,
            r#"<line class="axis" x1="{LEFT}" y1="{b:.1}" x2="{:.1}" y2="{b:.1}"/><text class="axis-title" x="{:.1}" y="{:.1}" text-anchor="end">time since the run started ({} s in all)</text>"#,
            WIDTH - RIGHT,
            WIDTH - RIGHT,
            self.bottom + 30.0,
            fmt_num(seconds),
            b = self.bottom,
        );
    }
}

/// The latency chart: one point per client op at (invocation time, latency); `info` and
/// unanswered ops at `timeout_ms`, the clients' timeout. `end` is the end of the time axis
/// (nanoseconds, at least the history's last event).
pub fn latency_chart(out: &mut String, tl: &Timeline, end: u64, timeout_ms: f64) {
    let frame = Frame::new(tl, end, 300.0);
    let y_of = |op: &super::timeline::Op| match op.outcome {
        Outcome::Ok | Outcome::Fail => op.latency_ms().unwrap_or(timeout_ms),
        Outcome::Info | Outcome::Unanswered => timeout_ms,
    };
    let values: Vec<f64> = tl.ops.iter().map(y_of).collect();
    let y = latency_scale(&values, (frame.bottom, frame.top));
    frame.open(out, "latency", "latency of every client op over time");
    frame.faults(out, &tl.faults);
    let scale_name = if y.is_log() { "log scale" } else { "linear" };
    frame.y_axis(
        out,
        y.ticks().into_iter().map(|v| (y.map(v), fmt_ms(v))),
        &format!("latency ({scale_name})"),
    );
    if tl
        .ops
        .iter()
        .any(|o| matches!(o.outcome, Outcome::Info | Outcome::Unanswered))
    {
        frame.reference(
            out,
            y.map(timeout_ms),
            "client timeout: info and unanswered ops are drawn here",
        );
    }
    frame.time_axis(out);
    if tl.ops.is_empty() {
        let _ = write!(
            out,
            r#"<text class="empty" x="{:.1}" y="{:.1}" text-anchor="middle">no client operations in the history</text>"#,
            WIDTH / 2.0,
            (frame.top + frame.bottom) / 2.0
        );
    }
    for outcome in Outcome::ALL {
        let pixels: Vec<(f64, f64)> = tl
            .ops
            .iter()
            .zip(&values)
            .filter(|(op, _)| op.outcome == outcome)
            .map(|(op, &v)| (frame.tx(op.invoke), y.map(v)))
            .collect();
        let (grid, points) = snap(&pixels);
        let _ = write!(
            out,
            r#"<path class="pts {}" data-ops="{}" data-points="{}" data-grid="{grid}" d=""#,
            outcome.name(),
            pixels.len(),
            points.len()
        );
        let mut last: Option<(i32, i32)> = None;
        for (px, py) in points {
            let _ = match last {
                None => write!(out, "M{px} {py}h0"),
                Some((lx, ly)) => write!(out, "m{} {}h0", px - lx, py - ly),
            };
            last = Some((px, py));
        }
        out.push_str(r#""/>"#);
    }
    out.push_str("</svg>");
}

/// The colours of a chart's lines, one per node or series in turn (fixed here, never from a
/// file).
const LINE_COLOURS: [&str; 8] = [
    "#1e88e5", "#e53935", "#2e7d32", "#f9a825", "#6a1b9a", "#00897b", "#8d6e63", "#37474f",
];

/// The smallest skew the skew chart draws apart from 0, in ms (a microsecond): a read inside
/// its true interval is drawn on this floor.
const SKEW_FLOOR_MS: f64 = 0.001;

/// The skew chart of a time-sync run: for each node, the absolute skew of every read of its
/// clock (x = when the read completed, y = |skew|, log scale), one line per node, with the
/// target skew drawn across; a read whose node did not say `synchronised` is a hollow dot.
pub fn skew_chart(
    out: &mut String,
    tl: &Timeline,
    end: u64,
    result: &checker::time_sync::TimeSyncResult,
) {
    let frame = Frame::new(tl, end, 300.0);
    let target = result.target_skew_ms;
    let abs_ms = |ns: i64| (ns.unsigned_abs() as f64 / 1e6).max(SKEW_FLOOR_MS);
    let max = result
        .nodes
        .values()
        .flat_map(|n| n.points.iter().map(|p| abs_ms(p.skew_ns)))
        .fold(target.max(SKEW_FLOOR_MS), f64::max);
    let hi = 10f64.powf(max.log10().ceil());
    let y = Log::new((SKEW_FLOOR_MS, hi), (frame.bottom, frame.top));
    frame.open(out, "skew", "skew of each node's clock over time");
    frame.faults(out, &tl.faults);
    frame.y_axis(
        out,
        y.ticks().into_iter().map(|v| (y.map(v), fmt_ms(v))),
        "|skew| from the true time (log scale; a read inside its true interval sits on the floor)",
    );
    frame.reference(
        out,
        y.map(target.max(SKEW_FLOOR_MS)),
        &format!("target skew {}", fmt_ms(target)),
    );
    frame.time_axis(out);
    for (i, (node, sync)) in result.nodes.iter().enumerate() {
        let colour = LINE_COLOURS[i % LINE_COLOURS.len()];
        let _ = write!(
            out,
            r#"<g class="node-skew" data-node="{}" data-reads="{}"><title>{}: {}</title><path fill="none" stroke="{colour}" stroke-width="1.5" d=""#,
            Esc(node),
            sync.points.len(),
            Esc(node),
            Esc(&sync.state)
        );
        for (j, p) in sync.points.iter().enumerate() {
            let _ = write!(
                out,
                "{}{:.1} {:.1}",
                if j == 0 { "M" } else { "L" },
                frame.tx(p.time),
                y.map(abs_ms(p.skew_ns))
            );
        }
        out.push_str(r#""/>"#);
        for p in &sync.points {
            let fill = if p.state == "synchronised" {
                colour
            } else {
                "#fff"
            };
            let _ = write!(
                out,
                r#"<circle cx="{:.1}" cy="{:.1}" r="2.5" fill="{fill}" stroke="{colour}"/>"#,
                frame.tx(p.time),
                y.map(abs_ms(p.skew_ns))
            );
        }
        // The node's name at the end of its line.
        if let Some(last) = sync.points.last() {
            let _ = write!(
                out,
                r#"<text class="tick" x="{:.1}" y="{:.1}" fill="{colour}">{}</text>"#,
                (frame.tx(last.time) + 4.0).min(WIDTH - RIGHT - 20.0),
                y.map(abs_ms(last.skew_ns)) - 4.0,
                Esc(node)
            );
        }
        out.push_str("</g>");
    }
    if result.nodes.is_empty() {
        let _ = write!(
            out,
            r#"<text class="empty" x="{:.1}" y="{:.1}" text-anchor="middle">no read of a node's clock in the history</text>"#,
            WIDTH / 2.0,
            (frame.top + frame.bottom) / 2.0
        );
    }
    out.push_str("</svg>");
}

/// Distinct points per outcome past which they are snapped to a coarser grid.
pub const POINT_BUDGET: usize = 25_000;

/// `pixels` snapped to a grid of whole units, and that grid: the finest of 1 to 4 units that
/// leaves at most [`POINT_BUDGET`] distinct points (else 4). Points on one grid spot are
/// drawn once; a dot is 4 units wide, so a 4-unit grid still shows where ops fell.
pub fn snap(pixels: &[(f64, f64)]) -> (u32, BTreeSet<(i32, i32)>) {
    let mut grid = 1;
    loop {
        let g = f64::from(grid);
        let points: BTreeSet<(i32, i32)> = pixels
            .iter()
            .map(|&(x, y)| (((x / g).round() * g) as i32, ((y / g).round() * g) as i32))
            .collect();
        if points.len() <= POINT_BUDGET || grid == 4 {
            return (grid, points);
        }
        grid += 1;
    }
}

/// The y scale of the latency chart, over `values` (milliseconds), mapped onto `range`:
/// logarithmic when they span more than a factor of 30, else linear from 0.
pub fn latency_scale(values: &[f64], range: (f64, f64)) -> YScale {
    let positive = values.iter().copied().filter(|v| *v > 0.0);
    let min = positive.clone().fold(f64::INFINITY, f64::min);
    let max = positive.fold(0.0, f64::max);
    if max <= 0.0 {
        return YScale::Linear(Linear::new((0.0, 1.0), range));
    }
    if max / min > 30.0 {
        let lo = 10f64.powf(min.log10().floor());
        let hi = 10f64.powf(max.log10().ceil());
        YScale::Log(Log::new((lo, hi), range))
    } else {
        YScale::Linear(Linear::new((0.0, nice_ceil(max * 1.05)), range))
    }
}

/// The width of the bins of the throughput chart: the smallest round width, at least a
/// quarter second, that cuts `seconds` into at most 60 bins.
pub fn bin_width(seconds: f64) -> f64 {
    const WIDTHS: [f64; 12] = [
        0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0,
    ];
    WIDTHS
        .into_iter()
        .find(|w| seconds / w <= 60.0)
        .unwrap_or_else(|| (seconds / 60.0).ceil())
}

/// The throughput chart: client ops completed per second, stacked by outcome, in bins of
/// [`bin_width`].
pub fn throughput_chart(out: &mut String, tl: &Timeline, end: u64) {
    let frame = Frame::new(tl, end, 180.0);
    let seconds = end as f64 / 1e9;
    let width = bin_width(seconds);
    let bins = ((seconds / width).ceil() as usize).max(1);
    // Per bin: ok, fail, info completions.
    let mut counts = vec![[0u64; 3]; bins];
    for op in &tl.ops {
        let (Some(done), slot) = (
            op.complete,
            match op.outcome {
                Outcome::Ok => 0,
                Outcome::Fail => 1,
                Outcome::Info | Outcome::Unanswered => 2,
            },
        ) else {
            continue;
        };
        let bin = ((done as f64 / 1e9 / width) as usize).min(bins - 1);
        counts[bin][slot] += 1;
    }
    let max_rate = counts
        .iter()
        .map(|c| c.iter().sum::<u64>() as f64 / width)
        .fold(0.0, f64::max);
    let y = Linear::new((0.0, nice_ceil(max_rate)), (frame.bottom, frame.top));
    frame.open(out, "throughput", "client ops completed per second");
    frame.faults(out, &tl.faults);
    frame.y_axis(
        out,
        y.ticks(4).into_iter().map(|v| (y.map(v), fmt_num(v))),
        &format!("ops completed per second (bins of {} s)", fmt_num(width)),
    );
    for (i, bin) in counts.iter().enumerate() {
        let x0 = frame.x.map(i as f64 * width);
        let x1 = frame
            .x
            .map(((i + 1) as f64 * width).min(seconds.max(0.001)));
        let mut base = 0.0;
        for (slot, class) in ["ok", "fail", "info"].into_iter().enumerate() {
            if bin[slot] == 0 {
                continue;
            }
            let rate = bin[slot] as f64 / width;
            let (top, bottom) = (y.map(base + rate), y.map(base));
            let _ = write!(
                out,
                r#"<rect class="rate {class}" x="{:.1}" y="{top:.1}" width="{:.1}" height="{:.1}"/>"#,
                x0 + 0.5,
                (x1 - x0 - 1.0).max(0.5),
                bottom - top
            );
            base += rate;
        }
    }
    frame.time_axis(out);
    out.push_str("</svg>");
}

/// One line of a [`series_chart`]: its name and its points (time in ns, value).
pub struct Series {
    pub name: String,
    pub points: Vec<(u64, f64)>,
}

/// A chart of values over the run's time, one line per series (steps held from each point to
/// the next), with the fault lanes, a dashed reference line (`reference`: its value and its
/// label) and a legend. The y axis spans `y_range` (widened to hold every point).
pub fn series_chart(
    out: &mut String,
    tl: &Timeline,
    end: u64,
    (id, y_title): (&str, &str),
    series: &[Series],
    y_range: (f64, f64),
    reference: Option<(f64, &str)>,
) {
    let frame = Frame::new(tl, end, 180.0);
    let values = series.iter().flat_map(|s| s.points.iter().map(|p| p.1));
    let (lo, hi) = values.fold(y_range, |(lo, hi), v| (lo.min(v), hi.max(v)));
    let y = Linear::new((lo, hi), (frame.bottom, frame.top));
    frame.open(out, id, y_title);
    frame.faults(out, &tl.faults);
    frame.y_axis(
        out,
        y.ticks(4).into_iter().map(|v| (y.map(v), fmt_num(v))),
        y_title,
    );
    if let Some((value, label)) = reference {
        frame.reference(out, y.map(value), label);
    }
    let mut legend_x = LEFT + 260.0;
    for (i, s) in series.iter().enumerate() {
        let colour = LINE_COLOURS[i % LINE_COLOURS.len()];
        let mut path = String::new();
        let mut last_y: Option<f64> = None;
        for &(t, v) in &s.points {
            let (px, py) = (frame.tx(t), y.map(v));
            match last_y {
                None => {
                    let _ = write!(path, "M{px:.1},{py:.1}");
                }
                Some(ly) => {
                    let _ = write!(path, " L{px:.1},{ly:.1} L{px:.1},{py:.1}");
                }
            }
            last_y = Some(py);
        }
        let _ = write!(
            out,
            r#"<path d="{path}" fill="none" stroke="{colour}" stroke-width="1.6"><title>{}</title></path>"#,
            Esc(&s.name)
        );
        let _ = write!(
            out,
            r#"<rect x="{legend_x:.1}" y="{:.1}" width="10" height="3" fill="{colour}"/><text class="tick" x="{:.1}" y="{:.1}">{}</text>"#,
            frame.top - 9.0,
            legend_x + 13.0,
            frame.top - 6.0,
            Esc(&s.name)
        );
        legend_x += 24.0 + 6.5 * s.name.chars().count() as f64;
    }
    frame.time_axis(out);
    out.push_str("</svg>");
}

#[cfg(test)]
mod tests {
    use checker::parse_history;

    use super::*;

    fn timeline(lines: &[&str]) -> Timeline {
        let text = lines.join("\n");
        Timeline::new(&parse_history("t", text.as_bytes()).unwrap(), &[])
    }

    #[test]
    fn latency_scale_goes_log_for_a_wide_spread() {
        let narrow = latency_scale(&[2.0, 3.0, 10.0], (300.0, 0.0));
        assert!(!narrow.is_log());
        assert_eq!(narrow.map(0.0), 300.0);
        let wide = latency_scale(&[0.2, 3.0, 5000.0], (300.0, 0.0));
        assert!(wide.is_log());
        assert_eq!(wide.ticks().first(), Some(&0.1));
        assert_eq!(wide.ticks().last(), Some(&10000.0));
        assert!(!latency_scale(&[], (1.0, 0.0)).is_log());
    }

    #[test]
    fn many_points_snap_to_a_coarser_grid() {
        let few = [(10.4, 20.6), (10.2, 21.4), (11.0, 20.0)];
        let (grid, points) = snap(&few);
        assert_eq!(grid, 1);
        assert_eq!(points, BTreeSet::from([(10, 21), (11, 20)]));
        // 200 x 200 distinct spots: too many at 1 unit, within budget at 2.
        let many: Vec<(f64, f64)> = (0..40_000)
            .map(|i| (f64::from(i % 200), f64::from(i / 200)))
            .collect();
        let (grid, points) = snap(&many);
        assert_eq!(grid, 2);
        assert_eq!(points.len(), 101 * 101);
        assert!(points.iter().all(|(x, y)| x % 2 == 0 && y % 2 == 0));
    }

    #[test]
    fn bins_are_round_and_few() {
        assert_eq!(bin_width(4.0), 0.25);
        assert_eq!(bin_width(20.0), 0.5);
        assert_eq!(bin_width(60.0), 1.0);
        assert_eq!(bin_width(3000.0), 60.0);
        assert_eq!(bin_width(100_000.0), 1667.0);
    }

    #[test]
    fn every_op_is_a_point_and_a_fault_on_at_the_end_is_shaded_to_the_end() {
        let tl = timeline(&[
            r#"{"index":0,"time":0,"process":0,"type":"invoke","f":"read"}"#,
            r#"{"index":1,"time":1000000,"process":0,"type":"ok","f":"read"}"#,
            r#"{"index":2,"time":1000000,"process":0,"type":"invoke","f":"read"}"#,
            r#"{"index":3,"time":1000000,"process":"nemesis","type":"info","f":"start-partition","value":{"n0":["n1"]}}"#,
            r#"{"index":4,"time":2000000,"process":1,"type":"invoke","f":"read"}"#,
            r#"{"index":5,"time":2000000,"process":1,"type":"fail","f":"read"}"#,
        ]);
        let mut out = String::new();
        latency_chart(&mut out, &tl, 2_000_000_000, 5000.0);
        assert!(out.starts_with(r#"<svg id="latency""#));
        assert!(
            out.contains(r#"class="pts ok" data-ops="1" data-points="1""#),
            "{out}"
        );
        assert!(out.contains(r#"class="pts fail" data-ops="1""#));
        assert!(out.contains(r#"class="pts unanswered" data-ops="1""#));
        assert!(
            out.contains(r#"class="pts info" data-ops="0" data-points="0" data-grid="1" d="""#)
        );
        assert!(out.contains("client timeout"));
        // The partition starts at 1 ms and is still on: its band reaches the right edge.
        let band = out.split(r#"<rect class="band partition""#).nth(1).unwrap();
        let attr = |name: &str| -> f64 {
            let start = band.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
            band[start..].split('"').next().unwrap().parse().unwrap()
        };
        assert!((attr("x") + attr("width") - (WIDTH - RIGHT)).abs() < 0.2);
        assert!(band.contains("still on at the end"));
        assert!(out.contains(r#"<text class="lane-name""#));

        let mut out = String::new();
        throughput_chart(&mut out, &tl, 2_000_000_000);
        assert!(out.starts_with(r#"<svg id="throughput""#));
        assert_eq!(out.matches(r#"<rect class="rate ok""#).count(), 1);
        assert_eq!(out.matches(r#"<rect class="rate fail""#).count(), 1);
        assert_eq!(out.matches(r#"<rect class="band partition""#).count(), 1);
    }

    #[test]
    fn the_skew_chart_draws_a_line_per_node_and_the_target() {
        let lines = [
            r#"{"index":0,"time":0,"process":"nemesis","type":"info","f":"clock-step","value":{"nodes":["n0"],"delta_ms":50,"true_time_us":1767225600000000}}"#,
            r#"{"index":1,"time":0,"process":"nemesis","type":"info","f":"clock-step","value":{"nodes":["n1"],"delta_ms":3000,"true_time_us":1767225600000000}}"#,
            r#"{"index":2,"time":1000000000,"process":0,"node":"n0","type":"invoke","f":"read_time","value":null}"#,
            r#"{"index":3,"time":1001000000,"process":0,"node":"n0","type":"ok","f":"read_time","value":{"time":1767225601050500,"state":"slewing"}}"#,
            r#"{"index":4,"time":4000000000,"process":1,"node":"n1","type":"invoke","f":"read_time","value":null}"#,
            r#"{"index":5,"time":4001000000,"process":1,"node":"n1","type":"ok","f":"read_time","value":{"time":1767225604001000,"state":"synchronised"}}"#,
        ];
        let tl = timeline(&lines);
        let events = checker::parse_history("h", lines.join("\n").as_bytes()).unwrap();
        let result = checker::time_sync::check_time_sync(
            &events,
            &checker::time_sync::TimeSyncOptions::default(),
        )
        .unwrap();
        let mut out = String::new();
        skew_chart(&mut out, &tl, 5_000_000_000, &result);
        assert!(out.starts_with(r#"<svg id="skew""#));
        assert!(out.contains(r#"data-node="n0" data-reads="1""#), "{out}");
        assert!(out.contains(r#"data-node="n1" data-reads="1""#), "{out}");
        assert!(out.contains("target skew 25 ms"), "{out}");
        // The initial offsets are not drawn as faults.
        assert!(!out.contains("band"), "{out}");
    }

    #[test]
    fn unknown_fault_kinds_get_a_lane_and_no_class_from_the_file() {
        let tl = timeline(&[
            r#"{"index":0,"time":0,"process":"nemesis","type":"info","f":"start-<b>x</b>","value":null}"#,
        ]);
        let mut out = String::new();
        latency_chart(&mut out, &tl, 1_000_000_000, 5000.0);
        assert!(out.contains(r#"class="band other""#));
        assert!(out.contains("&lt;b&gt;x&lt;/b&gt;"));
        assert!(!out.contains("<b>"));
        assert!(out.contains("no client operations"));
    }
}
