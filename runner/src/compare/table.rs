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

/// A column of the broadcast table: its header, its group (the label above it), and how
/// its cells are aligned.
struct Column {
    header: &'static str,
    group: usize,
    left: bool,
}

/// The groups of columns, labelled on the first header line.
const GROUPS: [&str; 9] = [
    "",
    "msgs per",
    "copies",
    "broadcast",
    "visible",
    "stable",
    "",
    "order kept",
    "",
];

const COLUMNS: [Column; 16] = [
    Column {
        header: "variant",
        group: 0,
        left: true,
    },
    Column {
        header: "op",
        group: 1,
        left: false,
    },
    Column {
        header: "bcast",
        group: 1,
        left: false,
    },
    Column {
        header: "/bcast",
        group: 2,
        left: false,
    },
    Column {
        header: "p50",
        group: 3,
        left: false,
    },
    Column {
        header: "max",
        group: 3,
        left: false,
    },
    Column {
        header: "p50",
        group: 4,
        left: false,
    },
    Column {
        header: "max",
        group: 4,
        left: false,
    },
    Column {
        header: "p50",
        group: 5,
        left: false,
    },
    Column {
        header: "max",
        group: 5,
        left: false,
    },
    Column {
        header: "lost",
        group: 6,
        left: false,
    },
    Column {
        header: "dup",
        group: 6,
        left: false,
    },
    Column {
        header: "fifo",
        group: 7,
        left: false,
    },
    Column {
        header: "causal",
        group: 7,
        left: false,
    },
    Column {
        header: "total",
        group: 7,
        left: false,
    },
    Column {
        header: "valid",
        group: 8,
        left: true,
    },
];

/// What the columns mean, under the table.
pub const LEGEND: [&str; 5] = [
    "msgs per op / bcast: server-to-server messages per client op (final reads included) / per broadcast",
    "copies /bcast: how many times each broadcast value crossed a link, whatever the batching (eager: n(n-1))",
    "latencies in ms, p50 and max: broadcast = invoke to broadcast_ok; visible = invoke to visible in every read;",
    "  stable = Jepsen's stable latency, from acknowledged (or first read) to visible in every read",
    "order kept: ok = kept, BROKEN = violated, * = the order the variant promises",
];

/// The cells of one row, in the order of [`COLUMNS`].
fn cells(row: &Row) -> Vec<String> {
    let order = |name: &str, v: Validity| {
        let mark = if row.promises.as_deref() == Some(name) {
            "*"
        } else {
            ""
        };
        format!("{}{mark}", verdict(v))
    };
    let l = &row.latencies;
    vec![
        row.variant.clone(),
        num(row.msgs_per_op, 2),
        num(row.msgs_per_broadcast, 2),
        num(row.copies_per_broadcast, 1),
        num(l.broadcast.p50_ms, 0),
        num(l.broadcast.max_ms, 0),
        num(l.visibility.p50_ms, 0),
        num(l.visibility.max_ms, 0),
        num(l.stable.p50_ms, 0),
        num(l.stable.max_ms, 0),
        count(row.lost),
        count(row.duplicated),
        order("fifo", row.fifo),
        order("causal", row.causal),
        order("total", row.total),
        row.valid.to_string(),
    ]
}

