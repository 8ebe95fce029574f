//! Maelstrom's error codes, and which of them are definite.
//!
//! A *definite* error means the operation certainly did not happen; an *indefinite* one
//! (timeout, crash, and every user code of 1000 and above) means it may have happened. The
//! harness turns an indefinite error on a non-idempotent operation into an `info` completion.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An error code carried by an `error` body. Serialized as its integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorCode {
    /// 0: the request timed out; it may or may not have happened.
    Timeout,
    /// 1: the destination node does not exist.
    NodeNotFound,
    /// 10: the request type is not supported.
    NotSupported,
    /// 11: the operation could not be performed now; it did not happen.
    TemporarilyUnavailable,
    /// 12: the request was malformed.
    MalformedRequest,
    /// 13: the node crashed while handling the request; it may have happened.
    Crash,
    /// 14: the operation was aborted; it did not happen.
    Abort,
    /// 20: the key does not exist.
    KeyDoesNotExist,
    /// 21: the key already exists.
    KeyAlreadyExists,
    /// 22: a precondition (such as a compare-and-set's `from`) did not hold.
    PreconditionFailed,
    /// 30: a transaction conflicted with another and was aborted.
    TxnConflict,
    /// Any other code: 1000 and above are user codes. Indefinite.
    Other(u32),
}

impl ErrorCode {
    /// Every named code, in numeric order.
    pub const ALL: [ErrorCode; 11] = [
        ErrorCode::Timeout,
        ErrorCode::NodeNotFound,
        ErrorCode::NotSupported,
        ErrorCode::TemporarilyUnavailable,
        ErrorCode::MalformedRequest,
        ErrorCode::Crash,
        ErrorCode::Abort,
        ErrorCode::KeyDoesNotExist,
        ErrorCode::KeyAlreadyExists,
        ErrorCode::PreconditionFailed,
        ErrorCode::TxnConflict,
    ];

    /// The code from its integer.
    pub fn from_code(code: u32) -> Self {
        match code {
            0 => ErrorCode::Timeout,
            1 => ErrorCode::NodeNotFound,
            10 => ErrorCode::NotSupported,
            11 => ErrorCode::TemporarilyUnavailable,
            12 => ErrorCode::MalformedRequest,
            13 => ErrorCode::Crash,
            14 => ErrorCode::Abort,
            20 => ErrorCode::KeyDoesNotExist,
            21 => ErrorCode::KeyAlreadyExists,
            22 => ErrorCode::PreconditionFailed,
            30 => ErrorCode::TxnConflict,
            other => ErrorCode::Other(other),
        }
    }

    /// The integer on the wire.
    pub fn code(self) -> u32 {
        match self {
            ErrorCode::Timeout => 0,
            ErrorCode::NodeNotFound => 1,
            ErrorCode::NotSupported => 10,
            ErrorCode::TemporarilyUnavailable => 11,
            ErrorCode::MalformedRequest => 12,
            ErrorCode::Crash => 13,
            ErrorCode::Abort => 14,
            ErrorCode::KeyDoesNotExist => 20,
            ErrorCode::KeyAlreadyExists => 21,
            ErrorCode::PreconditionFailed => 22,
            ErrorCode::TxnConflict => 30,
            ErrorCode::Other(code) => code,
        }
    }

    /// True when the error proves the operation did not happen. Timeout (0), crash (13), user
    /// codes (1000+) and codes Maelstrom does not define are indefinite.
    pub fn is_definite(self) -> bool {
        !matches!(
            self,
            ErrorCode::Timeout | ErrorCode::Crash | ErrorCode::Other(_)
        )
    }

    /// Maelstrom's name for the code (`"timeout"`, `"key-does-not-exist"`, ...).
    pub fn name(self) -> &'static str {
        match self {
            ErrorCode::Timeout => "timeout",
            ErrorCode::NodeNotFound => "node-not-found",
            ErrorCode::NotSupported => "not-supported",
            ErrorCode::TemporarilyUnavailable => "temporarily-unavailable",
            ErrorCode::MalformedRequest => "malformed-request",
            ErrorCode::Crash => "crash",
            ErrorCode::Abort => "abort",
            ErrorCode::KeyDoesNotExist => "key-does-not-exist",
            ErrorCode::KeyAlreadyExists => "key-already-exists",
            ErrorCode::PreconditionFailed => "precondition-failed",
            ErrorCode::TxnConflict => "txn-conflict",
            ErrorCode::Other(code) if code >= 1000 => "user",
            ErrorCode::Other(_) => "unknown",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.code(), self.name())
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u32(self.code())
    }
}

impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        u32::deserialize(deserializer).map(ErrorCode::from_code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_through_integers() {
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::from_code(code.code()), code);
        }
        assert_eq!(ErrorCode::from_code(1001), ErrorCode::Other(1001));
        assert_eq!(ErrorCode::Other(1001).code(), 1001);
    }

    #[test]
    fn only_timeout_crash_and_user_codes_are_indefinite() {
        let indefinite: Vec<u32> = ErrorCode::ALL
            .iter()
            .filter(|c| !c.is_definite())
            .map(|c| c.code())
            .collect();
        assert_eq!(indefinite, vec![0, 13]);
        assert!(!ErrorCode::Other(1000).is_definite());
        assert!(ErrorCode::PreconditionFailed.is_definite());
    }

    #[test]
    fn serializes_as_a_bare_integer() {
        assert_eq!(
            serde_json::to_string(&ErrorCode::KeyDoesNotExist).unwrap(),
            "20"
        );
        let code: ErrorCode = serde_json::from_str("22").unwrap();
        assert_eq!(code, ErrorCode::PreconditionFailed);
        assert!(serde_json::from_str::<ErrorCode>("-1").is_err());
    }
}
