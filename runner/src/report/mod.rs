//! `report.html`: one self-contained page that explains a run at a glance, rendered from the
//! files of its store folder alone (`history.jsonl`, `messages.jsonl`, `results.json`).
//!
//! The page holds the verdict, each checker's verdict and the key figures; the failure told
//! as a story when the run is not valid (the `headline` and `story` of `results.json`, the
//! checkers' raw results folded below); the latency of every client op over time and the ops
//! completed per second, with the nemesis's fault intervals shaded; a message-sequence
//! (Lamport) diagram of the window around the first failure (`story_window`), or of the first
//! messages when there is none; the node problems; and the run's seed and configuration.
//!
//! A run that did not finish (its folder still holds `INCOMPLETE`, see [`crate::store`]) is
//! rendered from what it recorded, with the verdict unknown and the reason in the banner,
//! whatever its `results.json` (if any) says; `harness report` then exits 2. A file whose last
//! line was cut off mid-line is read up to its last whole line, and the banner says so.
//!
//! Self-contained means inline CSS and hand-written inline SVG, nothing fetched and no script:
//! the page's Content-Security-Policy forbids both, and every string from the run's files is
//! escaped, so a node's output cannot become markup. The page depends only on the files, so
//! `harness report DIR` renders the same bytes as the end of the run did.

mod charts;
mod cycles;
pub(crate) mod html;
mod journal;
mod lamport;
mod scale;
mod summary;
mod timeline;

use std::fmt::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use checker::{Event, Validity};
use serde_json::{Map, Value};

use journal::Selection;
pub use journal::{DIAGRAM_MESSAGES, JournalScan};

use html::Esc;
use scale::fmt_ms;
use timeline::Timeline;

/// The name of the page in a run folder.
pub const REPORT_FILE: &str = "report.html";

/// At most this many fault intervals are listed in the table under the charts.
const FAULT_ROWS: usize = 200;

/// The arguments of `harness report`.
#[derive(clap::Args, Debug)]
pub struct ReportArgs {
    /// the run folder (e.g. store/latest)
    pub dir: PathBuf,
}

/// `harness report DIR`: render the page again and print its path; exit code 0, or 2 (unknown)
/// when the run did not finish (its folder holds `INCOMPLETE`): the page says so, and so does
/// a line on stdout.
pub fn run(args: &ReportArgs) -> anyhow::Result<u8> {
    if !args.dir.is_dir() {
        bail!(
            "{}: no such run folder (a run of `harness test` makes one under store/)",
            args.dir.display()
        );
    }
    let incomplete = crate::store::incomplete(&args.dir);
    if !args.dir.join("history.jsonl").is_file() {
        if let Some(why) = incomplete {
            println!("{why}: it has no history.jsonl yet, so no report");
            return Ok(Validity::Unknown.exit_code());
        }
        bail!(
            "{}: not a run folder: it holds no history.jsonl (give the folder of a run of \
             `harness test`, e.g. store/latest)",
            args.dir.display()
        );
    }
    let files = RunFiles::load(&args.dir)?;
    for note in &files.notes {
        println!("warning: {note}");
    }
    let path = write_page(&args.dir, &files)?;
    println!("{}", path.display());
    match &files.incomplete {
        Some(why) => {
            println!("{why}");
            Ok(Validity::Unknown.exit_code())
        }
        None => Ok(0),
    }
}

/// Render `report.html` from the files of the run in `dir` (history.jsonl, messages.jsonl,
/// results.json); returns the path written.
pub fn write_report(dir: &Path) -> anyhow::Result<PathBuf> {
    write_page(dir, &RunFiles::load(dir)?)
}

