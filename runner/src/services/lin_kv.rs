//! `lin-kv`: a linearizable key-value store (the course's 7.2 "Linearizability"). One map,
//! every request applied the moment it is received, so each takes effect at one instant
//! between its send and its reply.

use std::collections::BTreeMap;

use nodes::{Ctx, Node};
use proto::Message;
use serde_json::Value;

use super::kv::key_id;
use super::{answer, kv_request, parse_request};

/// The lin-kv service.
#[derive(Debug, Clone, Default)]
pub struct LinKv {
    map: BTreeMap<String, Value>,
}

impl LinKv {
    /// An empty store.
    pub fn new() -> Self {
        LinKv::default()
    }

    /// The value of `key`, for inspection.
    pub fn get(&self, key: &Value) -> Option<&Value> {
        self.map.get(&key_id(key))
    }
}

impl Node for LinKv {
    fn on_message(&mut self, ctx: &mut Ctx, msg: Message) {
        let Some(op) = parse_request(ctx, &msg, kv_request) else {
            return;
        };
        let id = key_id(op.key());
        let outcome = op.apply(self.map.get(&id));
        if let Some(value) = outcome.write {
            self.map.insert(id, value);
        }
        answer(ctx, &msg, &outcome.reply);
    }
}
