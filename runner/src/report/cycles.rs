//! The transactional checker's cycles drawn: for each anomaly type whose first case is a cycle
//! of dependencies (G0, G1c, G-single, G2-item, ...), a small graph of its transactions with
//! each edge labelled by its kind (ww, wr, rw, process, realtime) and key, beside the
//! explanation in words. Read from `results.json` alone (`workload.anomalies`).

use std::f64::consts::PI;
use std::fmt::Write;

use serde_json::{Map, Value};

use super::html::{Esc, short_json};

/// How many anomaly types get a graph.
const MAX_GRAPHS: usize = 8;
/// Cycles longer than this are told, not drawn.
const MAX_NODES: usize = 12;

/// The section of cycle graphs, when the results have anomalies with cycles.
pub fn section(out: &mut String, results: &Map<String, Value>) {
    let Some(anomalies) = results
        .get("workload")
        .and_then(|w| w.get("anomalies"))
        .and_then(Value::as_object)
    else {
        return;
    };
    let cycles: Vec<(&str, &Value)> = anomalies
        .iter()
        .filter_map(|(name, cases)| {
            let first = cases.as_array()?.first()?;
            let steps = first.get("steps")?.as_array()?;
            (!steps.is_empty()).then_some((name.as_str(), first))
        })
        .take(MAX_GRAPHS)
        .collect();
    if cycles.is_empty() {
        return;
    }
    out.push_str(r#"<section id="cycles"><h2>Dependency cycles</h2><p class="note">Each graph is the first cycle found of its kind: an arrow from T1 to T2 means T1 must come before T2 (ww: T2 overwrote or appended after T1's write; wr: T2 read what T1 wrote; rw: T1 read a version T2 overwrote; process, realtime: T1 ended before T2 began, in one process or anywhere). No serial order can put every transaction after those it depends on.</p>"#);
    for (name, case) in cycles {
        let _ = write!(out, "<h3>{}</h3>", Esc(name));
        graph(out, name, case);
        if let Some(text) = case.get("explanation").and_then(Value::as_str) {
            let _ = write!(out, r#"<p class="explain">{}</p>"#, Esc(text));
        }
    }
    out.push_str("</section>");
}

/// One cycle as an SVG: its transactions on a circle, its edges as curved arrows.
fn graph(out: &mut String, name: &str, case: &Value) {
    let steps: Vec<&Value> = case["steps"].as_array().into_iter().flatten().collect();
    let mut nodes: Vec<&str> = Vec::new();
    for step in &steps {
        for end in ["from", "to"] {
            if let Some(t) = step[end].as_str()
                && !nodes.contains(&t)
            {
                nodes.push(t);
            }
        }
    }
    if nodes.len() > MAX_NODES || nodes.is_empty() {
        return;
    }
    let n = nodes.len() as f64;
    let radius = (28.0 * n).max(70.0);
    let size = 2.0 * radius + 140.0;
    let centre = size / 2.0;
    let at = |i: usize| {
        let angle = -PI / 2.0 + 2.0 * PI * i as f64 / n;
        (centre + radius * angle.cos(), centre + radius * angle.sin())
    };
    let _ = write!(
        out,
        r#"<svg class="cycle" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size:.0} {size:.0}" width="{size:.0}" height="{size:.0}" role="img" aria-label="{} cycle"><defs><marker id="cyc-arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0 0L8 4L0 8z" fill="context-stroke"/></marker></defs>"#,
        Esc(name)
    );
    const NODE_R: f64 = 20.0;
    for step in &steps {
        let index = |end: &str| {
            step[end]
                .as_str()
                .and_then(|t| nodes.iter().position(|n| *n == t))
        };
        let (Some(a), Some(b)) = (index("from"), index("to")) else {
            continue;
        };
        let ((x0, y0), (x1, y1)) = (at(a), at(b));
        let (dx, dy) = (x1 - x0, y1 - y0);
        let len = (dx * dx + dy * dy).sqrt().max(1.0);
        let (ux, uy) = (dx / len, dy / len);
        // Bend every arrow to its left, so that T1 -> T2 and T2 -> T1 do not overlap.
        let (mx, my) = ((x0 + x1) / 2.0 - uy * 30.0, (y0 + y1) / 2.0 + ux * 30.0);
        let (sx, sy) = (x0 + ux * NODE_R, y0 + uy * NODE_R);
        let (ex, ey) = (x1 - ux * NODE_R, y1 - uy * NODE_R);
        let kind = step["kind"].as_str().unwrap_or("?");
        let class = match kind {
            "ww" | "wr" | "rw" | "process" | "realtime" => kind,
            _ => "other",
        };
        let mut label = kind.to_owned();
        if let Some(key) = step.get("key").filter(|k| !k.is_null()) {
            let _ = write!(label, " {}", short_json(key, 12));
        }
        let _ = write!(
            out,
            r#"<path class="edge {class}" d="M{sx:.1} {sy:.1}Q{mx:.1} {my:.1} {ex:.1} {ey:.1}" marker-end="url(#cyc-arrow)"><title>{}</title></path><text class="edge-label {class}" x="{mx:.1}" y="{my:.1}">{}</text>"#,
            Esc(step["explanation"].as_str().unwrap_or("")),
            Esc(&label)
        );
    }
    for (i, node) in nodes.iter().enumerate() {
        let (x, y) = at(i);
        let _ = write!(
            out,
            r#"<circle class="txn" cx="{x:.1}" cy="{y:.1}" r="{NODE_R}"/><text class="txn" x="{x:.1}" y="{:.1}">{}</text>"#,
            y + 4.0,
            Esc(node)
        );
    }
    out.push_str("</svg>");
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn draws_each_cycle_with_labelled_edges_and_escapes_file_text() {
        let results = json!({"workload": {"anomalies": {
            "G-single": [{
                "steps": [
                    {"from": "T1", "to": "T2", "kind": "rw", "key": 5, "explanation": "T1 read <k>"},
                    {"from": "T2", "to": "T1", "kind": "wr", "key": 7, "explanation": "T2 wrote"}
                ],
                "explanation": "a cycle with one <rw> edge"
            }],
            "G1a": [{"steps": [], "explanation": "aborted read"}]
        }}});
        let mut out = String::new();
        section(&mut out, results.as_object().unwrap());
        assert!(out.contains("<h3>G-single</h3>"), "{out}");
        assert!(
            !out.contains("<h3>G1a</h3>"),
            "a case with no cycle is not drawn: {out}"
        );
        assert_eq!(out.matches(r#"<circle class="txn""#).count(), 2, "{out}");
        assert!(out.contains(r#"<text class="edge-label rw""#) && out.contains(">rw 5</text>"));
        assert!(out.contains(">wr 7</text>"));
        assert!(out.contains("a cycle with one &lt;rw&gt; edge"));
        assert!(out.contains("T1 read &lt;k&gt;") && !out.contains("<k>"));
        let mut none = String::new();
        section(
            &mut none,
            json!({"workload": {"valid": true}}).as_object().unwrap(),
        );
        assert!(none.is_empty());
    }
}
