//! Command-line flags whose value is one of a table's names ([`checker::names::Named`]): the
//! table gives clap the possible values (each with its help, listed by `--help`), and a name
//! not in it is refused with the table's own message, which lists the valid ones.
//!
//! ```text
//! #[arg(long, value_parser = named::<OrderingMode>())]
//! pub ordering: Option<OrderingMode>,
//! ```

use std::ffi::OsStr;
use std::marker::PhantomData;

use checker::names::{self, Named};
use clap::builder::{PossibleValue, TypedValueParser};
use clap::error::ErrorKind;

/// The value parser of a table enum `T`.
#[derive(Debug)]
pub struct NamedParser<T>(PhantomData<fn() -> T>);

impl<T> Clone for NamedParser<T> {
    fn clone(&self) -> Self {
        NamedParser(PhantomData)
    }
}

/// The value parser of the table enum `T`.
pub fn named<T: Named + Send + Sync>() -> NamedParser<T> {
    NamedParser(PhantomData)
}

impl<T: Named + Send + Sync + Clone> TypedValueParser for NamedParser<T> {
    type Value = T;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<T, clap::Error> {
        let text = value.to_string_lossy();
        names::parse::<T>(&text).map_err(|err| {
            let flag = arg
                .and_then(clap::Arg::get_long)
                .map_or_else(|| T::KIND.to_owned(), |long| format!("--{long}"));
            clap::Error::raw(ErrorKind::InvalidValue, format!("{flag}: {err}\n")).with_cmd(cmd)
        })
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(T::VALUES.iter().map(|v| {
            let value = PossibleValue::new(v.name());
            match v.help() {
                "" => value,
                // The help is a doc comment's line: its code spans read as plain words.
                help => value.help(help.replace('`', "")),
            }
        })))
    }
}

#[cfg(test)]
mod tests {
    use checker::ordering::OrderingMode;
    use clap::Parser;

    use super::*;

    #[derive(Parser, Debug)]
    struct Cli {
        #[arg(long, value_parser = named::<OrderingMode>())]
        ordering: Option<OrderingMode>,
    }

    #[test]
    fn a_flag_takes_the_tables_names_and_refuses_others_naming_the_valid_ones() {
        let cli = Cli::try_parse_from(["x", "--ordering", "causal"]).unwrap();
        assert_eq!(cli.ordering, Some(OrderingMode::Causal));
        let err = Cli::try_parse_from(["x", "--ordering", "lamport"]).unwrap_err();
        let first = err.to_string();
        let first = first.lines().next().unwrap();
        assert_eq!(
            first,
            "error: --ordering: unknown ordering \"lamport\"; valid orderings: fifo, causal, total"
        );
        let help = <Cli as clap::CommandFactory>::command().render_long_help();
        let help = help.to_string();
        for mode in OrderingMode::ALL {
            assert!(help.contains(mode.name()), "{help}");
            assert!(help.contains(&mode.help().replace('`', "")), "{help}");
        }
    }
}
