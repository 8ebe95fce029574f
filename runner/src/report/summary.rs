//! The text sections of the report, from `results.json`: the verdict, each checker's verdict,
//! the key figures, the failure explained, the node problems and the run's configuration.
//!
//! Checker results are read as plain JSON, so a checker's new fields show up without a change
//! here: a checker that did not pass is shown with its text fields as text and every other
//! field as pretty-printed JSON.

use std::fmt::Write;

use checker::Validity;
use serde_json::{Map, Value};

use super::html::{Esc, pretty_json, short_json, truncate};
use super::journal::JournalScan;
use super::scale::{fmt_ms, fmt_num};
use super::timeline::{Counts, Timeline};

/// The checkers always listed, in this order, even when `results.json` lacks them.
const MAIN_CHECKERS: [(&str, &str); 3] = [
    ("workload", "not in results.json"),
    ("ordering", "not asked for (--ordering)"),
    ("availability", "not asked for (--availability)"),
];

/// Keys whose text explains a verdict, looked for inside a failed checker's fields.
const EXPLAINING: [&str; 8] = [
    "explanation",
    "why",
    "reason",
    "error",
    "text",
    "message",
    "unknown_reason",
    "description",
];

/// At most this many nested explanations are listed per checker.
const MAX_EXPLANATIONS: usize = 30;

/// The latencies of a broadcast or g-set run, and the detection times of a failure-detector
/// run: key in `workload`, what it measures, its name.
const LATENCIES: [(&str, &str, &str); 5] = [
    (
        "broadcast_latencies",
        "invoke to broadcast_ok: what the client waits",
        "broadcast latency",
    ),
    (
        "add_latencies",
        "invoke to add_ok: what the client waits",
        "add latency",
    ),
    (
        "visibility_latencies",
        "invoke to visible in every read",
        "visibility latency",
    ),
    (
        "stable_latencies",
        "Jepsen's: acknowledged or first read to visible in every read",
        "stable latency",
    ),
    (
        "detection_time_ms",
        "kill to the first read that names the killed node, per observer",
        "detection time",
    ),
];

/// Bytes of pretty JSON shown per field of a failed checker.
const FIELD_BYTES: usize = 24_000;

/// A JSON verdict (`true`, `false`, `"unknown"`), if it is one.
pub fn validity(value: &Value) -> Option<Validity> {
    serde_json::from_value(value.clone()).ok()
}

/// The verdict as the page shows it, and its CSS class.
pub fn verdict_words(v: Option<Validity>) -> (&'static str, &'static str) {
    match v {
        Some(Validity::Valid) => ("valid", "valid"),
        Some(Validity::Invalid) => ("invalid", "invalid"),
        Some(Validity::Unknown) => ("unknown: not a pass", "unknown"),
        None => ("no verdict", "unknown"),
    }
}

