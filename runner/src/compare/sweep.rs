//! `harness compare --sweep PARAM=V1,V2,...`: run every variant at each value of a parameter,
//! under the same seed. `node-count` changes the scenario; any other name is a flag of the node
//! programs (`interval-ms`, `fanout`, `peers`), given to every node as `--PARAM V` after the
//! common arguments (the last of a flag wins). Several `--sweep`s make a grid: every
//! combination, the first parameter varying slowest.

use anyhow::bail;
use serde::Serialize;

/// The parameter that changes the scenario rather than the nodes' flags.
pub const NODE_COUNT: &str = "node-count";

/// One swept parameter and its values, in the order given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sweep {
    pub param: String,
    pub values: Vec<String>,
}

impl std::str::FromStr for Sweep {
    type Err = anyhow::Error;

    fn from_str(text: &str) -> anyhow::Result<Sweep> {
        let Some((param, values)) = text.split_once('=') else {
            bail!("--sweep takes PARAM=V1,V2,... (such as node-count=5,10,25), not {text:?}");
        };
        let param = param.trim().trim_start_matches("--").to_owned();
        if param.is_empty()
            || !param
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            bail!(
                "--sweep {text:?}: {param:?} is no parameter; give node-count or a node flag's \
                 name (such as interval-ms, fanout)"
            );
        }
        let values: Vec<String> = values
            .split(',')
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .collect();
        if values.is_empty() {
            bail!("--sweep {text:?} gives no value");
        }
        if param == NODE_COUNT {
            for v in &values {
                match v.parse::<usize>() {
                    Ok(n) if n > 0 => {}
                    _ => bail!("--sweep {text:?}: a node count is a positive integer, not {v:?}"),
                }
            }
        }
        Ok(Sweep { param, values })
    }
}

/// One combination of swept values: `(param, value)` in the order of the sweeps.
pub type Point = Vec<(String, String)>;

/// Every combination of the sweeps' values (one empty point without sweeps). Refuses a
/// parameter swept twice.
pub fn points(sweeps: &[Sweep]) -> anyhow::Result<Vec<Point>> {
    for (i, s) in sweeps.iter().enumerate() {
        if sweeps[..i].iter().any(|o| o.param == s.param) {
            bail!(
                "--sweep {} is given twice; list every value in one",
                s.param
            );
        }
    }
    let mut points: Vec<Point> = vec![Vec::new()];
    for s in sweeps {
        points = points
            .into_iter()
            .flat_map(|p| {
                s.values.iter().map(move |v| {
                    let mut p = p.clone();
                    p.push((s.param.clone(), v.clone()));
                    p
                })
            })
            .collect();
    }
    Ok(points)
}

/// The node count a point sets, if it does.
pub fn node_count(point: &Point) -> Option<usize> {
    point
        .iter()
        .find(|(p, _)| p == NODE_COUNT)
        .and_then(|(_, v)| v.parse().ok())
}

/// The node flags a point adds (`--PARAM V` for every parameter but the node count).
pub fn node_flags(point: &Point) -> Vec<String> {
    point
        .iter()
        .filter(|(p, _)| p != NODE_COUNT)
        .flat_map(|(p, v)| [format!("--{p}"), v.clone()])
        .collect()
}

/// How a variant is named in tables and charts: its program, "(unbatched)" when its nodes run
/// with `--interval-ms 0` (the textbook variant: one value per message), the arguments given to
/// it alone (`--args-for`), and the point's settings.
pub fn label(program: &str, node_args: &[String], own_args: &[String], point: &Point) -> String {
    let mut label = program.to_owned();
    // Absent reads as 1: only a given 0 is the unbatched variant.
    let interval = ::nodes::flags::Flags::unchecked(node_args).get("interval-ms", 1u64);
    if interval == Ok(0) {
        label.push_str(" (unbatched)");
    }
    for arg in own_args {
        label.push(' ');
        label.push_str(arg);
    }
    for (p, v) in point {
        label.push_str(&format!(" {p}={v}"));
    }
    label
}

/// `--args-for PROGRAM=ARGS`: arguments for one node program only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArgsFor {
    pub program: String,
    pub args: Vec<String>,
}

impl std::str::FromStr for ArgsFor {
    type Err = anyhow::Error;

    fn from_str(text: &str) -> anyhow::Result<ArgsFor> {
        let Some((program, args)) = text.split_once('=') else {
            bail!(
                "--args-for takes PROGRAM=ARGS (such as 'broadcast-gossip=--interval-ms 600'), \
                 not {text:?}"
            );
        };
        let program = program.trim().to_owned();
        if program.is_empty() {
            bail!("--args-for {text:?} names no program");
        }
        Ok(ArgsFor {
            program,
            args: args.split_whitespace().map(str::to_owned).collect(),
        })
    }
}

/// The arguments `--args-for` gives to `program` (its file name), if any.
pub fn own_args<'a>(list: &'a [ArgsFor], program: &str) -> &'a [String] {
    list.iter()
        .rev()
        .find(|a| a.program == program)
        .map_or(&[], |a| a.args.as_slice())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sweep(text: &str) -> Sweep {
        text.parse().unwrap()
    }

    #[test]
    fn sweeps_parse_and_make_a_grid_first_parameter_slowest() {
        let grid = points(&[sweep("interval-ms=0,100"), sweep("--fanout=2, 3")]).unwrap();
        let flat: Vec<Vec<String>> = grid.iter().map(node_flags).collect();
        assert_eq!(
            flat,
            [
                ["--interval-ms", "0", "--fanout", "2"],
                ["--interval-ms", "0", "--fanout", "3"],
                ["--interval-ms", "100", "--fanout", "2"],
                ["--interval-ms", "100", "--fanout", "3"],
            ]
        );
        assert_eq!(points(&[]).unwrap(), vec![Vec::new()]);
        let n = points(&[sweep("node-count=5,10")]).unwrap();
        assert_eq!(node_count(&n[1]), Some(10));
        assert!(
            node_flags(&n[1]).is_empty(),
            "the node count is no node flag"
        );
    }

    #[test]
    fn bad_sweeps_are_refused_with_what_to_write() {
        for (text, says) in [
            ("node-count", "PARAM=V1,V2"),
            ("node-count=5,x", "positive integer"),
            ("node-count=0", "positive integer"),
            ("Interval=1", "no parameter"),
            ("fanout=", "no value"),
        ] {
            let err = text.parse::<Sweep>().unwrap_err().to_string();
            assert!(err.contains(says), "{text}: {err}");
        }
        let twice = points(&[sweep("fanout=1"), sweep("fanout=2")]).unwrap_err();
        assert!(twice.to_string().contains("given twice"), "{twice}");
    }

    #[test]
    fn the_unbatched_textbook_variant_is_named_so() {
        let args: Vec<String> = ["--interval-ms", "0"].map(String::from).to_vec();
        assert_eq!(
            label("broadcast-eager", &args, &[], &Vec::new()),
            "broadcast-eager (unbatched)"
        );
        let later: Vec<String> = ["--interval-ms=0", "--interval-ms", "50"]
            .map(String::from)
            .to_vec();
        assert_eq!(
            label("broadcast-eager", &later, &[], &Vec::new()),
            "broadcast-eager"
        );
        let point = vec![("node-count".to_owned(), "10".to_owned())];
        assert_eq!(
            label("broadcast-gossip", &[], &[], &point),
            "broadcast-gossip node-count=10"
        );
    }
}
