//! Synchronous clients: each has at most one op outstanding, waits at most
//! [`workloads::CLIENT_TIMEOUT`] for the reply, and records the op in the history.
//!
//! Client `k` talks to node `k mod n` under the id `c<process + 1>` (`c0` is the harness's
//! own id for `init` and `topology`). As in Jepsen, a client whose op ended `info` cannot know
//! whether that op is still in flight, so it continues as a new process with a new id (the next
//! process number no client has had), and late replies to the old id are recognised as such.
//!
//! Request ids count from 1, as Maelstrom's do: 0 is a valid id, but some node libraries
//! written against Maelstrom treat a 0 id as absent.

use rustc_hash::FxHashMap;
use workloads::{Completion, Op};

/// What a client is doing.
#[derive(Debug, Clone)]
pub enum ClientState {
    Idle,
    Busy {
        op: Op,
        msg_id: u64,
        /// Bumped at every invoke, so a stale timeout is recognised.
        seq: u64,
    },
    /// A final client that is done.
    Done,
}

/// One synchronous client.
#[derive(Debug, Clone)]
pub struct Client {
    pub process: u64,
    pub id: String,
    pub node: usize,
    pub state: ClientState,
    pub next_msg_id: u64,
    pub seq: u64,
    pub is_final: bool,
    /// A final client's op, which it invokes again after a failure.
    pub final_op: Option<Op>,
    /// msg_ids of this client's ops already completed by a reply, to tell a duplicate reply.
    pub answered: Vec<u64>,
    /// msg_ids of this client's ops it gave up on (timed out, or refused by a node that was
    /// down): a reply to one of them is late, and ignored, as Maelstrom ignores it.
    pub gave_up: Vec<u64>,
}

/// How an op ended, for what a later reply to it means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// Its reply came: another reply to the same request is a duplicate.
    Replied,
    /// The client gave up on it (a timeout, a refusal): a reply may still come, late.
    GaveUp,
}

/// Where a reply to a client id goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyTarget {
    /// The reply completes the op of client `index`.
    Completes(usize),
    /// A reply to an op this client already completed.
    Duplicate,
    /// A late reply to a client that gave up (timed out) and moved on.
    Late,
    /// Nobody sent a request with that id.
    Nobody,
}

/// Every client of the run.
#[derive(Debug, Default)]
pub struct Clients {
    pub clients: Vec<Client>,
    by_id: FxHashMap<String, usize>,
    retired: FxHashMap<String, ()>,
    next_process: u64,
}

impl Clients {
    /// `count` workload clients over `nodes` nodes.
    pub fn new(count: usize, nodes: usize) -> Self {
        let mut clients = Clients::default();
        for k in 0..count {
            clients.add(k % nodes.max(1), None);
        }
        clients
    }

    fn add(&mut self, node: usize, final_op: Option<Op>) -> usize {
        let process = self.next_process;
        self.next_process += 1;
        let id = format!("c{}", process + 1);
        let index = self.clients.len();
        self.by_id.insert(id.clone(), index);
        self.clients.push(Client {
            process,
            id,
            node,
            state: ClientState::Idle,
            next_msg_id: 1,
            seq: 0,
            is_final: final_op.is_some(),
            final_op,
            answered: Vec::new(),
            gave_up: Vec::new(),
        });
        index
    }

    /// A final client for `node` that invokes `op`, with a process id no other client has.
    pub fn add_final(&mut self, node: usize, op: Op) -> usize {
        self.add(node, Some(op))
    }

    /// Start `op` on client `index`; returns the request's msg_id and seq.
    pub fn invoke(&mut self, index: usize, op: Op) -> (u64, u64) {
        let client = &mut self.clients[index];
        let msg_id = client.next_msg_id;
        client.next_msg_id += 1;
        client.seq += 1;
        client.state = ClientState::Busy {
            op,
            msg_id,
            seq: client.seq,
        };
        (msg_id, client.seq)
    }

    /// Who a reply from a node to client id `id` with `in_reply_to` is for.
    pub fn target(&self, id: &str, in_reply_to: Option<u64>) -> ReplyTarget {
        let Some(&index) = self.by_id.get(id) else {
            return if self.retired.contains_key(id) {
                ReplyTarget::Late
            } else {
                ReplyTarget::Nobody
            };
        };
        let client = &self.clients[index];
        match (&client.state, in_reply_to) {
            (ClientState::Busy { msg_id, .. }, Some(r)) if *msg_id == r => {
                ReplyTarget::Completes(index)
            }
            (_, Some(r)) if client.answered.contains(&r) => ReplyTarget::Duplicate,
            (_, Some(r)) if client.gave_up.contains(&r) => ReplyTarget::Late,
            _ => ReplyTarget::Nobody,
        }
    }