fn badge(out: &mut String, v: Option<Validity>) {
    let (words, class) = verdict_words(v);
    let _ = write!(out, r#"<span class="badge {class}">{words}</span>"#);
}

/// The checker results of `results`: every top-level object with a `valid` field, the main
/// ones first.
fn checkers(results: &Map<String, Value>) -> Vec<(&str, &Map<String, Value>)> {
    fn is_checker(v: &Value) -> Option<&Map<String, Value>> {
        v.as_object().filter(|o| o.contains_key("valid"))
    }
    let mut list: Vec<(&str, &Map<String, Value>)> = MAIN_CHECKERS
        .iter()
        .filter_map(|(name, _)| results.get(*name).and_then(is_checker).map(|o| (*name, o)))
        .collect();
    for (name, value) in results {
        if !MAIN_CHECKERS.iter().any(|(m, _)| m == name)
            && let Some(o) = is_checker(value)
        {
            list.push((name.as_str(), o));
        }
    }
    list
}

/// Why the run is not valid, as short phrases (empty when it is valid).
pub fn reasons(results: &Map<String, Value>, valid: Validity) -> Vec<String> {
    if valid == Validity::Valid {
        return Vec::new();
    }
    let mut reasons = Vec::new();
    let run = results.get("run");
    if let Some(abort) = run.and_then(|r| r.get("aborted")).and_then(Value::as_str) {
        reasons.push(format!("the harness could not run the test: {abort}"));
    }
    if run.and_then(|r| r.get("interrupted")) == Some(&Value::Bool(true)) {
        reasons.push("the run was interrupted".to_owned());
    }
    for (name, checker) in checkers(results) {
        match checker.get("valid").and_then(validity) {
            Some(Validity::Invalid) => reasons.push(format!("the {name} check failed")),
            Some(Validity::Unknown) => reasons.push(format!("the {name} check could not decide")),
            None => reasons.push(format!("the {name} check gave no verdict")),
            Some(Validity::Valid) => {}
        }
    }
    let errors = results
        .get("problems")
        .and_then(Value::as_array)
        .map_or(0, |p| {
            p.iter()
                .filter(|p| p.get("error") == Some(&Value::Bool(true)))
                .count()
        });
    if errors > 0 {
        reasons.push(format!(
            "nodes broke the protocol ({errors} kind{} of problem)",
            if errors == 1 { "" } else { "s" }
        ));
    }
    if reasons.is_empty() {
        reasons.push(if checkers(results).is_empty() {
            "results.json holds no checker results".to_owned()
        } else {
            "results.json gives this verdict without naming a reason".to_owned()
        });
    }
    reasons
}

/// The banner at the top: the run's verdict, plainly, and why. `incomplete` (why the run did
/// not finish) and `notes` (what the files say of themselves: a line cut off) come first among
/// the reasons.
pub fn banner(
    out: &mut String,
    results: &Map<String, Value>,
    valid: Validity,
    subtitle: &str,
    incomplete: Option<&str>,
    notes: &[String],
) {
    let (word, class, line) = match (valid, incomplete) {
        (Validity::Valid, _) => ("VALID", "valid", "Every check passed."),
        (Validity::Invalid, _) => ("INVALID", "invalid", "The run broke a guarantee."),
        (Validity::Unknown, Some(_)) => {
            ("UNKNOWN", "unknown", "Not a pass: the run did not finish.")
        }
        (Validity::Unknown, None) => (
            "UNKNOWN",
            "unknown",
            "Not a pass: the checks could not decide.",
        ),
    };
    let _ = write!(
        out,
        r#"<header id="verdict" class="verdict {class}"><div class="word">{word}</div><div class="why"><p class="line">{line}</p>"#
    );
    let mut reasons: Vec<String> = incomplete
        .map(str::to_owned)
        .into_iter()
        .chain(notes.iter().cloned())
        .collect();
    if reasons.is_empty() || !checkers(results).is_empty() {
        reasons.extend(self::reasons(results, valid));
    }
    if let Some(h) = results.get("headline").and_then(Value::as_str) {
        reasons.insert(0, h.to_owned());
    }
    if !reasons.is_empty() {
        out.push_str("<ul>");
        for reason in reasons {
            let _ = write!(out, "<li>{}</li>", Esc(&reason));
        }
        out.push_str("</ul>");
    }
    let _ = write!(
        out,
        r#"<p class="sub">{}</p></div></header>"#,
        Esc(subtitle)
    );
}

/// The scalar fields of a checker (not `valid`), as `key value` pairs, for its table row.
fn scalar_fields(checker: &Map<String, Value>) -> String {
    let mut parts = Vec::new();
    for (key, value) in checker {
        if key == "valid" {
            continue;
        }
        match value {
            Value::Number(n) => parts.push(match (n.as_u64(), n.as_i64(), n.as_f64()) {
                (Some(_), _, _) | (_, Some(_), _) => format!("{key} {n}"),
                (_, _, Some(f)) => format!("{key} {}", fmt_num(f)),
                _ => format!("{key} {n}"),
            }),
            Value::Bool(_) => parts.push(format!("{key} {value}")),
            Value::String(s) if s.len() <= 40 => parts.push(format!("{key} {s}")),
            _ => {}
        }
    }
    parts.join(" · ")
}

/// The table of every checker's verdict.
pub fn checks_table(out: &mut String, results: &Map<String, Value>) {
    out.push_str(r#"<section id="checks"><h2>Checks</h2><table class="checks"><tr><th>check</th><th>verdict</th><th>figures</th></tr>"#);
    let present = checkers(results);
    let row = |out: &mut String, name: &str, checker: &Map<String, Value>| {
        let _ = write!(out, "<tr><td>{}</td><td>", Esc(name));
        badge(out, checker.get("valid").and_then(validity));
        let _ = write!(out, "</td><td>{}</td></tr>", Esc(&scalar_fields(checker)));
    };
    for (name, absent) in MAIN_CHECKERS {
        match present.iter().find(|(n, _)| *n == name) {
            Some((_, checker)) => row(out, name, checker),
            None => {
                let _ = write!(
                    out,
                    r#"<tr><td>{name}</td><td><span class="badge none">not checked</span></td><td>{absent}</td></tr>"#
                );
            }
        }
    }
    for (name, checker) in &present {
        if !MAIN_CHECKERS.iter().any(|(m, _)| m == name) {
            row(out, name, checker);
        }
    }
    out.push_str("</table></section>");
}

/// Messages per op: `net.servers.msgs_per_op` when `results.json` has it, else server-to-server
/// sends over client invocations; with where the figure comes from.
pub fn msgs_per_op(
    results: &Map<String, Value>,
    scan: &JournalScan,
    invoked: u64,
) -> (Option<f64>, &'static str) {
    let given = results
        .get("net")
        .and_then(|n| n.get("servers"))
        .and_then(|s| s.get("msgs_per_op"))
        .and_then(Value::as_f64);
    match given {
        Some(v) => (Some(v), "net.servers.msgs_per_op"),
        None if invoked > 0 => (
            Some(scan.servers.sends as f64 / invoked as f64),
            "server-to-server sends in messages.jsonl / client invocations",
        ),
        None => (None, "no client invocations"),
    }
}

fn card(out: &mut String, value: &str, label: &str, class: &str) {
    let _ = write!(
        out,
        r#"<div class="card {class}"><div class="value">{}</div><div class="label">{}</div></div>"#,
        Esc(value),
        Esc(label)
    );
}

fn counts_row(out: &mut String, name: &str, c: &Counts) {
    let _ = write!(
        out,
        r#"<tr><td>{}</td><td class="n">{}</td><td class="n ok">{}</td><td class="n fail">{}</td><td class="n info">{}</td><td class="n unanswered">{}</td></tr>"#,
        Esc(name),
        c.invoked,
        c.ok,
        c.fail,
        c.info,
        c.unanswered
    );
}

/// The latency quantiles of a checker field (`{"0": ms, "0.5": ms, ...}`) as one line.
fn quantiles_line(q: &Map<String, Value>) -> String {
    let name = |k: &str| match k {
        "0" => "min".to_owned(),
        "0.5" => "median".to_owned(),
        "1" => "max".to_owned(),
        other => other
            .parse::<f64>()
            .map_or_else(|_| other.to_owned(), |p| format!("p{}", fmt_num(p * 100.0))),
    };
    let mut items: Vec<(f64, String)> = q
        .iter()
        .map(|(k, v)| {
            let text = v.as_f64().map_or_else(|| short_json(v, 20), fmt_ms);
            (k.parse().unwrap_or(f64::MAX), format!("{} {text}", name(k)))
        })
        .collect();
    items.sort_by(|a, b| a.0.total_cmp(&b.0));
    items
        .into_iter()
        .map(|(_, s)| s)
        .collect::<Vec<_>>()
        .join(" · ")
}

/// The key figures: ops, messages per op, latencies, network.
pub fn figures(out: &mut String, results: &Map<String, Value>, tl: &Timeline, scan: &JournalScan) {
    out.push_str(r#"<section id="figures"><h2>Key figures</h2><div class="cards">"#);
    let c = &tl.counts;
    card(out, &c.invoked.to_string(), "client ops invoked", "");
    let ok_share = if c.invoked > 0 {
        format!(
            "{}%",
            fmt_num((c.ok as f64 / c.invoked as f64 * 1000.0).round() / 10.0)
        )
    } else {
        "–".to_owned()
    };
    card(out, &ok_share, "of them ok", "");
    let (per_op, source) = msgs_per_op(results, scan, c.invoked);
    let ratio = |v: f64| fmt_num((v * 100.0).round() / 100.0);
    let per_op_text = per_op.map_or("–".to_owned(), ratio);
    card(out, &per_op_text, "server messages per op", "");
    let per_broadcast = results
        .get("net")
        .and_then(|n| n.get("servers"))
        .and_then(|s| s.get("msgs_per_broadcast"))
        .and_then(Value::as_f64);
    if let Some(v) = per_broadcast {
        card(out, &ratio(v), "server messages per broadcast", "");
    }
    let workload = results.get("workload").and_then(Value::as_object);
    for (key, _, label) in LATENCIES {
        let q = workload.and_then(|w| w.get(key)).and_then(Value::as_object);
        let at = |k: &str| q.and_then(|q| q.get(k)).and_then(Value::as_f64);
        if let (Some(p50), Some(max)) = (at("0.5"), at("1")) {
            card(
                out,
                &format!("{} · {}", fmt_ms(p50), fmt_ms(max)),
                &format!("{label}, median · max"),
                "",
            );
        }
    }
    if let Some(lost) = workload
        .and_then(|w| w.get("lost_count"))
        .and_then(Value::as_u64)
    {
        // Named after the op that adds the values: the one whose latencies are there.
        let add = ["broadcast", "add"]
            .into_iter()
            .find(|op| workload.is_some_and(|w| w.contains_key(&format!("{op}_latencies"))))
            .unwrap_or("broadcast");
        card(
            out,
            &lost.to_string(),
            &format!("{add}s lost"),
            if lost > 0 { "bad" } else { "" },
        );
    }
    if let Some(w) = workload.filter(|w| w.contains_key("false_suspicions")) {
        let count = |v: Option<&Value>| v.and_then(Value::as_u64).unwrap_or(0);
        let missed = count(w.get("missed_count"));
        card(
            out,
            &missed.to_string(),
            "missed detections",
            if missed > 0 { "bad" } else { "" },
        );
        let false_suspicions = w.get("false_suspicions");
        card(
            out,
            &count(false_suspicions.and_then(|s| s.get("count"))).to_string(),
            "false suspicions",
            "",
        );
    }
    card(out, &scan.all.drops.to_string(), "messages dropped", "");
    card(out, &tl.faults.len().to_string(), "fault intervals", "");
    out.push_str("</div>");

    out.push_str(r#"<div class="two"><div><h3>Client ops by function</h3><table class="ops"><tr><th>f</th><th>invoked</th><th>ok</th><th>fail</th><th>info</th><th>unanswered</th></tr>"#);
    for (f, counts) in &tl.by_f {
        counts_row(out, f, counts);
    }
    counts_row(out, "all", c);
    out.push_str("</table>");
    if tl.orphans > 0 {
        let _ = write!(
            out,
            r#"<p class="note bad">{} completion(s) in the history had no invocation open.</p>"#,
            tl.orphans
        );
    }
    out.push_str(r#"</div><div><h3>Network</h3><table class="net"><tr><th></th><th>sent</th><th>delivered</th><th>dropped</th></tr>"#);
    let clients = super::journal::Counts {
        sends: scan.all.sends - scan.servers.sends,
        delivers: scan.all.delivers - scan.servers.delivers,
        drops: scan.all.drops - scan.servers.drops,
    };
    for (name, counts) in [
        ("all messages", &scan.all),
        ("between servers", &scan.servers),
        ("to or from clients", &clients),
    ] {
        let _ = write!(
            out,
            r#"<tr><td>{name}</td><td class="n">{}</td><td class="n">{}</td><td class="n">{}</td></tr>"#,
            counts.sends, counts.delivers, counts.drops
        );
    }
    out.push_str("</table><dl>");
    let _ = write!(
        out,
        "<dt>messages per op</dt><dd>{} <span class=\"src\">({})</span></dd>",
        Esc(&per_op_text),
        Esc(source)
    );
    if let Some(v) = per_broadcast {
        let _ = write!(
            out,
            "<dt>messages per broadcast</dt><dd>{} <span class=\"src\">(net.servers.msgs_per_broadcast: \
             server-to-server sends / broadcast invocations)</span></dd>",
            Esc(&ratio(v))
        );
    }
    if !scan.drop_reasons.is_empty() {
        let reasons: Vec<String> = scan
            .drop_reasons
            .iter()
            .map(|(reason, n)| format!("{reason} {n}"))
            .collect();
        let _ = write!(
            out,
            "<dt>drops by reason</dt><dd>{}</dd>",
            Esc(&reasons.join(" · "))
        );
    }
    for (key, meaning, label) in LATENCIES.into_iter().chain([(
        "lost_latencies",
        "acknowledged to the last read that had it",
        "lost latency",
    )]) {
        if let Some(q) = workload.and_then(|w| w.get(key)).and_then(Value::as_object) {
            let _ = write!(
                out,
                "<dt>{label}</dt><dd>{} <span class=\"src\">({meaning})</span></dd>",
                Esc(&quantiles_line(q))
            );
        }
    }
    if let Some(a) = results.get("availability").and_then(Value::as_object) {
        let fraction = a.get("ok_fraction").and_then(Value::as_f64);
        let required = a.get("required").map(|v| short_json(v, 20));
        if let (Some(f), Some(r)) = (fraction, required) {
            let _ = write!(
                out,
                "<dt>availability</dt><dd>{}% ok (required: {})</dd>",
                fmt_num((f * 1000.0).round() / 10.0),
                Esc(&r)
            );
        }
    }
    out.push_str("</dl></div></div></section>");
}

/// Nested explanatory texts of a value: `path: text` for fields named in [`EXPLAINING`].
fn explanations(value: &Value, path: &str, depth: usize, found: &mut Vec<(String, String)>) {
    if depth > 5 || found.len() >= MAX_EXPLANATIONS {
        return;
    }
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                let here = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                match v {
                    Value::String(s) if depth > 0 && EXPLAINING.contains(&key.as_str()) => {
                        if found.len() < MAX_EXPLANATIONS {
                            found.push((here, s.clone()));
                        }
                    }
                    _ => explanations(v, &here, depth + 1, found),
                }
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                explanations(v, &format!("{path}[{i}]"), depth + 1, found);
            }
        }
        _ => {}
    }
}

/// The strings of an array field of `results`.
fn strings<'a>(results: &'a Map<String, Value>, key: &str) -> Vec<&'a str> {
    results
        .get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

/// What went wrong, told: the run's `headline` and `story` (see [`crate::story`]); then every
/// checker that did not pass, explained: its text fields as text, the explanations found
/// inside its other fields, then each other field as pretty-printed JSON (folded away under
/// the story when there is one). `incomplete` says the run did not finish.
pub fn failures(
    out: &mut String,
    results: &Map<String, Value>,
    valid: Validity,
    incomplete: Option<&str>,
) {
    let failed: Vec<_> = checkers(results)
        .into_iter()
        .filter(|(_, c)| c.get("valid").and_then(validity) != Some(Validity::Valid))
        .collect();
    if failed.is_empty() && valid == Validity::Valid {
        return;
    }
    out.push_str(r#"<section id="failure"><h2>What went wrong</h2>"#);
    let headline = results.get("headline").and_then(Value::as_str);
    let story = strings(results, "story");
    if let Some(h) = headline {
        let _ = write!(out, r#"<p class="headline">{}</p>"#, Esc(h));
    }
    if !story.is_empty() {
        out.push_str(r#"<ul class="story">"#);
        for line in &story {
            let _ = write!(out, "<li>{}</li>", Esc(line));
        }
        out.push_str("</ul>");
    }
    if failed.is_empty() && checkers(results).is_empty() && incomplete.is_some() {
        out.push_str(r#"<p>The run did not finish, so its checks never ran. <code>harness check</code> on this folder checks what was recorded until it stopped; the verdict stays unknown.</p>"#);
    } else if failed.is_empty() && checkers(results).is_empty() {
        out.push_str(r#"<p>results.json holds no checker results, so no check could decide (see the node problems and the run below).</p>"#);
    } else if failed.is_empty() {
        out.push_str(r#"<p>Every checker passed; the verdict comes from the run itself (see the reasons above, the node problems and the run below).</p>"#);
    }
    let told = headline.is_some() || !story.is_empty();
    if told && !failed.is_empty() {
        out.push_str(
            r#"<details class="raw"><summary>The results of the checkers that did not pass, as results.json holds them</summary>"#,
        );
    }
    for (name, checker) in failed.iter().copied() {
        let _ = write!(out, r#"<div class="failed"><h3>{} "#, Esc(name));
        badge(out, checker.get("valid").and_then(validity));
        out.push_str("</h3>");
        // Text and other scalar fields as text; arrays and objects as JSON below.
        let scalars: Vec<(&String, String)> = checker
            .iter()
            .filter(|(k, v)| *k != "valid" && !v.is_array() && !v.is_object())
            .map(|(k, v)| {
                let text = short_json(v, usize::MAX);
                match truncate(&text, FIELD_BYTES) {
                    (head, true) => (k, format!("{head}… (cut here: results.json has it all)")),
                    (_, false) => (k, text),
                }
            })
            .collect();
        if !scalars.is_empty() {
            out.push_str(r#"<dl class="texts">"#);
            for (key, text) in scalars {
                let _ = write!(out, "<dt>{}</dt><dd>{}</dd>", Esc(key), Esc(&text));
            }
            out.push_str("</dl>");
        }
        let mut found = Vec::new();
        explanations(&Value::Object(checker.clone()), "", 0, &mut found);
        if !found.is_empty() {
            out.push_str(r#"<ul class="explained">"#);
            for (path, text) in &found {
                let _ = write!(
                    out,
                    r#"<li><span class="path">{}</span> {}</li>"#,
                    Esc(path),
                    Esc(text)
                );
            }
            out.push_str("</ul>");
            if found.len() >= MAX_EXPLANATIONS {
                let _ = write!(
                    out,
                    r#"<p class="note">The first {MAX_EXPLANATIONS} explanations; the fields below hold them all.</p>"#
                );
            }
        }
        for (key, value) in checker {
            if !value.is_array() && !value.is_object() {
                continue;
            }
            let text = pretty_json(value, FIELD_BYTES);
            let open = if text.len() <= 6000 { " open" } else { "" };
            let _ = write!(
                out,
                r#"<details{open}><summary>{}</summary><pre>{}</pre></details>"#,
                Esc(key),
                Esc(&text)
            );
        }
        out.push_str("</div>");
    }
    if told && !failed.is_empty() {
        out.push_str("</details>");
    }
    out.push_str("</section>");
}

/// The values slowest to reach every read (`results.slow_values`), one sentence each.
pub fn slow_values(out: &mut String, results: &Map<String, Value>) {
    let lines = strings(results, "slow_values");
    if lines.is_empty() {
        return;
    }
    out.push_str(
        r#"<section id="slow"><h2>Slowest to reach every read</h2><p class="note">Stable, but late: each value's stable latency, and the node whose read last lacked it.</p><ul class="story">"#,
    );
    for line in lines {
        let _ = write!(out, "<li>{}</li>", Esc(line));
    }
    out.push_str("</ul></section>");
}

/// The node problems of `results.problems`.
pub fn problems(out: &mut String, results: &Map<String, Value>) {
    out.push_str(r#"<section id="problems"><h2>Node problems</h2>"#);
    let list = results.get("problems").and_then(Value::as_array);
    let Some(list) = list.filter(|l| !l.is_empty()) else {
        out.push_str(r#"<p>None: every node kept to the protocol.</p></section>"#);
        return;
    };
    out.push_str(r#"<table class="problems"><tr><th>node</th><th>problem</th><th>severity</th><th>count</th><th>first at</th><th>first example</th></tr>"#);
    for p in list {
        let field = |k: &str| p.get(k).map(|v| short_json(v, 300)).unwrap_or_default();
        let error = p.get("error") != Some(&Value::Bool(false));
        let first = p
            .get("first_at_ms")
            .and_then(Value::as_f64)
            .map(fmt_ms)
            .unwrap_or_default();
        let description = match (field("description"), field("kind")) {
            (d, k) if d.is_empty() => k,
            (d, k) => format!("{d} ({k})"),
        };
        let _ = write!(
            out,
            r#"<tr class="{}"><td>{}</td><td>{}</td><td>{}</td><td class="n">{}</td><td class="n">{}</td><td><code>{}</code></td></tr>"#,
            if error { "error" } else { "warning" },
            Esc(&field("node")),
            Esc(&description),
            if error {
                "error: the run is invalid"
            } else {
                "warning"
            },
            Esc(&field("count")),
            Esc(&first),
            Esc(&field("example"))
        );
    }
    out.push_str("</table></section>");
}

/// The run: seed, how to reproduce, and its configuration.
/// A run across hosts (`--hosts`): each host's nodes, its clock offset to the controller with
/// the uncertainty of that estimate (NTP's delay / 2), how partitions were made, and the
/// measured one-way delays of node-to-node messages.
pub fn hosts_section(out: &mut String, results: &Map<String, Value>) {
    let Some(hosts) = results.get("hosts") else {
        return;
    };
    out.push_str(r#"<section id="hosts"><h2>Hosts</h2>"#);
    out.push_str(
        r#"<p>The nodes ran under <code>harness agent</code> on these hosts. Each agent's clock offset to the controller was measured as NTP measures it (offset ((t1 − t0) + (t2 − t3)) / 2, exact to within half the round trip); every event a host reported is placed at its time less that offset.</p>"#,
    );
    out.push_str(r#"<table class="config"><tr><th>host</th><th>agent</th><th>nodes</th><th>clock offset</th><th>uncertainty</th><th>round trip</th><th>partitions</th></tr>"#);
    for host in hosts["hosts"].as_array().into_iter().flatten() {
        let ms = |key: &str| {
            host[key]
                .as_f64()
                .map_or_else(|| "?".to_owned(), |v| format!("{v:+.3} ms"))
        };
        let nodes = crate::results::host_nodes(host);
        let _ = write!(
            out,
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>± {}</td><td>{}</td><td>{}</td></tr>",
            Esc(host["host"].as_str().unwrap_or("?")),
            Esc(host["agent"].as_str().unwrap_or("?")),
            Esc(&nodes.join(", ")),
            Esc(&ms("clock_offset_ms")),
            Esc(ms("clock_uncertainty_ms").trim_start_matches('+')),
            Esc(ms("round_trip_ms").trim_start_matches('+')),
            if host["firewall"].as_bool() == Some(true) {
                "firewall (nftables) and agents"
            } else {
                "agents drop"
            }
        );
    }
    out.push_str("</table>");
    for host in hosts["hosts"].as_array().into_iter().flatten() {
        for (from, to) in crate::results::silent_periods(host) {
            let until = to.map_or_else(|| "the end".to_owned(), |to| format!("{to:.1} s"));
            let _ = write!(
                out,
                "<p>{} (<code>{}</code>) answered no clock probe from {from:.1} s to {}: its host could not be reached (a pulled cable, a frozen host); its nodes' messages waited meanwhile.</p>",
                Esc(host["host"].as_str().unwrap_or("?")),
                Esc(host["agent"].as_str().unwrap_or("?")),
                Esc(&until)
            );
        }
    }
    for (key, name) in [
        ("same_host", "within a host"),
        ("across_hosts", "across hosts"),
    ] {
        let q = &hosts["measured_delay_ms"][key];
        if q["count"].as_u64().unwrap_or(0) > 0 {
            let _ = write!(
                out,
                "<p>Measured one-way delay {name} (send to delivery, configured latency included): p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms over {} messages.</p>",
                q["p50"].as_f64().unwrap_or(f64::NAN),
                q["p99"].as_f64().unwrap_or(f64::NAN),
                q["max"].as_f64().unwrap_or(f64::NAN),
                q["count"].as_u64().unwrap_or(0)
            );
        }
    }
    out.push_str("</section>");
}

pub fn run_section(out: &mut String, results: &Map<String, Value>) {
    out.push_str(r#"<section id="run"><h2>Run</h2>"#);
    let Some(run) = results.get("run").and_then(Value::as_object) else {
        out.push_str(r#"<p class="note">results.json has no "run" section.</p></section>"#);
        return;
    };
    if let Some(seed) = run.get("seed") {
        let _ = write!(
            out,
            r#"<p>Seed <code>{}</code>. The ops the clients asked for and the faults came from it (their fingerprints are under <code>schedule</code>); how the nodes' messages interleaved came from the machine's timing.</p>"#,
            Esc(&short_json(seed, 40))
        );
    }
    if let Some(cmd) = run.get("reproduce").and_then(Value::as_str) {
        let _ = write!(
            out,
            r#"<p>Reproduce with:</p><pre class="cmd">{}</pre>"#,
            Esc(cmd)
        );
    }
    out.push_str(r#"<table class="config">"#);
    for (key, value) in run {
        if key == "reproduce" {
            continue;
        }
        let _ = write!(
            out,
            "<tr><td>{}</td><td><code>{}</code></td></tr>",
            Esc(key),
            Esc(&short_json(value, 400))
        );
    }
    out.push_str("</table></section>");
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn object(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn unknown_is_never_shown_as_a_pass() {
        let results = object(json!({"workload": {"valid": "unknown"}, "valid": "unknown"}));
        let mut out = String::new();
        banner(&mut out, &results, Validity::Unknown, "sub", None, &[]);
        assert!(out.contains(r#"class="verdict unknown""#));
        assert!(out.contains("UNKNOWN") && out.contains("Not a pass"));
        assert!(!out.contains("VALID<") && !out.contains("passed"));
        assert!(out.contains("the workload check could not decide"));
        let mut out = String::new();
        checks_table(&mut out, &results);
        assert!(out.contains(r#"<span class="badge unknown">unknown: not a pass</span>"#));
        assert!(out.contains("not asked for (--ordering)"));
    }

    #[test]
    fn reasons_name_aborts_problems_and_checkers() {
        let results = object(json!({
            "workload": {"valid": true},
            "ordering": {"valid": false},
            "problems": [{"node": "n0", "error": true}, {"node": "n1", "error": false}],
            "run": {"aborted": "n0 did not answer init", "interrupted": false},
        }));
        let reasons = reasons(&results, Validity::Invalid);
        assert_eq!(
            reasons,
            vec![
                "the harness could not run the test: n0 did not answer init",
                "the ordering check failed",
                "nodes broke the protocol (1 kind of problem)",
            ]
        );
        assert!(super::reasons(&results, Validity::Valid).is_empty());
    }

    #[test]
    fn a_failed_checker_shows_text_as_text_and_the_rest_as_json() {
        let results = object(json!({
            "ordering": {
                "valid": false,
                "mode": "fifo",
                "explanation": "n1 delivered 7 before 3 <b>",
                "violations": [{"why": "3 was broadcast before 7 by n0", "read": {"index": 4}}],
            },
            "workload": {"valid": true, "lost_count": 0},
        }));
        let mut out = String::new();
        failures(&mut out, &results, Validity::Invalid, None);
        assert!(out.contains("<dt>explanation</dt><dd>n1 delivered 7 before 3 &lt;b&gt;</dd>"));
        assert!(out.contains(
            r#"<span class="path">violations[0].why</span> 3 was broadcast before 7 by n0"#
        ));
        assert!(out.contains("<summary>violations</summary><pre>[\n  {"));
        assert!(out.contains("&quot;index&quot;: 4"));
        assert!(
            !out.contains("<h3>workload"),
            "a passing checker is not a failure"
        );
        let mut none = String::new();
        failures(
            &mut none,
            &object(json!({"workload": {"valid": true}})),
            Validity::Valid,
            None,
        );
        assert!(none.is_empty());
    }

    #[test]
    fn the_story_comes_first_and_the_raw_results_fold_away_below_it() {
        let results = object(json!({
            "workload": {"valid": false, "lost_count": 1, "lost": [17]},
            "headline": "1 acknowledged value lost after the kill of n0, n3, n4 at 4.10 s",
            "story": ["value 17 (acknowledged at 3.20 s by n3) was held by n0, n3, n4; the kill of n0, n3, n4 at 4.10 s took every holder; no final read has it"],
            "slow_values": ["value 9 (known at 1.00 s) reached every read only 300 ms later: n2 still lacked it in its read at 1.30 s"],
        }));
        let mut out = String::new();
        failures(&mut out, &results, Validity::Invalid, None);
        let headline = out.find(r#"<p class="headline">1 acknowledged value lost after the kill"#);
        let story = out.find("<li>value 17 (acknowledged at 3.20 s by n3) was held by n0, n3, n4;");
        let raw = out.find(r#"<details class="raw"><summary>"#);
        assert!(headline < story && story < raw && raw.is_some(), "{out}");
        assert!(out.contains("<summary>lost</summary>"));
        let mut slow = String::new();
        slow_values(&mut slow, &results);
        assert!(slow.contains("<li>value 9 (known at 1.00 s)"));
        let mut none = String::new();
        slow_values(&mut none, &Map::new());
        assert!(none.is_empty());
    }

    #[test]
    fn a_failure_detector_run_shows_its_detection_time_missed_detections_and_false_suspicions() {
        let results = object(json!({"workload": {
            "valid": true,
            "missed_count": 0,
            "detection_time_ms": {"0": 420, "0.5": 510, "0.95": 600, "0.99": 640, "1": 650},
            "false_suspicions": {"count": 14},
        }}));
        let mut out = String::new();
        figures(
            &mut out,
            &results,
            &Timeline::default(),
            &JournalScan::default(),
        );
        assert!(out.contains("detection time, median · max"), "{out}");
        assert!(out.contains(r#"<div class="value">14</div><div class="label">false suspicions"#));
        assert!(out.contains("<dt>detection time</dt>"), "{out}");
        assert!(
            out.contains(r#"<div class="label">missed detections"#),
            "{out}"
        );
    }

    #[test]
    fn msgs_per_op_prefers_the_results_and_falls_back_to_the_journal() {
        let mut scan = JournalScan::default();
        scan.servers.sends = 30;
        let given = object(json!({"net": {"servers": {"msgs_per_op": 2.5}}}));
        assert_eq!(msgs_per_op(&given, &scan, 10).0, Some(2.5));
        let computed = msgs_per_op(&Map::new(), &scan, 10);
        assert_eq!(computed.0, Some(3.0));
        assert!(computed.1.contains("messages.jsonl"));
        assert_eq!(msgs_per_op(&Map::new(), &scan, 0).0, None);
    }

    #[test]
    fn quantiles_read_as_words() {
        let q = object(json!({"0": 0, "0.5": 12, "0.95": 40, "0.99": 85, "1": 1500}));
        assert_eq!(
            quantiles_line(&q),
            "min 0 ms · median 12 ms · p95 40 ms · p99 85 ms · max 1.5 s"
        );
    }

    #[test]
    fn hosts_show_their_clock_offsets_and_escape_what_the_agents_said() {
        let results = object(json!({
            "hosts": {
                "hosts": [{"agent": "10.0.0.2:7077", "host": "<pi>", "nodes": ["n1"],
                    "clock_offset_ms": -2.5, "clock_uncertainty_ms": 0.25,
                    "round_trip_ms": 0.5, "clock_probes": 9, "firewall": true,
                    "silent_periods_s": [[4.0, 11.5]]}],
                "measured_delay_ms": {"same_host": {"count": 0},
                    "across_hosts": {"count": 3, "p50": 1.0, "p99": 2.0, "max": 3.0}},
            }
        }));
        let mut out = String::new();
        hosts_section(&mut out, &results);
        assert!(out.contains("-2.500 ms"), "{out}");
        assert!(out.contains("± 0.250 ms"), "{out}");
        assert!(out.contains("from 4.0 s to 11.5 s"), "{out}");
        assert!(out.contains("&lt;pi&gt;"), "{out}");
        assert!(out.contains("across hosts"), "{out}");
        assert!(!out.contains("within a host"), "{out}");
        let mut none = String::new();
        hosts_section(&mut none, &object(json!({})));
        assert!(none.is_empty());
    }

    #[test]
    fn problems_and_run_are_escaped() {
        let results = object(json!({
            "problems": [{"node": "n0", "kind": "malformed-line", "error": true,
                          "description": "wrote lines that are not protocol messages",
                          "count": 3, "first_at_ms": 12.5, "example": "<img src=x onerror=alert(1)>"}],
            "run": {"seed": 7, "reproduce": "harness test -w echo --bin './a b' --seed 7", "node_count": 3},
        }));
        let mut out = String::new();
        problems(&mut out, &results);
        run_section(&mut out, &results);
        assert!(!out.contains("<img"));
        assert!(out.contains("&lt;img src=x onerror=alert(1)&gt;"));
        assert!(out.contains("error: the run is invalid"));
        assert!(out.contains("--bin &#39;./a b&#39; --seed 7"));
        assert!(out.contains("<td>node_count</td><td><code>3</code></td>"));
    }
}
