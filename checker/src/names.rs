//! The domain's named choices (workloads, models, orderings, formats, ...), each one typed
//! table: the enum, its names, its help, and everything derived from them (parsing, the error
//! that lists the valid names, serde, the command line's possible values) come from one
//! declaration, so no list of names is ever written twice.
//!
//! [`named_enum!`](crate::named_enum) declares such an enum from `Variant = "name"` lines with
//! their doc comments; a table whose names live elsewhere (the workloads, whose names are in
//! their own modules) implements [`Named`] itself and gets the same derived behaviour from the
//! functions here.

use std::fmt;

use thiserror::Error;

/// A closed set of values, each with a name (as the command line and the files spell it) and a
/// line of help.
pub trait Named: Copy + Eq + Sized + 'static {
    /// What one value is, in messages: `"workload"`, `"model"`.
    const KIND: &'static str;
    /// Every value, in the table's order.
    const VALUES: &'static [Self];
    /// The value's name.
    fn name(self) -> &'static str;
    /// One line saying what the value means (its doc comment's first line).
    fn help(self) -> &'static str;
}

/// A name that is none of a table's: says which names are valid.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown {kind} {given:?}; valid {kind}s: {valid}")]
pub struct UnknownName {
    /// What was asked for (`"workload"`).
    pub kind: &'static str,
    /// The name given.
    pub given: String,
    /// The valid names, comma-separated.
    pub valid: String,
}

/// The names of `T`, comma-separated, in the table's order.
pub fn names<T: Named>() -> String {
    T::VALUES
        .iter()
        .map(|v| v.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The value of `T` named `name`.
pub fn parse<T: Named>(name: &str) -> Result<T, UnknownName> {
    T::VALUES
        .iter()
        .copied()
        .find(|v| v.name() == name)
        .ok_or_else(|| UnknownName {
            kind: T::KIND,
            given: name.to_owned(),
            valid: names::<T>(),
        })
}

/// Write a value's name (for `Display`).
pub fn display<T: Named>(value: T, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    f.write_str(value.name())
}

/// The first line of a doc comment, trimmed.
pub const fn first_line(doc: &'static str) -> &'static str {
    let bytes = doc.as_bytes();
    let mut start = 0;
    while start < bytes.len() && (bytes[start] == b' ' || bytes[start] == b'\n') {
        start += 1;
    }
    let mut end = start;
    while end < bytes.len() && bytes[end] != b'\n' {
        end += 1;
    }
    let (_, rest) = bytes.split_at(start);
    let (line, _) = rest.split_at(end - start);
    match std::str::from_utf8(line) {
        Ok(text) => text,
        Err(_) => "",
    }
}

/// Serialize a value as its name.
pub fn serialize<T: Named, S: serde::Serializer>(value: T, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(value.name())
}

/// Deserialize a value from its name.
pub fn deserialize<'de, T: Named, D: serde::Deserializer<'de>>(d: D) -> Result<T, D::Error> {
    let name = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
    parse(&name).map_err(serde::de::Error::custom)
}

#[doc(hidden)]
pub use serde as __serde;

/// Declare a [`Named`] enum from one table: each variant with its doc comment and its name.
///
/// ```
/// checker::named_enum! {
///     /// How loud.
///     #[derive(Hash)]
///     pub enum Volume: "volume" {
///         /// Barely heard.
///         Quiet = "quiet",
///         /// Heard next door.
///         Loud = "loud",
///     }
/// }
/// assert_eq!(Volume::ALL, [Volume::Quiet, Volume::Loud]);
/// assert_eq!("loud".parse::<Volume>(), Ok(Volume::Loud));
/// assert_eq!(Volume::Quiet.to_string(), "quiet");
/// let err = "shrill".parse::<Volume>().unwrap_err().to_string();
/// assert_eq!(err, "unknown volume \"shrill\"; valid volumes: quiet, loud");
/// ```
///
/// The enum gets `Debug, Clone, Copy, PartialEq, Eq` (more through `#[derive]` above it), an
/// `ALL` array, `name`, `help` and `parse`, `Display`, `FromStr` (the error lists the valid
/// names) and serde by name.
#[macro_export]
macro_rules! named_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident : $kind:literal {
            $( $(#[doc = $doc:expr])* $variant:ident = $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        $vis enum $name {
            $( $(#[doc = $doc])* $variant ),+
        }

        impl $name {
            /// Every value, in the table's order.
            pub const ALL: [$name; [$($name::$variant),+].len()] = [$($name::$variant),+];

            /// The name, as the command line and the files spell it.
            pub fn name(self) -> &'static str {
                match self {
                    $( $name::$variant => $text ),+
                }
            }

            /// One line saying what this value means.
            pub fn help(self) -> &'static str {
                match self {
                    $( $name::$variant => $crate::names::first_line(concat!($($doc, "\n",)* "")) ),+
                }
            }

            /// The value of a name, if any.
            pub fn parse(name: &str) -> Option<$name> {
                $crate::names::parse(name).ok()
            }
        }

        impl $crate::names::Named for $name {
            const KIND: &'static str = $kind;
            const VALUES: &'static [$name] = &$name::ALL;

            fn name(self) -> &'static str {
                $name::name(self)
            }

            fn help(self) -> &'static str {
                $name::help(self)
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                $crate::names::display(*self, f)
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::names::UnknownName;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $crate::names::parse(s)
            }
        }

        impl $crate::names::__serde::Serialize for $name {
            fn serialize<S: $crate::names::__serde::Serializer>(
                &self,
                s: S,
            ) -> Result<S::Ok, S::Error> {
                $crate::names::serialize(*self, s)
            }
        }

        impl<'de> $crate::names::__serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::names::__serde::Deserializer<'de>>(
                d: D,
            ) -> Result<Self, D::Error> {
                $crate::names::deserialize(d)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::named_enum! {
        /// A test table.
        #[derive(Hash, PartialOrd, Ord)]
        pub enum Shade: "shade" {
            /// The dark one.
            ///
            /// More words that are not the help.
            Dark = "dark",
            Light = "light-ish",
        }
    }

    #[test]
    fn one_table_gives_names_help_parsing_errors_and_serde() {
        assert_eq!(Shade::ALL, [Shade::Dark, Shade::Light]);
        assert_eq!(Shade::Light.name(), "light-ish");
        assert_eq!(Shade::Dark.help(), "The dark one.");
        assert_eq!(Shade::Light.help(), "");
        for shade in Shade::ALL {
            assert_eq!(shade.to_string().parse::<Shade>(), Ok(shade));
            let json = serde_json::to_value(shade).unwrap();
            assert_eq!(json, serde_json::Value::from(shade.name()));
            assert_eq!(serde_json::from_value::<Shade>(json).unwrap(), shade);
        }
        let err = "grey".parse::<Shade>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown shade \"grey\"; valid shades: dark, light-ish"
        );
        assert!(serde_json::from_str::<Shade>("\"grey\"").is_err());
        assert_eq!(Shade::parse("dark"), Some(Shade::Dark));
        assert_eq!(names::<Shade>(), "dark, light-ish");
    }
}
