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
