//! `unique-ids`: globally unique ids with no coordination.
//!
//! An id is `"<node>-<incarnation>-<counter>"`: the node id makes ids of different nodes
//! differ; the incarnation (different for every start of the program, see
//! [`Ctx::incarnation`]) makes ids differ across a restart, when the counter starts again
//! from 0; the counter makes ids of one incarnation differ. No message is exchanged, so the
//! node stays available under any partition: this is the "totally available" end of the
//! course's trade-offs.

use proto::{Message, Payload};
use serde_json::Value;

use crate::ctx::Ctx;
use crate::node::Node;

/// Mints ids from (node, incarnation, counter).
#[derive(Debug, Default)]
pub struct UniqueIds {
    next: u64,
}

impl Node for UniqueIds {
    fn on_message(&mut self, ctx: &mut Ctx, msg: Message) {
        match &msg.body.payload {
            Payload::Generate => {
                let id = format!("{}-{:x}-{}", ctx.id(), ctx.incarnation(), self.next);
                self.next += 1;
                ctx.reply(&msg, &Payload::GenerateOk { id: Value::from(id) });
            }
            _ => ctx.not_supported(&msg),
        }
    }
}
