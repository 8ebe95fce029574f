//! The comparison as a text table, one line per variant and scenario.

use std::fmt::Write;

use checker::Validity;

use super::Row;

fn verdict(v: Validity) -> &'static str {
    match v {
        Validity::Valid => "ok",
        Validity::Invalid => "BROKEN",
        Validity::Unknown => "?",
    }
}

fn num(x: Option<f64>, digits: usize) -> String {
    x.map_or_else(|| "-".to_owned(), |x| format!("{x:.digits$}"))
}

fn count(x: Option<u64>) -> String {
    x.map_or_else(|| "-".to_owned(), |x| x.to_string())
}

/// Cells as a text table: the first row is the header, underlined; the first two columns
/// (variant, scenario) aligned left, the figures right.
pub fn align(cells: &[Vec<String>]) -> String {
    let columns = cells.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            cells
                .iter()
                .map(|r| r[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for (i, row) in cells.iter().enumerate() {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(c, (cell, w))| {
                if c < 2 {
                    format!("{cell:<w$}")
                } else {
                    format!("{cell:>w$}")
                }
            })
            .collect();
        let _ = writeln!(out, "{}", line.join("  ").trim_end());
        if i == 0 {
            let total: usize = widths.iter().sum::<usize>() + 2 * (columns.saturating_sub(1));
            let _ = writeln!(out, "{}", "-".repeat(total));
        }
    }
    out
}

/// The table: variant, scenario, msgs-per-op, stable latency p50 / p95 / max, lost,
/// duplicated, the three ordering verdicts (the promised one marked with `*`), valid.
pub fn render_table(rows: &[Row]) -> String {
    let header = [
        "variant", "scenario", "msgs/op", "p50 ms", "p95 ms", "max ms", "lost", "dup", "fifo",
        "causal", "total", "valid",
    ];
    let mut cells: Vec<Vec<String>> = vec![header.iter().map(|s| (*s).to_owned()).collect()];
    for row in rows {
        let order = |name: &str, v: Validity| {
            let mark = if row.promises.as_deref() == Some(name) {
                "*"
            } else {
                ""
            };
            format!("{}{mark}", verdict(v))
        };
        cells.push(vec![
            row.variant.clone(),
            row.scenario.clone(),
            num(row.msgs_per_op, 2),
            num(row.latency_p50_ms, 0),
            num(row.latency_p95_ms, 0),
            num(row.latency_max_ms, 0),
            count(row.lost),
            count(row.duplicated),
            order("fifo", row.fifo),
            order("causal", row.causal),
            order("total", row.total),
            row.valid.to_string(),
        ]);
    }
    let mut out = align(&cells);
    out.push_str("ordering: ok = kept, BROKEN = violated, * = the order the variant promises\n");
    out
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn row(variant: &str, promises: Option<&str>, total: Validity) -> Row {
        Row {
            variant: variant.into(),
            scenario: "no faults".into(),
            promises: promises.map(str::to_owned),
            msgs_per_op: Some(2.5),
            latency_p50_ms: Some(310.0),
            latency_p95_ms: Some(420.4),
            latency_max_ms: Some(512.0),
            lost: Some(0),
            duplicated: Some(0),
            fifo: Validity::Valid,
            causal: Validity::Valid,
            total,
            valid: Validity::Valid,
            ops_ok: 10,
            ops_total: 10,
            run_dir: PathBuf::from("store/x"),
        }
    }

    #[test]
    fn one_aligned_line_per_row_with_the_promise_marked() {
        let text = render_table(&[
            row("broadcast-gossip", None, Validity::Invalid),
            row("broadcast-total-lamport", Some("total"), Validity::Valid),
        ]);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("variant"));
        assert!(lines[2].contains("broadcast-gossip") && lines[2].contains("BROKEN"));
        assert!(lines[3].contains("ok*"), "{}", lines[3]);
        assert!(lines[2].contains("2.50") && lines[2].contains("420"));
        assert_eq!(lines[2].len(), lines[3].len(), "columns align");
    }
}
