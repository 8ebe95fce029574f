//! The sans-IO node: a state machine that handles one event at a time and acts only through
//! its [`Ctx`].

use proto::Message;

use crate::ctx::Ctx;

/// A timer's handle, returned by [`Ctx::set_timer`] and given back to [`Node::on_timer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TimerId(pub u64);

/// A node program. It never touches stdin, stdout, threads or the wall clock: a driver calls
/// these methods one at a time and carries out what the node asked of its [`Ctx`].
///
/// `init` and `init_ok` are handled by the runtime; [`Node::on_init`] runs once the node knows
/// its id. RPC replies, replies to plain sends, client requests and peer messages all arrive
/// through [`Node::on_message`]; an RPC that timed out arrives there too, as an `error` reply
/// with code 0, so node code handles one path.
pub trait Node {
    /// The node's id and the cluster's ids are known (in `ctx`).
    fn on_init(&mut self, _ctx: &mut Ctx) {}

    /// A message arrived. A request this node does not serve should be passed to
    /// [`Ctx::not_supported`], which answers it with exactly one error 10.
    fn on_message(&mut self, ctx: &mut Ctx, msg: Message);

    /// A timer set with [`Ctx::set_timer`] fired.
    fn on_timer(&mut self, _ctx: &mut Ctx, _timer: TimerId) {}
}

/// A boxed node is a node, so a driver can host nodes of different types side by side (the
/// harness's services).
impl<N: Node + ?Sized> Node for Box<N> {
    fn on_init(&mut self, ctx: &mut Ctx) {
        (**self).on_init(ctx);
    }

    fn on_message(&mut self, ctx: &mut Ctx, msg: Message) {
        (**self).on_message(ctx, msg);
    }

    fn on_timer(&mut self, ctx: &mut Ctx, timer: TimerId) {
        (**self).on_timer(ctx, timer);
    }
}
