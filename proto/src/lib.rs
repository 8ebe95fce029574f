//! The Maelstrom wire protocol, as DESIGN.md's protocol contract states it.
//!
//! Every message is one JSON object on one line: `{"src", "dest", "body"}`. The body carries a
//! `type`, an optional `msg_id` and an optional `in_reply_to` (0 is a valid id), and the fields
//! of that type. This crate gives:
//!
//! - [`Envelope`] / [`Message`]: the envelope; unknown envelope keys (Maelstrom adds `"id"`)
//!   are ignored;
//! - [`Body`] and [`Payload`]: typed bodies for the requests and replies of every workload and
//!   service, plus [`RawBody`] for bodies no one declared (a node's own peer messages);
//! - [`ErrorCode`]: every Maelstrom error code and whether it is definite;
//! - [`codec`]: parsing a line into a [`Message`] (never panics; says what was wrong) and a fast
//!   header-only parse for routers.

pub mod body;
pub mod codec;
pub mod envelope;
pub mod error;

pub use body::{Body, KNOWN_TYPES, MicroOp, Payload, RawBody};
pub use codec::{
    BodyHeader, BodyScan, LineError, MAELSTROM_MAX_DEPTH, RouteHeader, parse_header, parse_line,
    parse_route, scan_body, to_line,
};
pub use envelope::{Envelope, Message};
pub use error::ErrorCode;