    /// True if `id` is or was the id of one of these clients.
    pub fn known(&self, id: &str) -> bool {
        self.by_id.contains_key(id) || self.retired.contains_key(id)
    }

    /// The op client `index` is waiting on, if its invoke `seq` is still current.
    pub fn busy_with(&self, index: usize, seq: u64) -> Option<&Op> {
        match &self.clients[index].state {
            ClientState::Busy { op, seq: s, .. } if *s == seq => Some(op),
            _ => None,
        }
    }

    /// Client `index`'s op ended with `completion`, as `ended` says. A client whose op ended
    /// `info` moves on to a new process and id. A final client is done after an `ok` or
    /// `info`.
    pub fn complete(&mut self, index: usize, completion: &Completion, ended: Ended) {
        let client = &mut self.clients[index];
        if let ClientState::Busy { msg_id, .. } = client.state {
            let list = match ended {
                Ended::Replied => &mut client.answered,
                Ended::GaveUp => &mut client.gave_up,
            };
            list.push(msg_id);
            if list.len() > 64 {
                list.remove(0);
            }
        }
        client.state = ClientState::Idle;
        if completion.outcome == workloads::Outcome::Info {
            let old = std::mem::take(&mut client.id);
            self.by_id.remove(&old);
            self.retired.insert(old, ());
            client.process = self.next_process;
            self.next_process += 1;
            client.id = format!("c{}", client.process + 1);
            client.answered.clear();
            client.gave_up.clear();
            client.next_msg_id = 1;
            self.by_id.insert(client.id.clone(), index);
        }
    }

    /// Indices of the idle workload (non-final) clients.
    pub fn idle(&self) -> impl Iterator<Item = usize> + '_ {
        self.clients
            .iter()
            .enumerate()
            .filter(|(_, c)| !c.is_final && matches!(c.state, ClientState::Idle))
            .map(|(i, _)| i)
    }

    /// True while any client is waiting for a reply.
    pub fn any_busy(&self) -> bool {
        self.clients
            .iter()
            .any(|c| matches!(c.state, ClientState::Busy { .. }))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use workloads::{ErrorInfo, Outcome};

    use super::*;

    #[test]
    fn clients_are_spread_over_nodes_with_ids_from_c1() {
        let clients = Clients::new(5, 2);
        let ids: Vec<_> = clients
            .clients
            .iter()
            .map(|c| (c.id.as_str(), c.node))
            .collect();
        assert_eq!(ids, [("c1", 0), ("c2", 1), ("c3", 0), ("c4", 1), ("c5", 0)]);
    }

    #[test]
    fn replies_are_matched_and_duplicates_and_late_ones_told_apart() {
        let mut clients = Clients::new(2, 2);
        let (msg_id, _) = clients.invoke(0, Op::new("read", json!(null)));
        assert_eq!(msg_id, 1);
        assert_eq!(clients.target("c1", Some(1)), ReplyTarget::Completes(0));
        assert_eq!(clients.target("c1", Some(5)), ReplyTarget::Nobody);
        assert_eq!(clients.target("c9", Some(1)), ReplyTarget::Nobody);
        clients.complete(0, &Completion::ok(json!([])), Ended::Replied);
        assert_eq!(clients.target("c1", Some(1)), ReplyTarget::Duplicate);
        // A read that timed out fails (a read changes nothing) and keeps its client: a reply
        // that comes after is late, not a duplicate.
        clients.invoke(0, Op::new("read", json!(null)));
        let failed = Completion {
            outcome: Outcome::Fail,
            value: json!(null),
            error: Some(ErrorInfo::timeout()),
        };
        clients.complete(0, &failed, Ended::GaveUp);
        assert_eq!(clients.clients[0].id, "c1");
        assert_eq!(clients.target("c1", Some(2)), ReplyTarget::Late);

        clients.invoke(1, Op::new("broadcast", json!(3)));
        let info = Completion {
            outcome: Outcome::Info,
            value: json!(3),
            error: Some(ErrorInfo::timeout()),
        };
        clients.complete(1, &info, Ended::GaveUp);
        assert_eq!(clients.clients[1].process, 2);
        assert_eq!(clients.clients[1].id, "c3");
        assert_eq!(clients.target("c2", Some(1)), ReplyTarget::Late);
    }

    #[test]
    fn final_clients_get_fresh_process_ids() {
        let mut clients = Clients::new(3, 3);
        let f = clients.add_final(2, Op::new("read", json!(null)));
        assert_eq!(clients.clients[f].process, 3);
        assert!(clients.clients[f].is_final);
        assert_eq!(clients.idle().count(), 3);
    }
}
