//! Unit tests that play a node's peers and services by hand: a [`Runtime`] fed scripted
//! messages and times, with what the node sent kept in order.

use std::time::Duration;

use proto::{Body, Message};
use serde_json::{Value, json};

use crate::{Effect, Node, Runtime, sends};

/// One node `n0`, initialised, and everything it has sent and nobody has looked at yet.
pub(crate) struct Script<N: Node> {
    pub rt: Runtime<N>,
    pub now: Duration,
    pub outbox: Vec<Message>,
    /// The service whose replies [`Script::answer`] plays.
    service: &'static str,
}

impl<N: Node> Script<N> {
    /// `node` as `n0` of `nodes`, after `init` (its `init_ok` is the first message of the
    /// outbox); `service` is the service the test plays.
    pub fn start(node: N, seed: u64, nodes: &[&str], service: &'static str) -> Self {
        let mut rt = Runtime::new(node, 0, seed);
        let init = json!({"type": "init", "msg_id": 1, "node_id": "n0", "node_ids": nodes});
        let effects = rt.handle_message(
            Duration::ZERO,
            Message::new("c0", "n0", serde_json::from_value(init).unwrap()),
        );
        let mut script = Script {
            rt,
            now: Duration::ZERO,
            outbox: Vec::new(),
            service,
        };
        script.collect(effects);
        script
    }

    fn collect(&mut self, effects: Vec<Effect>) {
        self.outbox.extend(sends(&effects).into_iter().cloned());
    }

    /// Hand the node a message from `src` with `body`.
    pub fn deliver(&mut self, src: &str, body: Value) {
        let effects = self.rt.handle_message(
            self.now,
            Message::new(src, "n0", serde_json::from_value::<Body>(body).unwrap()),
        );
        self.collect(effects);
    }

    /// Let `by` of time pass, firing the node's timers.
    pub fn advance(&mut self, by: Duration) {
        self.now += by;
        let effects = self.rt.advance(self.now);
        self.collect(effects);
    }

    /// The next message the node sent, which must go to `dest` with type `kind`.
    pub fn expect(&mut self, dest: &str, kind: &str) -> Message {
        assert!(
            !self.outbox.is_empty(),
            "expected a {kind} to {dest}, node sent nothing"
        );
        let msg = self.outbox.remove(0);
        assert_eq!(
            (msg.dest.as_str(), msg.body.kind()),
            (dest, kind),
            "{msg:?}"
        );
        msg
    }

    /// The service answers `request` with `body`.
    pub fn answer(&mut self, request: &Message, mut body: Value) {
        body["in_reply_to"] = json!(request.body.msg_id.unwrap());
        let service = self.service;
        self.deliver(service, body);
    }
}
