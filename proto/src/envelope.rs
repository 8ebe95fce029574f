//! The envelope around every message: who sent it, to whom, and the body.

use serde::{Deserialize, Serialize};

use crate::body::Body;

/// `{"src", "dest", "body"}`. Keys other than these three are ignored when parsing
/// (Maelstrom adds an `"id"`), and never written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope<B = Body> {
    pub src: String,
    pub dest: String,
    pub body: B,
}

/// A message with a typed body: what nodes and the harness exchange.
pub type Message = Envelope<Body>;

impl Message {
    /// A message from `src` to `dest` with `body`.
    pub fn new(src: impl Into<String>, dest: impl Into<String>, body: Body) -> Self {
        Envelope {
            src: src.into(),
            dest: dest.into(),
            body,
        }
    }
}