/// The lines of one scenario's table: the group labels, the headers, a rule, the rows.
/// Columns of one group are one space apart, groups two.
fn grid(rows: &[&Row]) -> Vec<String> {
    let body: Vec<Vec<String>> = rows.iter().map(|r| cells(r)).collect();
    let mut widths: Vec<usize> = COLUMNS
        .iter()
        .enumerate()
        .map(|(c, col)| {
            body.iter()
                .map(|r| r[c].chars().count())
                .chain([col.header.len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let gap = |c: usize| {
        if c == 0 {
            ""
        } else if COLUMNS[c].group == COLUMNS[c - 1].group {
            " "
        } else {
            "  "
        }
    };
    // Widen a group's last column until its label fits above it.
    for (g, label) in GROUPS.iter().enumerate() {
        let members: Vec<usize> = (0..COLUMNS.len())
            .filter(|&c| COLUMNS[c].group == g)
            .collect();
        let span = |widths: &[usize]| -> usize {
            members.iter().map(|&c| widths[c]).sum::<usize>() + members.len().saturating_sub(1)
        };
        if let Some(&last) = members.last() {
            let short = label.len().saturating_sub(span(&widths));
            widths[last] += short;
        }
    }
    let line = |cells: &[String]| -> String {
        let mut out = String::new();
        for (c, cell) in cells.iter().enumerate() {
            let w = widths[c];
            out.push_str(gap(c));
            if COLUMNS[c].left {
                let _ = write!(out, "{cell:<w$}");
            } else {
                let _ = write!(out, "{cell:>w$}");
            }
        }
        out.trim_end().to_owned()
    };
    let mut groups = String::new();
    for (g, label) in GROUPS.iter().enumerate() {
        let members: Vec<usize> = (0..COLUMNS.len())
            .filter(|&c| COLUMNS[c].group == g)
            .collect();
        let Some(&first) = members.first() else {
            continue;
        };
        let span = members.iter().map(|&c| widths[c]).sum::<usize>() + members.len() - 1;
        groups.push_str(gap(first));
        let _ = write!(groups, "{label:^span$}");
    }
    let headers: Vec<String> = COLUMNS.iter().map(|c| c.header.to_owned()).collect();
    let header = line(&headers);
    let mut lines = vec![
        groups.trim_end().to_owned(),
        header.clone(),
        "-".repeat(header.chars().count()),
    ];
    lines.extend(body.iter().map(|r| line(r)));
    lines
}

/// The table: for each scenario, its name, then one line per variant: server messages per op
/// and per broadcast, the p50 and max of the broadcast, visibility and stable latencies, lost
/// and duplicated values, the three ordering verdicts (the promised one marked with `*`) and
/// valid; then the legend, and one line for each run that is not valid: why, and its folder.
pub fn render_table(rows: &[Row]) -> String {
    let mut out = String::new();
    let mut scenarios: Vec<&str> = Vec::new();
    for row in rows {
        if !scenarios.contains(&row.scenario.as_str()) {
            scenarios.push(&row.scenario);
        }
    }
    for (i, scenario) in scenarios.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let _ = writeln!(out, "scenario: {scenario}");
        let these: Vec<&Row> = rows.iter().filter(|r| r.scenario == *scenario).collect();
        for line in grid(&these) {
            let _ = writeln!(out, "{line}");
        }
    }
    for line in LEGEND {
        let _ = writeln!(out, "{line}");
    }
    let not_valid: Vec<&Row> = rows.iter().filter(|r| r.valid != Validity::Valid).collect();
    if !not_valid.is_empty() {
        let _ = writeln!(out, "\nwhy not valid:");
        for row in not_valid {
            let _ = writeln!(
                out,
                "  {} ({}): {}; files: {}",
                row.variant,
                row.scenario,
                row.why.as_deref().unwrap_or("no reason recorded"),
                row.run_dir.display()
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::super::{Latencies, Spread};
    use super::*;

    fn spread(p50: f64, max: f64) -> Spread {
        Spread {
            p50_ms: Some(p50),
            p95_ms: Some(max),
            max_ms: Some(max),
        }
    }

    fn row(variant: &str, promises: Option<&str>, total: Validity) -> Row {
        Row {
            variant: variant.into(),
            program: variant.into(),
            node_args: Vec::new(),
            settings: Vec::new(),
            node_count: 5,
            scenario: "partitions and kills".into(),
            promises: promises.map(str::to_owned),
            msgs_per_op: Some(12.09),
            msgs_per_broadcast: Some(124.18),
            copies_per_broadcast: Some(20.0),
            latencies: Latencies {
                broadcast: spread(1088.0, 5097.0),
                visibility: spread(1190.0, 10846.0),
                stable: spread(0.0, 11521.0),
            },
            lost: Some(0),
            duplicated: Some(0),
            fifo: Validity::Valid,
            causal: Validity::Invalid,
            total,
            valid: Validity::Valid,
            why: None,
            ops_ok: 10,
            ops_total: 10,
            run_dir: PathBuf::from("store/broadcast/20261128T193012.123Z"),
        }
    }

    #[test]
    fn one_aligned_line_per_row_under_grouped_headers_within_120_columns() {
        let text = render_table(&[
            row("broadcast-gossip", None, Validity::Invalid),
            row("broadcast-total-lamport", Some("total"), Validity::Valid),
        ]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "scenario: partitions and kills");
        assert!(lines[1].contains("msgs per") && lines[1].contains("broadcast"));
        assert!(lines[1].contains("visible") && lines[1].contains("stable"));
        assert!(lines[2].starts_with("variant") && lines[2].ends_with("valid"));
        let gossip = lines[4].split_whitespace().collect::<Vec<_>>();
        assert_eq!(
            gossip,
            [
                "broadcast-gossip",
                "12.09",
                "124.18",
                "20.0",
                "1088",
                "5097",
                "1190",
                "10846",
                "0",
                "11521",
                "0",
                "0",
                "ok",
                "BROKEN",
                "BROKEN",
                "valid"
            ]
        );
        assert!(lines[5].contains("ok*"), "{}", lines[5]);
        assert_eq!(lines[4].len(), lines[5].len(), "columns align");
        assert_eq!(
            lines[2].len(),
            lines[4].len(),
            "headers align with the cells"
        );
        // Each group label sits over its columns.
        let at = |line: &str, word: &str| line.find(word).unwrap();
        assert!(at(lines[1], "visible") > at(lines[2], "max"));
        for line in &lines {
            assert!(
                line.chars().count() <= 120,
                "{} columns: {line}",
                line.len()
            );
        }
        assert!(text.contains("stable = Jepsen's stable latency"));
        assert!(!text.contains("why not valid"), "every row is valid");
    }

    #[test]
    fn every_row_that_is_not_valid_gets_a_line_of_why_and_its_folder() {
        let mut lost = row("broadcast-eager", None, Validity::Invalid);
        lost.valid = Validity::Invalid;
        lost.lost = Some(3);
        lost.why = Some("3 acknowledged values lost after the kill of n0, n3, n4 at 4.10 s".into());
        let mut other = row("broadcast-fifo", Some("fifo"), Validity::Valid);
        other.scenario = "no faults".into();
        let text = render_table(&[lost, other]);
        assert!(text.contains("scenario: no faults"), "{text}");
        let why: Vec<&str> = text
            .lines()
            .skip_while(|l| *l != "why not valid:")
            .collect();
        assert_eq!(
            why,
            [
                "why not valid:",
                "  broadcast-eager (partitions and kills): 3 acknowledged values lost after the \
                 kill of n0, n3, n4 at 4.10 s; files: store/broadcast/20261128T193012.123Z"
            ]
        );
    }
}