/// Render `report.html` in `dir` from `files`; returns the path written.
fn write_page(dir: &Path, files: &RunFiles) -> anyhow::Result<PathBuf> {
    let page = render(&run_name(dir), files);
    let path = dir.join(REPORT_FILE);
    let tmp = dir.join(format!(".{REPORT_FILE}.tmp-{}", std::process::id()));
    std::fs::write(&tmp, page).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// A run's name for the page title: its folder's name (through a `latest` link), with the
/// workload folder above it.
fn run_name(dir: &Path) -> String {
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_owned());
    let mut parts = dir.iter().rev().take(2).collect::<Vec<_>>();
    parts.reverse();
    parts
        .iter()
        .map(|p| p.to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// What the page is made from.
#[derive(Debug, Clone)]
pub struct RunFiles {
    pub history: Vec<Event>,
    pub journal: JournalScan,
    /// The object of `results.json`.
    pub results: Map<String, Value>,
    /// Its top-level `valid`.
    pub valid: Validity,
    /// Why the run did not finish (its folder holds `INCOMPLETE`): then `valid` is unknown,
    /// and `results` what `results.json` holds, if anything.
    pub incomplete: Option<String>,
    /// What the files say of themselves, one line each: a last line cut off mid-line.
    pub notes: Vec<String>,
}

impl RunFiles {
    /// Read the three files of the run in `dir`. A missing or malformed file is an error that
    /// names the file (and the line, for a bad line), but for the `results.json` of a run that
    /// did not finish; a last line cut off mid-line is left out and noted.
    pub fn load(dir: &Path) -> anyhow::Result<RunFiles> {
        let incomplete = crate::store::incomplete(dir);
        let history_path = dir.join("history.jsonl");
        let history = checker::history::read_jsonl_file(&history_path)?;
        let (results, valid) = match (read_results(&dir.join("results.json")), &incomplete) {
            (Ok((results, valid)), None) => (results, valid),
            (Err(err), None) => return Err(err),
            (Ok((results, _)), Some(_)) => (results, Validity::Unknown),
            (Err(_), Some(_)) => (Map::new(), Validity::Unknown),
        };
        let journal_path = dir.join("messages.jsonl");
        let journal = journal::scan_file(&journal_path, DIAGRAM_MESSAGES, &selection(&results))?;
        let notes = [(&history_path, &history.cut), (&journal_path, &journal.cut)]
            .into_iter()
            .filter_map(|(path, cut)| Some(format!("{}: {}", file_name(path), cut.as_ref()?)))
            .collect();
        Ok(RunFiles {
            history: history.items,
            journal,
            results,
            valid,
            incomplete,
            notes,
        })
    }
}

/// The last part of `path`, for notes about a run's own files.
fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// The messages the diagram draws: the window of `results.story_window` when there is one
/// (see [`crate::story`]), else the first ones.
fn selection(results: &Map<String, Value>) -> Selection {
    let Some(window) = results.get("story_window") else {
        return Selection::First;
    };
    let at = |k: &str| window.get(k).and_then(Value::as_u64);
    match (at("from_ns"), at("to_ns")) {
        (Some(from), Some(to)) if from <= to => Selection::Window {
            from,
            to,
            marked: window
                .get("message_ids")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_u64)
                .collect(),
        },
        _ => Selection::First,
    }
}

/// The faults of the history within `[from, to]`, as marks on the diagram, after a mark at
/// `from` for each partition already in force then.
fn marks(history: &[Event], node_ids: &[String], from: u64, to: u64) -> Vec<lamport::Mark> {
    let in_force = checker::faults::partitions(history, node_ids)
        .into_iter()
        .filter(|p| p.start < from && p.at(from))
        .map(|p| lamport::Mark {
            time: from,
            label: format!(
                "partition {}, in force since {}",
                p.sides.as_deref().unwrap_or("(no clean sides)"),
                fmt_ms(p.start as f64 / 1e6)
            ),
            nodes: Vec::new(),
        });
    let events = checker::faults::nemesis_events(history)
        .into_iter()
        .filter(|e| e.time >= from && e.time <= to)
        .map(|e| {
            let kind = e.f.strip_prefix("start-").unwrap_or(e.f);
            lamport::Mark {
                time: e.time,
                label: timeline::fault_label(kind, e.value, node_ids),
                nodes: e.nodes.iter().map(|n| (*n).to_owned()).collect(),
            }
        });
    in_force.chain(events).collect()
}

/// Read `results.json`: a JSON object with a top-level `valid`.
fn read_results(path: &Path) -> anyhow::Result<(Map<String, Value>, Validity)> {
    let name = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    let value: Value =
        serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{name}:{}: {e}", e.line()))?;
    let Value::Object(results) = value else {
        bail!("{name}: not a JSON object");
    };
    let Some(valid) = results.get("valid") else {
        bail!("{name}: no top-level \"valid\"");
    };
    let valid = summary::validity(valid).with_context(|| {
        format!("{name}: \"valid\" must be true, false or \"unknown\", not {valid}")
    })?;
    Ok((results, valid))
}

/// The page. `name` names the run (its folder).
pub fn render(name: &str, files: &RunFiles) -> String {
    let results = &files.results;
    // The node names; a run recorded before they were written has only a count, of n0, n1, ...
    let run_field = |k: &str| results.get("run").and_then(|r| r.get(k));
    let node_ids: Vec<String> = match run_field("node_ids").and_then(Value::as_array) {
        Some(ids) => ids
            .iter()
            .filter_map(|id| id.as_str().map(str::to_owned))
            .collect(),
        None => run_field("node_count")
            .and_then(Value::as_u64)
            .map(|n| (0..n).map(|i| format!("n{i}")).collect())
            .unwrap_or_default(),
    };
    let tl = Timeline::new(&files.history, &node_ids);
    let end = tl.end.max(1);
    let timeout_ms = workloads::CLIENT_TIMEOUT.as_secs_f64() * 1000.0;
    let run = results.get("run");
    let field = |k: &str| run.and_then(|r| r.get(k)).map(|v| html::short_json(v, 80));
    let mut subtitle = field("workload").unwrap_or_else(|| "workload unknown".to_owned());
    if let Some(n) = field("node_count") {
        let _ = write!(subtitle, " · {n} nodes");
    }
    if let Some(bin) = field("bin") {
        let bin = Path::new(&bin)
            .file_name()
            .map_or(bin.clone(), |f| f.to_string_lossy().into_owned());
        let _ = write!(subtitle, " · node {bin}");
    }
    if let Some(seed) = field("seed") {
        let _ = write!(subtitle, " · seed {seed}");
    }
    let _ = write!(subtitle, " · run folder {name}");
    let verdict = match files.valid {
        Validity::Valid => "VALID",
        Validity::Invalid => "INVALID",
        Validity::Unknown => "UNKNOWN",
    };

    let mut out = String::with_capacity(64 * 1024);
    let _ = write!(
        out,
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{verdict}: {}</title>
<style>{CSS}</style></head><body><main>
"#,
        Esc(&subtitle)
    );
    summary::banner(
        &mut out,
        results,
        files.valid,
        &subtitle,
        files.incomplete.as_deref(),
        &files.notes,
    );
    summary::checks_table(&mut out, results);
    summary::failures(&mut out, results, files.valid, files.incomplete.as_deref());
    cycles::section(&mut out, results);
    summary::figures(&mut out, results, &tl, &files.journal);
    summary::slow_values(&mut out, results);

    out.push_str(r#"<section id="timeline"><h2>Latency of every client op</h2>"#);
    legend(&mut out, &tl);
    out.push_str(r#"<div class="scroll">"#);
    charts::latency_chart(&mut out, &tl, end, timeout_ms);
    out.push_str(r#"</div><h2>Throughput</h2><div class="scroll">"#);
    charts::throughput_chart(&mut out, &tl, end);
    out.push_str("</div>");
    if let Some(sync) = time_sync(results, &files.history) {
        out.push_str(
            r#"<h2>Skew of each node's clock</h2><p class="window">Each read of a node's clock: how far it was from the true time interval of the read, a line per node; hollow dots are reads whose node did not say it was synchronised.</p><div class="scroll">"#,
        );
        charts::skew_chart(&mut out, &tl, end, &sync);
        out.push_str("</div>");
    }
    fault_table(&mut out, &tl);
    out.push_str("</section>");
    slo_section(&mut out, results, &tl, end);

    let window = match selection(results) {
        Selection::Window { from, to, .. } => Some((from, to)),
        Selection::First => None,
    };
    let caption = results
        .get("story_window")
        .and_then(|w| w.get("caption"))
        .and_then(Value::as_str);
    match (window, caption) {
        (Some(_), Some(caption)) => {
            let _ = write!(
                out,
                r#"<section id="messages"><h2>Message-sequence diagram around the first failure</h2><p class="window">The window {}.</p>"#,
                Esc(caption)
            );
        }
        _ => out.push_str(
            r#"<section id="messages"><h2>Message-sequence diagram of the first messages</h2>"#,
        ),
    }
    let marks = window.map_or_else(Vec::new, |(from, to)| {
        marks(&files.history, &node_ids, from, to)
    });
    diagram_caption(&mut out, &files.journal, window, results);
    out.push_str(r#"<div class="scroll">"#);
    lamport::diagram(&mut out, &files.journal, &marks);
    out.push_str("</div></section>");

    summary::problems(&mut out, results);
    summary::hosts_section(&mut out, results);
    summary::run_section(&mut out, results);
    out.push_str("</main></body></html>\n");
    out
}

/// A time-sync run's skews, checked again from the history with the target and allowance
/// `results.json` names (its `workload.target_skew_ms` and `workload.convergence_s`); None
/// for other workloads.
fn time_sync(
    results: &Map<String, Value>,
    history: &[Event],
) -> Option<checker::time_sync::TimeSyncResult> {
    let workload = results.get("workload")?;
    let target = workload.get("target_skew_ms")?.as_f64()?;
    let convergence = workload.get("convergence_s")?.as_f64()?;
    let options = checker::time_sync::TimeSyncOptions {
        target_skew: std::time::Duration::try_from_secs_f64(target / 1e3).ok()?,
        convergence: std::time::Duration::try_from_secs_f64(convergence).ok()?,
    };
    checker::time_sync::check_time_sync(history, &options).ok()
}

/// The colours of the outcomes and the fault kinds, with counts.
fn legend(out: &mut String, tl: &Timeline) {
    let c = &tl.counts;
    out.push_str(r#"<p class="legend">"#);
    for (class, text, n) in [
        ("ok", "ok", c.ok),
        ("fail", "fail (did not happen)", c.fail),
        ("info", "info (may have happened)", c.info),
        ("unanswered", "unanswered", c.unanswered),
    ] {
        let _ = write!(
            out,
            r#"<span class="key"><i class="dot {class}"></i>{text} {n}</span>"#
        );
    }
    let mut kinds: Vec<&str> = tl.faults.iter().map(|f| f.kind.as_str()).collect();
    kinds.sort_by_key(|k| {
        charts::FAULT_KINDS
            .iter()
            .position(|f| f == k)
            .unwrap_or(charts::FAULT_KINDS.len())
    });
    kinds.dedup();
    for kind in kinds {
        let _ = write!(
            out,
            r#"<span class="key"><i class="swatch {}"></i>{}</span>"#,
            charts::fault_class(kind),
            Esc(kind)
        );
    }
    if tl.faults.is_empty() {
        out.push_str(r#"<span class="key">no faults injected</span>"#);
    }
    out.push_str(
        "</p><p class=\"note\">One point per op at its invocation time (ops that fall on \
         the same spot share it); shaded bands are the faults in force. Hover a band for its \
         details.</p>",
    );
}

/// Every fault interval, as a table.
fn fault_table(out: &mut String, tl: &Timeline) {
    if tl.faults.is_empty() {
        return;
    }
    out.push_str(r#"<h3>Faults</h3><table class="faults"><tr><th>fault</th><th>from</th><th>to</th><th>nemesis events</th></tr>"#);
    for fault in tl.faults.iter().take(FAULT_ROWS) {
        let detail = match html::truncate(&fault.detail, 240) {
            (head, true) => format!("{head}…"),
            (_, false) => fault.detail.clone(),
        };
        let to = match fault.end {
            Some(_) if fault.instant => "–".to_owned(),
            Some(end) => fmt_ms(end as f64 / 1e6),
            None => "still on at the end".to_owned(),
        };
        let _ = write!(
            out,
            r#"<tr><td><i class="swatch {}"></i>{}</td><td class="n">{}</td><td class="n">{}</td><td><code>{}</code></td></tr>"#,
            charts::fault_class(&fault.kind),
            Esc(&fault.label),
            fmt_ms(fault.start as f64 / 1e6),
            Esc(&to),
            Esc(&detail)
        );
    }
    out.push_str("</table>");
    if tl.faults.len() > FAULT_ROWS {
        let _ = write!(
            out,
            r#"<p class="note">The first {FAULT_ROWS} of {} fault intervals; history.jsonl has them all.</p>"#,
            tl.faults.len()
        );
    }
    if tl.unmatched_stops > 0 {
        let _ = write!(
            out,
            r#"<p class="note">{} nemesis stop event(s) found no fault of their kind in force.</p>"#,
            tl.unmatched_stops
        );
    }
}

/// What the diagram shows and what it leaves out, and the key to its colours.
fn diagram_caption(
    out: &mut String,
    scan: &JournalScan,
    window: Option<(u64, u64)>,
    results: &Map<String, Value>,
) {
    let drawn = scan.drawn.len();
    out.push_str(
        "<p class=\"note\">Time runs down; one line per process, an arrow from each send to \
         each delivery, a red cross where the network dropped a message (with the reason), \
         a dashed stub for a message the journal never delivered. Hover an arrow for the \
         message's body. ",
    );
    match window {
        Some((from, to)) => {
            let _ = write!(
                out,
                "Showing {drawn} of the {} message(s) sent from {} to {}",
                scan.in_window,
                fmt_ms(from as f64 / 1e6),
                fmt_ms(to as f64 / 1e6)
            );
            if (drawn as u64) < scan.in_window {
                let _ = write!(
                    out,
                    " (capped at {DIAGRAM_MESSAGES}: the marked ones, then those sent closest \
                     to them)"
                );
            }
        }
        None => {
            let _ = write!(out, "Showing the first {drawn} message(s)");
            if scan.handshake > 0 {
                let _ = write!(
                    out,
                    " after the opening handshake ({} init and topology messages, not drawn)",
                    scan.handshake
                );
            }
            if scan.left_out > 0 {
                let _ = write!(
                    out,
                    "; capped at {DIAGRAM_MESSAGES}: the other {} of the journal's {} sent \
                     messages are left out",
                    scan.left_out, scan.all.sends
                );
            }
        }
    }
    out.push_str(".</p>");
    if window.is_some() {
        let values: Vec<String> = results
            .get("story_window")
            .and_then(|w| w.get("values"))
            .and_then(Value::as_array)
            .map(|v| v.iter().map(|x| html::short_json(x, 40)).collect())
            .unwrap_or_default();
        let _ = write!(
            out,
            r#"<p class="legend"><span class="key"><i class="line carried"></i>a message that carried {}</span><span class="key"><i class="line client"></i>client traffic</span><span class="key"><i class="line plain"></i>other messages</span><span class="key"><i class="fault-key"></i>a fault: a dashed line across the diagram, a block on each node it hit</span></p>"#,
            Esc(&if values.is_empty() {
                "the failure's value".to_owned()
            } else {
                format!("value {}", values.join(" or "))
            })
        );
    }
}

const CSS: &str = r#"
:root{--ok:#2e7d32;--fail:#e65100;--info:#7b1fa2;--unanswered:#9e9e9e;--partition:#e53935;--kill:#37474f;--wipe:#6a1b9a;--pause:#f9a825;--loss:#1e88e5;--duplicate:#00897b;--other:#8d6e63}
*{box-sizing:border-box}
body{margin:0;background:#f6f7f9;color:#1d2329;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1180px;margin:0 auto;padding:18px 20px 40px}
h2{font-size:18px;margin:26px 0 8px;border-bottom:1px solid #d5d9de;padding-bottom:4px}
h3{font-size:15px;margin:14px 0 6px}
section{margin-bottom:8px}
code,pre{font:12px/1.4 ui-monospace,"SFMono-Regular",Menlo,Consolas,"DejaVu Sans Mono",monospace}
pre{background:#fff;border:1px solid #d5d9de;border-radius:4px;padding:8px 10px;overflow:auto;max-height:480px;white-space:pre-wrap;word-break:break-all}
table{border-collapse:collapse;background:#fff;margin:4px 0}
th,td{border:1px solid #d5d9de;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#eef0f3;font-weight:600}
td.n{text-align:right;font-variant-numeric:tabular-nums}
td.ok{color:var(--ok)}td.fail{color:var(--fail)}td.info{color:var(--info)}td.unanswered{color:#616161}
.verdict{display:flex;gap:22px;align-items:center;border-radius:8px;padding:14px 22px;border:3px solid}
.verdict .word{font-size:46px;font-weight:800;letter-spacing:1px}
.verdict .why p{margin:2px 0}.verdict .line{font-size:17px;font-weight:600}.verdict ul{margin:4px 0;padding-left:20px}
.verdict .sub{color:#4a535c;font-size:13px}
.verdict.valid{background:#e8f5e9;border-color:#2e7d32}.verdict.valid .word{color:#1b5e20}
.verdict.invalid{background:#ffebee;border-color:#c62828}.verdict.invalid .word{color:#b71c1c}
.verdict.unknown{background:#fff8e1;border-color:#ef8f00}.verdict.unknown .word{color:#b35c00}
.badge{display:inline-block;border-radius:10px;padding:0 9px;font-size:12px;font-weight:700;color:#fff}
.badge.valid{background:#2e7d32}.badge.invalid{background:#c62828}.badge.unknown{background:#ef8f00}.badge.none{background:#90a4ae}
table.checks td:last-child{color:#4a535c;font-size:13px}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:8px 0 6px}
.card{background:#fff;border:1px solid #d5d9de;border-radius:6px;padding:8px 14px;min-width:130px}
.card .value{font-size:24px;font-weight:700;font-variant-numeric:tabular-nums}.card .label{font-size:12px;color:#5b646d}
.card.bad .value{color:#c62828}
.two{display:flex;flex-wrap:wrap;gap:30px}
dl{margin:6px 0;display:grid;grid-template-columns:max-content auto;gap:2px 12px}dt{color:#5b646d}dd{margin:0}
.src{color:#7a838c;font-size:12px}
.note{color:#5b646d;font-size:13px;margin:4px 0}.note.bad{color:#c62828}
.failed{background:#fff;border:1px solid #e0b4b4;border-left:5px solid #c62828;border-radius:4px;padding:4px 14px 10px;margin:8px 0}
.failed dl.texts dd{white-space:pre-wrap}
ul.explained{padding-left:18px}ul.explained .path{font:12px ui-monospace,monospace;color:#5b646d}
details summary{cursor:pointer;font-weight:600;margin-top:6px}
.legend .key{margin-right:16px;white-space:nowrap}
i.dot,i.swatch{display:inline-block;width:10px;height:10px;margin-right:5px;vertical-align:-1px}
i.dot{border-radius:50%}
.dot.ok{background:var(--ok)}.dot.fail{background:var(--fail)}.dot.info{background:var(--info)}.dot.unanswered{background:var(--unanswered)}
.swatch{opacity:.55}.swatch.partition{background:var(--partition)}.swatch.kill{background:var(--kill)}.swatch.wipe{background:var(--wipe)}.swatch.pause{background:var(--pause)}.swatch.loss{background:var(--loss)}.swatch.duplicate{background:var(--duplicate)}.swatch.other{background:var(--other)}
.scroll{overflow-x:auto;background:#fff;border:1px solid #d5d9de;border-radius:4px}
svg text{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif}
svg.chart{display:block}
.chart .grid{stroke:#e6e8eb}.chart .axis{stroke:#5b646d}
.chart .tick{font-size:11px;fill:#4a535c}.chart .axis-title{font-size:11px;fill:#4a535c}
.chart .empty{font-size:14px;fill:#7a838c}
.chart .timeout{stroke:#7b1fa2;stroke-dasharray:5 4;stroke-width:1}
.band{opacity:.13}.bar{opacity:.6}
.band.partition,.bar.partition{fill:var(--partition)}.band.kill,.bar.kill{fill:var(--kill)}.band.wipe,.bar.wipe{fill:var(--wipe)}.band.pause,.bar.pause{fill:var(--pause)}.band.loss,.bar.loss{fill:var(--loss)}.band.duplicate,.bar.duplicate{fill:var(--duplicate)}.band.other,.bar.other{fill:var(--other)}
.band.pause{opacity:.2}
.lane-label{font-size:10px;fill:#111}.lane-name{font-size:10px;fill:#4a535c}
.pts{fill:none;stroke-linecap:round;stroke-width:4}
.pts.ok{stroke:var(--ok)}.pts.fail{stroke:var(--fail)}.pts.info{stroke:var(--info)}.pts.unanswered{stroke:var(--unanswered)}
.rate.ok{fill:var(--ok)}.rate.fail{fill:var(--fail)}.rate.info{fill:var(--info)}
.lamport .life{stroke:#b0b8c0;stroke-width:1}
.lamport .proc{font-size:12px;font-weight:700;fill:#1d2329}
.lamport .time{font-size:10px;fill:#7a838c}
.lamport .arrow{stroke:#263238;stroke-width:1;fill:none}
.lamport .client .arrow{stroke:#1e88e5}
.lamport .dropped{stroke:#c62828;stroke-width:1;stroke-dasharray:3 2}
.lamport .cross{stroke:#c62828;stroke-width:2}
.lamport .reason{font-size:9px;fill:#c62828}
.lamport .in-flight{stroke:#9e9e9e;stroke-dasharray:2 3}
.lamport .kind{font-size:9px;fill:#37474f;paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}
.lamport .client .kind{fill:#1565c0}
.lamport .carried .arrow{stroke:#d81b60;stroke-width:2}
.lamport .carried .kind{fill:#ad1457;font-weight:700}
.lamport .carried .dropped{stroke:#d81b60}
.lamport .fault-line{stroke:#c62828;stroke-dasharray:6 3;stroke-width:1}
.lamport .fault-hit{fill:#c62828}
.lamport .fault-label{font-size:10px;font-weight:700;fill:#c62828;paint-order:stroke;stroke:#fff;stroke-width:3px}
.lamport g:hover .arrow,.lamport g:hover .dropped{stroke-width:2.5}
i.line{display:inline-block;width:18px;height:0;border-top:2px solid;margin-right:5px;vertical-align:3px}
i.line.carried{border-color:#d81b60}i.line.client{border-color:#1e88e5}i.line.plain{border-color:#263238;border-top-width:1px}
i.fault-key{display:inline-block;width:12px;height:8px;background:#c62828;margin-right:5px}
p.window{font-weight:600}
p.headline{font-size:16px;font-weight:600;margin:6px 0}
ul.story li{margin:3px 0}
svg.cycle{display:block;margin:6px 0}
svg.cycle path.edge{fill:none;stroke-width:1.6}
svg.cycle .ww{stroke:#1f77b4;fill:#1f77b4}
svg.cycle .wr{stroke:#2ca02c;fill:#2ca02c}
svg.cycle .rw{stroke:#d62728;fill:#d62728}
svg.cycle .process,svg.cycle .realtime,svg.cycle .other{stroke:#7f7f7f;fill:#7f7f7f}
svg.cycle text.edge-label{stroke:none;font-size:11px;text-anchor:middle}
svg.cycle circle.txn{fill:#fff;stroke:#333;stroke-width:1.4}
svg.cycle text.txn{font-size:12px;text-anchor:middle}
p.explain{max-width:60em}
table.faults{width:100%}table.faults td.n{white-space:nowrap}table.faults td:last-child code{word-break:break-all}
table.problems tr.error td:nth-child(3){color:#c62828;font-weight:600}
pre.cmd{white-space:pre-wrap}
"#;

/// The service-level objective (`--slo`), when the run checked one: each client's share of
/// requests answered in time, window by window, against the objective.
fn slo_section(
    out: &mut String,
    results: &serde_json::Map<String, Value>,
    tl: &Timeline,
    end: u64,
) {
    let Some(slo) = results.get("slo") else {
        return;
    };
    let objective = slo.get("objective").and_then(Value::as_str).unwrap_or("?");
    let percent = objective
        .split('%')
        .next()
        .and_then(|p| p.parse::<f64>().ok());
    let mut series: Vec<charts::Series> = Vec::new();
    for w in slo
        .get("per_window")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let (Some(client), Some(start), Some(share)) = (
            w.get("client").and_then(Value::as_str),
            w.get("start_ms").and_then(Value::as_u64),
            w.get("share").and_then(Value::as_f64),
        ) else {
            continue;
        };
        let name = format!("client of {client}");
        let end_ms = w.get("end_ms").and_then(Value::as_u64).unwrap_or(start);
        let at = |ms: u64| ms.saturating_mul(1_000_000).min(end);
        let points = [(at(start), share * 100.0), (at(end_ms), share * 100.0)];
        match series.iter_mut().find(|s| s.name == name) {
            Some(s) => s.points.extend(points),
            None => series.push(charts::Series {
                name,
                points: points.to_vec(),
            }),
        }
    }
    let verdict = slo
        .get("missed")
        .and_then(Value::as_u64)
        .map_or("", |m| if m == 0 { "met" } else { "missed" });
    let _ = write!(
        out,
        r#"<section id="slo"><h2>Service-level objective {}: {verdict}</h2><p>Each client's share of requests answered within the objective's latency, window by window; a window below the dashed line misses the objective.</p><div class="scroll">"#,
        Esc(objective)
    );
    let label = objective.to_owned();
    charts::series_chart(
        out,
        tl,
        end,
        ("slo-chart", "% of requests answered in time"),
        &series,
        (0.0, 100.0),
        percent.map(|p| (p, label.as_str())),
    );
    out.push_str("</div></section>");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("report-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn write_run(dir: &Path, results: &str) {
        std::fs::write(
            dir.join("history.jsonl"),
            r#"{"index":0,"time":1000000,"process":0,"node":"n0","type":"invoke","f":"echo","value":"<x>"}
{"index":1,"time":3000000,"process":0,"node":"n0","type":"ok","f":"echo","value":"<x>"}
{"index":2,"time":3500000,"process":"nemesis","type":"info","f":"start-partition","value":{"n0":["n1"],"n1":["n0"]}}
"#,
        )
        .unwrap();
        std::fs::write(
            dir.join("messages.jsonl"),
            r#"{"time":1000000,"event":"send","id":1,"src":"c1","dest":"n0","body":{"type":"echo","echo":"<x>","msg_id":1}}
{"time":1500000,"event":"deliver","id":1,"src":"c1","dest":"n0"}
"#,
        )
        .unwrap();
        std::fs::write(dir.join("results.json"), results).unwrap();
    }

    #[test]
    fn a_missing_file_is_named() {
        let dir = scratch("missing");
        let err = write_report(&dir).unwrap_err().to_string();
        assert!(err.contains("history.jsonl"), "{err}");
        write_run(&dir, r#"{"valid": true}"#);
        std::fs::remove_file(dir.join("messages.jsonl")).unwrap();
        let err = write_report(&dir).unwrap_err().to_string();
        assert!(err.contains("messages.jsonl"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn malformed_results_are_named_with_the_reason() {
        let dir = scratch("malformed");
        write_run(&dir, "{\n\"valid\": tru }");
        let err = format!("{:#}", write_report(&dir).unwrap_err());
        assert!(err.contains("results.json:2: "), "{err}");
        write_run(&dir, r#"{"workload": {}}"#);
        let err = format!("{:#}", write_report(&dir).unwrap_err());
        assert!(
            err.contains("results.json: no top-level \"valid\""),
            "{err}"
        );
        write_run(&dir, r#"{"valid": "maybe"}"#);
        let err = format!("{:#}", write_report(&dir).unwrap_err());
        assert!(err.contains("must be true, false or \"unknown\""), "{err}");
        write_run(&dir, "[]");
        let err = format!("{:#}", write_report(&dir).unwrap_err());
        assert!(err.contains("not a JSON object"), "{err}");
        std::fs::write(dir.join("history.jsonl"), "{\"index\":0}\n").unwrap();
        let err = format!("{:#}", write_report(&dir).unwrap_err());
        assert!(err.contains("history.jsonl:1: "), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn renders_a_small_run_and_nothing_from_the_files_becomes_markup() {
        let dir = scratch("small");
        write_run(
            &dir,
            r#"{"valid": "unknown", "workload": {"valid": "unknown", "error": "<script>alert(1)</script>"},
                "run": {"workload": "echo", "node_count": 2, "seed": 9, "bin": "/x/<echo>"}}"#,
        );
        let path = write_report(&dir).unwrap();
        assert_eq!(path, dir.join("report.html"));
        let page = std::fs::read_to_string(&path).unwrap();
        assert!(page.starts_with("<!DOCTYPE html>"));
        assert!(page.contains(r#"class="verdict unknown""#));
        assert!(!page.contains("<script") && !page.contains("<x>") && !page.contains("<echo>"));
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(page.contains("default-src 'none'"));
        assert_eq!(page.matches("<svg").count(), 3);
        assert!(page.contains(r#"<rect class="band partition""#));
        assert!(page.contains("still on at the end"));
        assert!(page.contains("partition n0 | n1"));
        assert!(page.contains("seed 9"));
        // Only the files count: rendering again gives the same bytes.
        let again = write_report(&dir).unwrap();
        assert_eq!(std::fs::read_to_string(again).unwrap(), page);
        let leftovers: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains(".tmp"))
            .collect();
        assert!(leftovers.is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A run whose value 7, broadcast at n1 at 1 s, reached n0 and n1's peer n2 only in
    /// messages that n0 and n2 received before the nemesis killed all three at 2 s; no final
    /// read has it. Message 3 carries value 2 with a `seq` of 7; message 9 is long after.
    fn write_lost_run(dir: &Path) {
        let s = 1_000_000_000u64;
        let history = format!(
            r#"{{"index":0,"time":{},"process":0,"node":"n0","type":"invoke","f":"broadcast","value":2}}
{{"index":1,"time":{},"process":0,"node":"n0","type":"ok","f":"broadcast","value":2}}
{{"index":2,"time":{},"process":1,"node":"n1","type":"invoke","f":"broadcast","value":7}}
{{"index":3,"time":{},"process":1,"node":"n1","type":"ok","f":"broadcast","value":7}}
{{"index":4,"time":{},"process":"nemesis","type":"info","f":"kill","value":["n0","n1","n2"]}}
{{"index":5,"time":{},"process":"nemesis","type":"info","f":"restart","value":["n0","n1","n2"]}}
{{"index":6,"time":{},"process":2,"node":"n2","type":"invoke","f":"read","value":null,"final":true}}
{{"index":7,"time":{},"process":2,"node":"n2","type":"ok","f":"read","value":[2],"final":true}}
"#,
            s / 2,
            s / 2 + 1_000_000,
            s,
            s + 50_000_000,
            2 * s,
            3 * s,
            4 * s,
            4 * s + 1_000_000
        );
        let journal = format!(
            r#"{{"time":{a},"event":"send","id":1,"src":"c0","dest":"n0","body":{{"type":"broadcast","message":2,"msg_id":1}}}}
{{"time":{a},"event":"deliver","id":1,"src":"c0","dest":"n0"}}
{{"time":{b},"event":"send","id":3,"src":"n0","dest":"n1","body":{{"type":"gossip","seq":7,"messages":[2]}}}}
{{"time":{c},"event":"deliver","id":3,"src":"n0","dest":"n1"}}
{{"time":{s},"event":"send","id":4,"src":"c1","dest":"n1","body":{{"type":"broadcast","message":7,"msg_id":1}}}}
{{"time":{s},"event":"deliver","id":4,"src":"c1","dest":"n1"}}
{{"time":{d},"event":"send","id":5,"src":"n1","dest":"n0","body":{{"type":"gossip","seq":1,"messages":[7]}}}}
{{"time":{d},"event":"send","id":6,"src":"n1","dest":"n2","body":{{"type":"gossip","seq":2,"messages":[7]}}}}
{{"time":{e},"event":"deliver","id":5,"src":"n1","dest":"n0"}}
{{"time":{e},"event":"deliver","id":6,"src":"n1","dest":"n2"}}
{{"time":{f},"event":"send","id":8,"src":"n1","dest":"c1","body":{{"type":"broadcast_ok","in_reply_to":1}}}}
{{"time":{f},"event":"deliver","id":8,"src":"n1","dest":"c1"}}
{{"time":{g},"event":"send","id":9,"src":"n2","dest":"n0","body":{{"type":"gossip","seq":3,"messages":[]}}}}
"#,
            a = s / 2,
            b = s / 2 + 500_000,
            c = s / 2 + 10_000_000,
            d = s + 1_000_000,
            e = s + 11_000_000,
            f = s + 50_000_000,
            g = 3 * s + 500_000_000,
        );
        std::fs::write(dir.join("history.jsonl"), history).unwrap();
        std::fs::write(dir.join("messages.jsonl"), journal).unwrap();
        let events = checker::read_history_file(&dir.join("history.jsonl")).unwrap();
        let checks =
            workloads::check_run("broadcast", &events, &checker::RunCheckOptions::default());
        assert_eq!(checks.valid, Validity::Invalid);
        let story = crate::story::tell(&crate::story::Evidence {
            workload: "broadcast",
            events: &events,
            checks: &checks,
            problems: &[],
            availability: None,
            slo: None,
            abort: None,
            interrupted: false,
            valid: checks.valid,
            journal: Some(&dir.join("messages.jsonl")),
        });
        let mut results = serde_json::to_value(&checks).unwrap();
        let object = results.as_object_mut().unwrap();
        story.record(object);
        object.insert("run".into(), serde_json::json!({"node_count": 3}));
        std::fs::write(dir.join("results.json"), results.to_string()).unwrap();
    }

    #[test]
    fn the_diagram_shows_the_window_of_the_first_failure_with_the_lost_values_messages_marked() {
        let dir = scratch("window");
        write_lost_run(&dir);
        let page = std::fs::read_to_string(write_report(&dir).unwrap()).unwrap();
        assert!(page.contains(
            "<h2>Message-sequence diagram around the first failure</h2><p class=\"window\">The \
             window from just before the broadcast of 7 at 1.00 s to just after the kill of n0, \
             n1, n2 at 2.00 s.</p>"
        ));
        let start = page.find(r#"<svg id="lamport""#).unwrap();
        let svg = &page[start..start + page[start..].find("</svg>").unwrap()];
        // The client's broadcast of 7, the two gossip messages that carried it and the reply:
        // marked. The gossip of 2 (whose seq is 7) is before the window; the message at 3.5 s
        // after it.
        assert_eq!(
            svg.matches(r#"<g class="msg carried">"#).count(),
            4,
            "{svg}"
        );
        assert_eq!(svg.matches("<title>message ").count(), 4);
        for id in [4, 5, 6, 8] {
            assert!(
                svg.contains(&format!("<title>message {id}: ")),
                "message {id}"
            );
        }
        assert!(svg.contains(">kill n0 n1 n2</text>"));
        assert_eq!(svg.matches(r#"class="fault-hit""#).count(), 3);
        assert!(page.contains("a message that carried value 7"));
        assert!(page.contains(
            "<p class=\"headline\">1 acknowledged value lost after the kill of n0, n1, n2 at 2.00 s</p>"
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn files_cut_mid_line_are_read_up_to_their_last_whole_line_and_the_page_says_so() {
        let dir = scratch("cut");
        write_run(&dir, r#"{"valid": true, "workload": {"valid": true}}"#);
        let mut history = std::fs::read_to_string(dir.join("history.jsonl")).unwrap();
        history.push_str(r#"{"index":3,"time":4000000,"process":0,"#);
        std::fs::write(dir.join("history.jsonl"), history).unwrap();
        let files = RunFiles::load(&dir).unwrap();
        assert_eq!(files.history.len(), 3);
        assert_eq!(
            files.notes,
            vec![format!(
                "history.jsonl: the last line (4) is cut off mid-line (38 bytes, no newline): \
                 read up to line 3"
            )]
        );
        let page = std::fs::read_to_string(write_report(&dir).unwrap()).unwrap();
        assert!(
            page.contains("<li>history.jsonl: the last line (4) is cut off mid-line"),
            "the banner says it"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_run_that_did_not_finish_is_unknown_whatever_its_files_say() {
        let dir = scratch("incomplete");
        write_run(&dir, r#"{"valid": true, "workload": {"valid": true}}"#);
        std::fs::remove_file(dir.join("results.json")).unwrap();
        std::fs::write(dir.join(crate::store::INCOMPLETE_FILE), "not finished\n").unwrap();
        let files = RunFiles::load(&dir).unwrap();
        assert_eq!(files.valid, Validity::Unknown);
        let why = files.incomplete.clone().unwrap();
        assert!(
            why.starts_with("incomplete run: the harness stopped"),
            "{why}"
        );
        let page = render("x", &files);
        assert!(page.contains(r#"class="verdict unknown""#));
        assert!(page.contains("Not a pass: the run did not finish."));
        assert!(page.contains(&format!("<li>{why}</li>")));
        assert!(!page.contains("results.json holds no checker results"));
        assert!(page.contains("The run did not finish, so its checks never ran."));
        // Even a results.json that says valid does not make it a pass.
        write_run(&dir, r#"{"valid": true, "workload": {"valid": true}}"#);
        assert_eq!(RunFiles::load(&dir).unwrap().valid, Validity::Unknown);
        let code = run(&ReportArgs { dir: dir.clone() }).unwrap();
        assert_eq!(code, 2);
        std::fs::remove_file(dir.join(crate::store::INCOMPLETE_FILE)).unwrap();
        assert_eq!(RunFiles::load(&dir).unwrap().valid, Validity::Valid);
        assert_eq!(run(&ReportArgs { dir: dir.clone() }).unwrap(), 0);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_command_needs_a_run_folder() {
        let args = ReportArgs {
            dir: PathBuf::from("/nonexistent/store/latest"),
        };
        let err = run(&args).unwrap_err().to_string();
        assert!(err.contains("no such run folder"), "{err}");
    }
}
