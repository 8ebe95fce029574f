//! The three verdicts: valid, invalid, and unknown (the checker could not decide; never a pass).

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A checker's verdict. Serialized as `true`, `false` or `"unknown"`, as Jepsen does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Validity {
    Valid,
    Invalid,
    Unknown,
}

impl Validity {
    /// The verdict of several checks together: invalid if any is invalid, else unknown if any
    /// is unknown, else valid.
    pub fn merge(self, other: Validity) -> Validity {
        use Validity::*;
        match (self, other) {
            (Invalid, _) | (_, Invalid) => Invalid,
            (Unknown, _) | (_, Unknown) => Unknown,
            _ => Valid,
        }
    }

    /// [`Validity::merge`] over many.
    pub fn all(items: impl IntoIterator<Item = Validity>) -> Validity {
        items.into_iter().fold(Validity::Valid, Validity::merge)
    }

    /// From a boolean.
    pub fn from_bool(valid: bool) -> Validity {
        if valid {
            Validity::Valid
        } else {
            Validity::Invalid
        }
    }

    /// The process exit code of `harness test` and `harness check`: 0 valid, 1 invalid,
    /// 2 unknown.
    pub fn exit_code(self) -> u8 {
        match self {
            Validity::Valid => 0,
            Validity::Invalid => 1,
            Validity::Unknown => 2,
        }
    }
}

impl std::fmt::Display for Validity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Validity::Valid => "valid",
            Validity::Invalid => "invalid",
            Validity::Unknown => "unknown",
        })
    }
}

impl Serialize for Validity {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Validity::Valid => s.serialize_bool(true),
            Validity::Invalid => s.serialize_bool(false),
            Validity::Unknown => s.serialize_str("unknown"),
        }
    }
}

impl<'de> Deserialize<'de> for Validity {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr {
            Bool(bool),
            Str(String),
        }
        match Repr::deserialize(d)? {
            Repr::Bool(b) => Ok(Validity::from_bool(b)),
            Repr::Str(s) if s == "unknown" => Ok(Validity::Unknown),
            Repr::Str(s) => Err(serde::de::Error::custom(format!(
                "validity must be true, false or \"unknown\", not {s:?}"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_and_serializes() {
        assert_eq!(Validity::Valid.merge(Validity::Unknown), Validity::Unknown);
        assert_eq!(
            Validity::Unknown.merge(Validity::Invalid),
            Validity::Invalid
        );
        assert_eq!(Validity::all([]), Validity::Valid);
        assert_eq!(
            serde_json::to_string(&Validity::Unknown).unwrap(),
            "\"unknown\""
        );
        assert_eq!(
            serde_json::from_str::<Validity>("false").unwrap(),
            Validity::Invalid
        );
    }
}
