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
    /// Leave the incarnation out of the ids (`unique-ids-restart`, [`crate::unique_ids_restart`]).
    pub(crate) without_incarnation: bool,
}

impl Node for UniqueIds {
    fn on_message(&mut self, ctx: &mut Ctx, msg: Message) {
        match &msg.body.payload {
            Payload::Generate => {
                let id = if self.without_incarnation {
                    format!("{}-{}", ctx.id(), self.next)
                } else {
                    format!("{}-{:x}-{}", ctx.id(), ctx.incarnation(), self.next)
                };
                self.next += 1;
                ctx.reply(
                    &msg,
                    &Payload::GenerateOk {
                        id: Value::from(id),
                    },
                );
            }
            _ => ctx.not_supported(&msg),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::time::Duration;

    use proto::Body;
    use serde_json::json;

    use super::*;
    use crate::Runtime;

    fn generate_all(node: &str, incarnation: u64, count: u64) -> Vec<Value> {
        let mut rt = Runtime::new(UniqueIds::default(), 0, incarnation);
        let init = json!({"type": "init", "msg_id": 1, "node_id": node, "node_ids": ["n0", "n1"]});
        rt.handle_message(
            Duration::ZERO,
            Message::new("c0", node, serde_json::from_value(init).unwrap()),
        );
        (0..count)
            .map(|i| {
                let request: Body =
                    serde_json::from_value(json!({"type": "generate", "msg_id": i})).unwrap();
                let effects = rt.handle_message(Duration::ZERO, Message::new("c1", node, request));
                let sent = crate::sends(&effects);
                assert_eq!(sent.len(), 1);
                assert_eq!(sent[0].body.in_reply_to, Some(i));
                match &sent[0].body.payload {
                    Payload::GenerateOk { id } => id.clone(),
                    other => panic!("expected generate_ok, got {other:?}"),
                }
            })
            .collect()
    }

    #[test]
    fn ids_differ_across_nodes_and_across_restarts() {
        let mut all = BTreeSet::new();
        let batches = [
            generate_all("n0", 1, 100),
            generate_all("n1", 1, 100),
            // n0 restarted: its counter begins again at 0, its incarnation differs.
            generate_all("n0", 2, 100),
        ];
        for id in batches.iter().flatten() {
            assert!(all.insert(id.to_string()), "duplicate id {id}");
        }
        assert_eq!(all.len(), 300);
    }
}
