//! Kafka-style logs (Gossip Glomers challenge 5): each key an append-only log of messages at
//! offsets, served to the `kafka` workload (`send`, `poll`, `commit_offsets`,
//! `list_committed_offsets`). The course's concept is the replicated log of state machine
//! replication: every node must agree on which message each offset of each key holds.
//!
//! | binary | module | how | correct |
//! |---|---|---|---|
//! | `kafka-lin-kv` | [`lin_kv`] | each key's log is one value in the `lin-kv` service, appended by compare-and-set | yes |
//! | `kafka-replicated` | [`replicated`] | sends and commits through total-order broadcast, polls from the local copy | yes; stalls while any node is cut off |
//! | `kafka-racy-offsets` | [`racy`] | each node numbers the messages it accepts itself and copies them to the others | no: two messages at one offset |
//!
//! [`Logs`] is the state machine the replicated node applies and the racy node keeps.

pub mod lin_kv;
pub mod racy;
pub mod replicated;

use std::collections::BTreeMap;

use proto::Payload;
use serde_json::Value;

/// The logs of every key and the committed offsets: the kafka state machine.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Logs {
    logs: BTreeMap<String, Vec<Value>>,
    committed: BTreeMap<String, u64>,
}

impl Logs {
    /// Append `msg` to `key`'s log; returns its offset (offsets are 0, 1, 2, ... per key).
    pub fn append(&mut self, key: &str, msg: Value) -> u64 {
        let log = self.logs.entry(key.to_owned()).or_default();
        log.push(msg);
        log.len() as u64 - 1
    }

    /// Each asked key's messages from its offset on, as `poll_ok` lists them; keys with none
    /// are left out.
    pub fn poll(&self, offsets: &BTreeMap<String, u64>) -> BTreeMap<String, Vec<(u64, Value)>> {
        offsets
            .iter()
            .filter_map(|(key, &from)| {
                let log = self.logs.get(key)?;
                let start = usize::try_from(from).ok()?.min(log.len());
                let pairs: Vec<(u64, Value)> = log[start..]
                    .iter()
                    .enumerate()
                    .map(|(i, m)| ((start + i) as u64, m.clone()))
                    .collect();
                (!pairs.is_empty()).then(|| (key.clone(), pairs))
            })
            .collect()
    }

    /// Record that clients processed each key up to the offset; a committed offset never goes
    /// back.
    pub fn commit(&mut self, offsets: &BTreeMap<String, u64>) {
        for (key, &offset) in offsets {
            let at = self.committed.entry(key.clone()).or_insert(offset);
            *at = (*at).max(offset);
        }
    }

    /// The committed offsets of `keys` (keys never committed left out).
    pub fn committed(&self, keys: &[String]) -> BTreeMap<String, u64> {
        keys.iter()
            .filter_map(|k| self.committed.get(k).map(|&o| (k.clone(), o)))
            .collect()
    }

    /// The reply to a `poll`, `commit_offsets` or `list_committed_offsets`, answered from
    /// this state (a `commit_offsets` is applied first); `None` for other payloads.
    pub fn answer(&mut self, request: &Payload) -> Option<Payload> {
        match request {
            Payload::Poll { offsets } => Some(Payload::PollOk {
                msgs: self.poll(offsets),
            }),
            Payload::CommitOffsets { offsets } => {
                self.commit(offsets);
                Some(Payload::CommitOffsetsOk)
            }
            Payload::ListCommittedOffsets { keys } => Some(Payload::ListCommittedOffsetsOk {
                offsets: self.committed(keys),
            }),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn logs_number_each_keys_messages_from_zero_and_commits_only_go_forward() {
        let mut logs = Logs::default();
        assert_eq!(logs.append("a", json!(1)), 0);
        assert_eq!(logs.append("b", json!(9)), 0);
        assert_eq!(logs.append("a", json!(2)), 1);
        let asked = BTreeMap::from([
            ("a".to_owned(), 1),
            ("b".to_owned(), 5),
            ("c".to_owned(), 0),
        ]);
        assert_eq!(
            logs.poll(&asked),
            BTreeMap::from([("a".to_owned(), vec![(1, json!(2))])])
        );
        logs.commit(&BTreeMap::from([("a".to_owned(), 1)]));
        logs.commit(&BTreeMap::from([("a".to_owned(), 0)]));
        assert_eq!(
            logs.committed(&["a".to_owned(), "b".to_owned()]),
            BTreeMap::from([("a".to_owned(), 1)])
        );
    }
}
