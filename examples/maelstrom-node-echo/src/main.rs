//! Echo, written against the `maelstrom-node` crate's handler API.

use std::sync::Arc;

use async_trait::async_trait;
use maelstrom::protocol::Message;
use maelstrom::{done, Node, Result, Runtime};

#[derive(Clone, Default)]
struct EchoHandler;

#[async_trait]
impl Node for EchoHandler {
    async fn process(&self, runtime: Runtime, request: Message) -> Result<()> {
        match request.get_type() {
            "echo" => {
                let reply = request.body.clone().with_type("echo_ok");
                runtime.reply(request, reply).await
            }
            _ => done(runtime, request),
        }
    }
}

async fn serve() -> Result<()> {
    Runtime::new()
        .with_handler(Arc::new(EchoHandler))
        .run()
        .await
}

fn main() -> Result<()> {
    Runtime::init(serve())
}
