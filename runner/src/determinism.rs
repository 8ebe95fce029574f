//! `harness test --sim --check-determinism`: run the same test twice and compare what the two
//! runs wrote, byte for byte: `history.jsonl`, `messages.jsonl`, and `results.json` without
//! its wall-clock fields (`run.wall_clock`, the one place they are kept). The first difference
//! is named: the file, the line (an operation or a message, with its time) and both versions.
//!
//! Under the simulator every choice comes from the seed and time is virtual, so two runs must
//! agree; a difference is a bug of the harness or of a node (a `HashMap` iterated, the wall
//! clock read, a thread), and the first differing event is where to look.

use std::path::Path;

use anyhow::Context;

use crate::config::TestConfig;
use crate::results::RunOutcome;
use crate::run::run_test;

/// The files compared, in the order they are compared.
pub const COMPARED: [&str; 3] = ["history.jsonl", "messages.jsonl", "results.json"];

/// Where two runs first differ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    pub file: &'static str,
    /// 1-based line number (for results.json, the JSON path of the first differing field).
    pub place: String,
    pub first: String,
    pub second: String,
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} differs first at {}:\n  first run:  {}\n  second run: {}",
            self.file,
            self.place,
            clip(&self.first),
            clip(&self.second)
        )
    }
}

fn clip(text: &str) -> String {
    const MAX: usize = 400;
    if text.len() <= MAX {
        return text.to_owned();
    }
    let mut end = MAX;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... ({} bytes)", &text[..end], text.len())
}

/// Run the test twice and compare; print what was found. The exit code is the first run's,
/// or 1 when the runs differ (3 when a run could not run).
pub fn check(config: TestConfig) -> anyhow::Result<u8> {
    let quiet = config.quiet;
    let first = run_test(config.clone())?;
    if first.exit_code == 3 {
        return Ok(3);
    }
    let second = run_test(TestConfig {
        quiet: true,
        ..config.clone()
    })?;
    let difference = compare_runs(&first.dir, &second.dir)?;
    if !quiet {
        println!();
        match &difference {
            None => println!(
                "determinism: the two runs of seed {} wrote the same {} (apart from \
                 run.wall_clock)\n  {}\n  {}",
                config.seed,
                COMPARED.join(", "),
                first.dir.display(),
                second.dir.display()
            ),
            Some(difference) => println!(
                "determinism: the two runs of seed {} DIFFER: {difference}\n  {}\n  {}",
                config.seed,
                first.dir.display(),
                second.dir.display()
            ),
        }
    }
    Ok(verdict_code(&first, difference.is_some()))
}

fn verdict_code(first: &RunOutcome, differ: bool) -> u8 {
    if differ { 1 } else { first.exit_code }
}

/// The first difference between the runs in folders `a` and `b`, if any.
pub fn compare_runs(a: &Path, b: &Path) -> anyhow::Result<Option<Difference>> {
    for file in COMPARED {
        let read = |dir: &Path| {
            std::fs::read_to_string(dir.join(file))
                .with_context(|| format!("reading {}", dir.join(file).display()))
        };
        let (x, y) = (read(a)?, read(b)?);
        let difference = if file == "results.json" {
            compare_results(&x, &y)?
        } else {
            compare_lines(file, &x, &y)
        };
        if difference.is_some() {
            return Ok(difference);
        }
    }
    Ok(None)
}

fn compare_lines(file: &'static str, x: &str, y: &str) -> Option<Difference> {
    let (mut xs, mut ys) = (x.lines(), y.lines());
    let mut line = 0;
    loop {
        line += 1;
        match (xs.next(), ys.next()) {
            (None, None) => return None,
            (a, b) if a == b => continue,
            (a, b) => {
                return Some(Difference {
                    file,
                    place: format!("line {line}"),
                    first: a.unwrap_or("(the file ends)").to_owned(),
                    second: b.unwrap_or("(the file ends)").to_owned(),
                });
            }
        }
    }
}

fn compare_results(x: &str, y: &str) -> anyhow::Result<Option<Difference>> {
    let parse = |text: &str| -> anyhow::Result<serde_json::Value> {
        let mut value: serde_json::Value =
            serde_json::from_str(text).context("results.json does not parse")?;
        if let Some(run) = value.get_mut("run").and_then(|r| r.as_object_mut()) {
            run.remove("wall_clock");
        }
        Ok(value)
    };
    let (x, y) = (parse(x)?, parse(y)?);
    Ok(
        first_difference(&x, &y, "results.json".to_owned()).map(|(path, a, b)| Difference {
            file: "results.json",
            place: path,
            first: a,
            second: b,
        }),
    )
}

/// The path of the first field where `x` and `y` differ, with both values.
fn first_difference(
    x: &serde_json::Value,
    y: &serde_json::Value,
    path: String,
) -> Option<(String, String, String)> {
    use serde_json::Value;
    match (x, y) {
        (Value::Object(a), Value::Object(b)) => {
            for (key, value) in a {
                let here = format!("{path}.{key}");
                match b.get(key) {
                    Some(other) => {
                        if let Some(found) = first_difference(value, other, here) {
                            return Some(found);
                        }
                    }
                    None => return Some((here, value.to_string(), "(absent)".to_owned())),
                }
            }
            b.keys().find(|key| !a.contains_key(*key)).map(|key| {
                (
                    format!("{path}.{key}"),
                    "(absent)".to_owned(),
                    b[key].to_string(),
                )
            })
        }
        (Value::Array(a), Value::Array(b)) => {
            for (i, (p, q)) in a.iter().zip(b).enumerate() {
                if let Some(found) = first_difference(p, q, format!("{path}[{i}]")) {
                    return Some(found);
                }
            }
            (a.len() != b.len()).then(|| {
                (
                    format!("{path} (length)"),
                    a.len().to_string(),
                    b.len().to_string(),
                )
            })
        }
        (a, b) => (a != b).then(|| (path, a.to_string(), b.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_differing_line_is_named_with_both_versions() {
        let d = compare_lines("history.jsonl", "a\nb\nc\n", "a\nB\nc\n").unwrap();
        assert_eq!(d.place, "line 2");
        assert_eq!((d.first.as_str(), d.second.as_str()), ("b", "B"));
        let d = compare_lines("messages.jsonl", "a\n", "a\nextra\n").unwrap();
        assert_eq!(d.place, "line 2");
        assert_eq!(d.first, "(the file ends)");
        assert!(compare_lines("x", "same\n", "same\n").is_none());
    }

    #[test]
    fn results_differ_only_outside_the_wall_clock() {
        let a = r#"{"valid":true,"run":{"seed":1,"wall_clock":{"duration_s":1.0}}}"#;
        let b = r#"{"valid":true,"run":{"seed":1,"wall_clock":{"duration_s":2.5}}}"#;
        assert!(compare_results(a, b).unwrap().is_none());
        let c = r#"{"valid":false,"run":{"seed":1,"wall_clock":{"duration_s":1.0}}}"#;
        let d = compare_results(a, c).unwrap().unwrap();
        assert_eq!(d.place, "results.json.valid");
        assert_eq!((d.first.as_str(), d.second.as_str()), ("true", "false"));
        let e = r#"{"valid":true,"run":{"seed":1,"net":[1,2]}}"#;
        let f = r#"{"valid":true,"run":{"seed":1,"net":[1,3]}}"#;
        let d = compare_results(e, f).unwrap().unwrap();
        assert_eq!(d.place, "results.json.run.net[1]");
    }
}
