//! A node program's flags: a tiny `--name value` / `--name=value` parser, so that binaries need
//! no argument-parsing crate, and so that the same flags configure a node in a process and in
//! the simulator. Every error is a sentence for the user, never an exit: the binary
//! ([`crate::catalog::main`]) prints it and exits 2, the simulator refuses to start the run.

use std::str::FromStr;
use std::time::Duration;

/// One flag a node program takes: its name (without `--`), the value it takes, what it
/// changes, and its default, computed from the node's own default settings (so `--help`
/// cannot drift from the code).
#[derive(Debug, Clone, Copy)]
pub struct Flag {
    pub name: &'static str,
    /// The value's shape in the help: `N` for a number, `tree|random` for a choice.
    pub value: &'static str,
    pub what: &'static str,
    pub default: fn() -> String,
}

/// A duration's milliseconds, as a flag's default.
pub fn ms_default(d: Duration) -> String {
    d.as_millis().to_string()
}

/// Whether the arguments ask for the help (`--help` or `-h`).
pub fn asks_for_help(args: &[String]) -> bool {
    args.iter().any(|a| a == "--help" || a == "-h")
}

/// A node program's `--help`: what it is, how it is run, and each flag with its default.
pub fn help(name: &str, about: &str, flags: &[Flag]) -> String {
    let mut out = format!(
        "{name}: {about}\n\nUsage: {name} [--FLAG VALUE]...\n\nA Maelstrom node: it reads JSON \
         messages on standard input and writes them on standard output; run it under `harness \
         test --bin`, or simulated with `harness test --sim --node {name}`.\n\nFlags:\n"
    );
    let width = flags
        .iter()
        .map(|f| f.name.len() + f.value.len() + 3)
        .chain([10])
        .max()
        .unwrap_or(10);
    for flag in flags {
        let left = format!("--{} {}", flag.name, flag.value);
        out.push_str(&format!(
            "  {left:<width$}  {} [default: {}]\n",
            flag.what,
            (flag.default)()
        ));
    }
    out.push_str(&format!("  {:<width$}  print this help\n", "-h, --help"));
    out
}

/// A node program's arguments, checked against the flags it knows.
#[derive(Debug, Clone, Copy)]
pub struct Flags<'a> {
    args: &'a [String],
}

impl<'a> Flags<'a> {
    /// `args`, if every one is a flag among `known` (names without `--`) with a value.
    pub fn parse(args: &'a [String], known: &[&str]) -> Result<Flags<'a>, String> {
        let mut i = 0;
        while i < args.len() {
            let arg = &args[i];
            let name = arg.trim_start_matches("--");
            let name = name.split('=').next().unwrap_or(name);
            if !arg.starts_with("--") || !known.contains(&name) {
                return Err(format!(
                    "unknown argument {arg:?}; known flags: {}",
                    if known.is_empty() {
                        "none".to_owned()
                    } else {
                        known
                            .iter()
                            .map(|k| format!("--{k}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    }
                ));
            }
            if !arg.contains('=') && i + 1 >= args.len() {
                return Err(format!("{arg} needs a value"));
            }
            i += if arg.contains('=') { 1 } else { 2 };
        }
        Ok(Flags { args })
    }

    /// Arguments read as they are, without checking them against known flags (to read one
    /// flag of a command line meant for a node).
    pub fn unchecked(args: &'a [String]) -> Flags<'a> {
        Flags { args }
    }

    /// The value of `--name`, parsed, or `default` when it is absent (the last one given wins).
    pub fn get<T>(&self, name: &str, default: T) -> Result<T, String>
    where
        T: FromStr,
        T::Err: std::fmt::Display,
    {
        let key = format!("--{name}");
        let prefix = format!("{key}=");
        let mut found = None;
        for (i, arg) in self.args.iter().enumerate() {
            if let Some(value) = arg.strip_prefix(&prefix) {
                found = Some(value);
            } else if *arg == key {
                found = self.args.get(i + 1).map(String::as_str);
            }
        }
        match found {
            None => Ok(default),
            Some(value) => value
                .parse()
                .map_err(|err| format!("{key}: cannot parse {value:?}: {err}")),
        }
    }

    /// A duration flag given in milliseconds (`--NAME N`), at least 1 ms; `default` when absent.
    pub fn ms(&self, name: &str, default: Duration) -> Result<Duration, String> {
        Ok(self
            .ms_or_zero(name, default)?
            .max(Duration::from_millis(1)))
    }

    /// A duration flag given in milliseconds where 0 means "at once" (a batching interval: 0
    /// turns batching off); `default` when absent.
    pub fn ms_or_zero(&self, name: &str, default: Duration) -> Result<Duration, String> {
        let ms = self.get(name, default.as_millis() as u64)?;
        Ok(Duration::from_millis(ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| (*w).to_owned()).collect()
    }

    #[test]
    fn values_are_read_in_both_spellings_and_the_last_wins() {
        let a = args(&["--interval-ms", "7", "--fanout=3", "--interval-ms=9"]);
        let flags = Flags::parse(&a, &["interval-ms", "fanout"]).unwrap();
        assert_eq!(flags.get("fanout", 1u32), Ok(3));
        assert_eq!(
            flags.ms("interval-ms", Duration::ZERO),
            Ok(Duration::from_millis(9))
        );
        assert_eq!(flags.get("absent", 5u32), Ok(5));
        let a = args(&["--interval-ms", "0"]);
        let flags = Flags::parse(&a, &["interval-ms"]).unwrap();
        assert_eq!(
            flags.ms("interval-ms", Duration::ZERO),
            Ok(Duration::from_millis(1)),
            "a period is at least 1 ms"
        );
        assert_eq!(
            flags.ms_or_zero("interval-ms", Duration::from_millis(5)),
            Ok(Duration::ZERO),
            "a batching interval may be 0: no batching"
        );
    }

    #[test]
    fn bad_flags_are_sentences_not_exits() {
        let a = args(&["--nope", "1"]);
        let err = Flags::parse(&a, &["interval-ms"]).unwrap_err();
        assert!(err.contains("unknown argument \"--nope\""), "{err}");
        assert!(err.contains("--interval-ms"), "{err}");
        let a = args(&["--interval-ms"]);
        assert_eq!(
            Flags::parse(&a, &["interval-ms"]).unwrap_err(),
            "--interval-ms needs a value"
        );
        let a = args(&["--interval-ms", "soon"]);
        let flags = Flags::parse(&a, &["interval-ms"]).unwrap();
        let err = flags.ms("interval-ms", Duration::ZERO).unwrap_err();
        assert!(
            err.starts_with("--interval-ms: cannot parse \"soon\""),
            "{err}"
        );
        let a = args(&["stray"]);
        assert!(
            Flags::parse(&a, &[])
                .unwrap_err()
                .contains("known flags: none")
        );
    }
}
