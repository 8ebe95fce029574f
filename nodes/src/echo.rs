//! `echo`: the hello-world of the protocol. `echo {echo}` is answered with `echo_ok` carrying
//! the same value.

use proto::{Message, Payload};

use crate::ctx::Ctx;
use crate::node::Node;

/// Answers every `echo` with an `echo_ok` of the same value.
#[derive(Debug, Default)]
pub struct Echo;

impl Node for Echo {
    fn on_message(&mut self, ctx: &mut Ctx, msg: Message) {
        match &msg.body.payload {
            Payload::Echo { echo } => {
                let echo = echo.clone();
                ctx.reply(&msg, &Payload::EchoOk { echo });
            }
            _ => ctx.not_supported(&msg),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use proto::{Body, ErrorCode};
    use serde_json::json;

    use super::*;
    use crate::{Effect, Runtime};

    #[test]
    fn echoes_the_same_value_and_rejects_other_requests() {
        let mut rt = Runtime::new(Echo, 0, 0);
        let init = json!({"type": "init", "msg_id": 1, "node_id": "n0", "node_ids": ["n0"]});
        rt.handle_message(
            Duration::ZERO,
            Message::new("c0", "n0", serde_json::from_value(init).unwrap()),
        );
        let request = json!({"type": "echo", "msg_id": 0, "echo": {"a": [1, "x"]}});
        let effects = rt.handle_message(
            Duration::ZERO,
            Message::new("c1", "n0", serde_json::from_value::<Body>(request).unwrap()),
        );
        let reply: Body = serde_json::from_value(
            json!({"type": "echo_ok", "msg_id": 1, "in_reply_to": 0, "echo": {"a": [1, "x"]}}),
        )
        .unwrap();
        assert_eq!(effects, vec![Effect::Send(Message::new("n0", "c1", reply))]);
        let effects = rt.handle_message(
            Duration::ZERO,
            Message::new(
                "c1",
                "n0",
                serde_json::from_value(json!({"type": "generate", "msg_id": 2})).unwrap(),
            ),
        );
        let sent = crate::sends(&effects);
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].body.error_code(), Some(ErrorCode::NotSupported));
    }
}
