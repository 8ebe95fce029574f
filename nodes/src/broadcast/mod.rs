//! The broadcast algorithms of the course ("Broadcast protocols" and "Broadcast ordering"),
//! each a node of the `broadcast` workload, plus the machinery they share.
//!
//! | binary | module | guarantee |
//! |---|---|---|
//! | `broadcast-eager` | [`eager`] | reliable: everyone gets every message |
//! | `broadcast-gossip` | [`gossip`] | reliable, cheaply: tree pushes + anti-entropy |
//! | `broadcast-fifo` | [`fifo`] | FIFO: each origin's messages in the order sent |
//! | `broadcast-causal` | [`causal`] | causal: happens-before respected (vector clocks) |
//! | `broadcast-total-leader` | [`total_leader`] | total order, by a leader's sequence numbers |
//! | `broadcast-total-lamport` | [`total_lamport`] | total order, by Lamport timestamps |
//! | `broadcast-bracha` | [`bracha`] | reliable despite f Byzantine nodes, when n ≥ 3f + 1 |
//!
//! Broken twins, each one change away from the correct node, each wrong only under some
//! interleavings:
//!
//! | binary | module | the bug | shown by |
//! |---|---|---|---|
//! | `broadcast-fifo-reorder` | [`fifo_reorder`] | FIFO, but a gap of exactly one is jumped | links that reorder (loss and retransmission, random latencies) |
//! | `broadcast-causal-forgets` | [`causal_forgets`] | causal, but a message's dependencies omit the latest delivery | a reply overtaking its cause on the way to a third node |
//! | `broadcast-total-tiebreak` | [`total_tiebreak`] | Lamport total order, ties broken by local arrival | concurrent broadcasts with one timestamp |
//!
//! Shared pieces, one purpose each:
//!
//! - [`service`]: the client side every node shares: `topology`, `read`, `broadcast`;
//! - [`delivered`]: the delivered log that `read` shows, each value at most once;
//! - [`link`]: reliable, batched links (retry until acknowledged, de-duplicate);
//! - [`ordered`]: what the ordered algorithms share: each is an [`ordered::Order`] (hold-back
//!   key, deliverable predicate, delivery) carried by one wrapper (transport, hold-back queue,
//!   durability);
//! - [`holdback`]: the hold-back queue of the ordered algorithms;
//! - [`values`] and [`anti_entropy`]: message ids, digests and delta exchange (eager, gossip);
//! - [`received`]: what eager and gossip hold and delivered, on stable storage;
//! - [`quorum`]: majority replication of each origin's log, kept on stable storage, and
//!   recovery after a restart, the transport under the four ordered algorithms;
//! - [`seqset`]: sets of sequence numbers as ranges.

pub mod anti_entropy;
pub mod bracha;
pub mod causal;
pub mod causal_forgets;
pub mod delivered;
pub mod eager;
pub mod fifo;
pub mod fifo_reorder;
pub mod gossip;
pub mod holdback;
pub mod link;
pub mod ordered;
pub mod quorum;
pub mod received;
pub mod seqset;
pub mod service;
pub mod total_lamport;
pub mod total_leader;
pub mod total_tiebreak;
pub mod values;

pub use delivered::Delivered;
pub use service::{Algorithm, Service};
