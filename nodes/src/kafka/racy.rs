//! `kafka-racy-offsets`: Kafka-style logs where each node numbers the messages it accepts
//! itself, a broken node for the checker to catch (the course's lesson that a replicated log
//! needs *one* order: 4.2, total order broadcast).
//!
//! **Algorithm.** A node that gets a `send` gives the message the offset after the last one
//! its own copy of the key's log holds, acknowledges it at once, and copies it to every other
//! node (`kafka_copy {key, offset, msg}`, fire and forget). A node that receives a copy puts it
//! at that offset if it holds nothing there, and drops it otherwise. Polls, commits and lists
//! are answered from the local copy.
//!
//! **What goes wrong.** Two nodes that accept sends to one key at about the same time give
//! both messages the same offset: each node keeps its own, so polls at different nodes return
//! different messages at one offset (`inconsistent_offsets`), and a client that polls the node
//! that dropped its message never sees it though later offsets come back (`lost_write`). A
//! copy lost to a partition is never sent again, so a node cut off misses messages for good.
//! Committed offsets live on one node each, so a client's commit at one node is not what
//! another lists. Under no concurrency and no faults it looks correct.
//!
//! **Topology.** Ignored: copies go to every node.
//!
//! **Cost.** n-1 messages per send; polls, commits and lists cost nothing.
//!
//! **Crash.** Nothing is kept on disk: a restarted node starts empty.

use std::collections::BTreeMap;

use proto::{Message, Payload};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ctx::Ctx;
use crate::node::Node;

/// The copy of an accepted message a node sends its peers.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename = "kafka_copy")]
struct Copy {
    key: String,
    offset: u64,
    msg: Value,
}

/// The node.
#[derive(Debug, Default)]
pub struct RacyOffsets {
    logs: BTreeMap<String, BTreeMap<u64, Value>>,
    committed: BTreeMap<String, u64>,
}

impl Node for RacyOffsets {
    fn on_message(&mut self, ctx: &mut Ctx, msg: Message) {
        if let Ok(copy) = msg.body.parse_custom::<Copy>() {
            let log = self.logs.entry(copy.key).or_default();
            log.entry(copy.offset).or_insert(copy.msg);
            return;
        }
        match &msg.body.payload {
            Payload::Send { key, msg: m } => {
                let log = self.logs.entry(key.clone()).or_default();
                let offset = log.keys().next_back().map_or(0, |o| o + 1);
                log.insert(offset, m.clone());
                let copy = Copy {
                    key: key.clone(),
                    offset,
                    msg: m.clone(),
                };
                let peers: Vec<String> = ctx.peers().map(str::to_owned).collect();
                for peer in peers {
                    ctx.send(&peer, &copy);
                }
                ctx.reply(&msg, &Payload::SendOk { offset });
            }
            Payload::Poll { offsets } => {
                let msgs = offsets
                    .iter()
                    .filter_map(|(key, &from)| {
                        let pairs: Vec<(u64, Value)> = self
                            .logs
                            .get(key)?
                            .range(from..)
                            .map(|(o, m)| (*o, m.clone()))
                            .collect();
                        (!pairs.is_empty()).then(|| (key.clone(), pairs))
                    })
                    .collect();
                ctx.reply(&msg, &Payload::PollOk { msgs });
            }
            Payload::CommitOffsets { offsets } => {
                for (key, &offset) in offsets {
                    let at = self.committed.entry(key.clone()).or_insert(offset);
                    *at = (*at).max(offset);
                }
                ctx.reply(&msg, &Payload::CommitOffsetsOk);
            }
            Payload::ListCommittedOffsets { keys } => {
                let offsets = keys
                    .iter()
                    .filter_map(|k| self.committed.get(k).map(|&o| (k.clone(), o)))
                    .collect();
                ctx.reply(&msg, &Payload::ListCommittedOffsetsOk { offsets });
            }
            _ => ctx.not_supported(&msg),
        }
    }
}
