//! `seq-kv`: a sequentially consistent key-value store (the course's consistency models, 7.2
//! and 7.3: weaker than linearizability, stronger than eventual consistency). All requests take
//! effect in one total order that respects each client's own order, but that order need not
//! match real time: a read may see the past.
//!
//! The service keeps the recent versions of its state. Writes and compare-and-sets always
//! apply to (and are judged against) the latest version. A read may instead be served from an
//! older version, drawn uniformly from the seed among those allowed:
//!
//! - never older than anything the same client (the requesting node) already saw or wrote:
//!   each client's view only moves forward;
//! - never staler than [`SeqKv::DEFAULT_STALENESS`] (1 s; see [`SeqKv::with_staleness`]): the
//!   version served was the latest at some instant within the last second, so every client
//!   sees every write within a second of it and the store converges.
//!
//! This is Maelstrom's `seq-kv` with two differences: the bound is a time rather than a count
//! of versions (Maelstrom serves from any of the last 32), and only reads are served stale
//! (Maelstrom also judges a compare-and-set against a stale version when it would fail there). Requests and errors are those of [`super::kv`].

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use nodes::{Ctx, Node};
use proto::Message;
use rand::Rng;
use serde_json::Value;

use super::kv::{KvOp, key_id};
use super::{answer, kv_request, parse_request};

/// The seq-kv service.
#[derive(Debug, Clone)]
pub struct SeqKv {
    staleness: Duration,
    /// The latest version; version 0 is the empty store.
    latest: u64,
    /// When each still-readable version became the latest, oldest first.
    versions: VecDeque<(u64, Duration)>,
    /// Each key's values, by the version that wrote them, oldest first.
    keys: BTreeMap<String, VecDeque<(u64, Value)>>,
    /// The newest version each client has seen.
    seen: BTreeMap<String, u64>,
}

impl Default for SeqKv {
    fn default() -> Self {
        SeqKv::with_staleness(SeqKv::DEFAULT_STALENESS)
    }
}

impl SeqKv {
    /// How stale a read may be, by default.
    pub const DEFAULT_STALENESS: Duration = Duration::from_secs(1);

    /// An empty store whose reads are at most 1 s stale.
    pub fn new() -> Self {
        SeqKv::default()
    }

    /// An empty store whose reads are at most `staleness` stale.
    pub fn with_staleness(staleness: Duration) -> Self {
        SeqKv {
            staleness,
            latest: 0,
            versions: VecDeque::from([(0, Duration::ZERO)]),
            keys: BTreeMap::new(),
            seen: BTreeMap::new(),
        }
    }

    /// The latest version number (it counts state changes).
    pub fn latest_version(&self) -> u64 {
        self.latest
    }

    /// The latest value of `key`, for inspection.
    pub fn get(&self, key: &Value) -> Option<&Value> {
        self.value_at(&key_id(key), self.latest)
    }

    /// Forget the versions that were last the latest more than `staleness` before `now`; the
    /// oldest readable version remains.
    fn expire(&mut self, now: Duration) {
        while self.versions.len() >= 2 && self.versions[1].1 + self.staleness < now {
            self.versions.pop_front();
        }
    }

    /// The oldest version a read may see now.
    fn floor(&self) -> u64 {
        self.versions.front().map_or(self.latest, |v| v.0)
    }

    fn value_at(&self, id: &str, version: u64) -> Option<&Value> {
        let history = self.keys.get(id)?;
        history
            .iter()
            .rev()
            .find(|(v, _)| *v <= version)
            .map(|(_, value)| value)
    }

    /// Make `value` the latest value of `id`, as a new version created at `now`.
    fn write(&mut self, id: String, value: Value, now: Duration) {
        self.latest += 1;
        self.versions.push_back((self.latest, now));
        let floor = self.floor();
        let history = self.keys.entry(id).or_default();
        history.push_back((self.latest, value));
        while history.len() >= 2 && history[1].0 <= floor {
            history.pop_front();
        }
    }

    fn handle(&mut self, ctx: &mut Ctx, client: &str, op: &KvOp) -> proto::Payload {
        let now = ctx.now();
        self.expire(now);
        let id = key_id(op.key());
        let is_read = matches!(op, KvOp::Read { .. });
        let version = if is_read {
            let seen = self.seen.get(client).copied().unwrap_or(0);
            let low = seen.max(self.floor()).min(self.latest);
            ctx.rng().random_range(low..=self.latest)
        } else {
            self.latest
        };
        let current = self.value_at(&id, version);
        let outcome = op.apply(current);
        if let Some(value) = outcome.write
            && Some(&value) != current
        {
            self.write(id, value, now);
        }
        // A read saw `version`; a write or cas saw (and may have made) the latest.
        let saw = if is_read { version } else { self.latest };
        self.seen.insert(client.to_owned(), saw);
        outcome.reply
    }
}

impl Node for SeqKv {
    fn on_message(&mut self, ctx: &mut Ctx, msg: Message) {
        let Some(op) = parse_request(ctx, &msg, kv_request) else {
            return;
        };
        let reply = self.handle(ctx, &msg.src, &op);
        answer(ctx, &msg, &reply);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn old_versions_expire_but_the_oldest_readable_stays() {
        let mut kv = SeqKv::with_staleness(Duration::from_secs(1));
        let id = key_id(&json!("k"));
        for i in 0..10u64 {
            let now = Duration::from_millis(300 * i);
            kv.expire(now);
            kv.write(id.clone(), json!(i), now);
        }
        // Version v holds value v - 1 and became the latest at 0.3 (v - 1) s. At 2.7 s,
        // version 6 (replaced at 1.8 s) is still readable, version 5 (replaced at 1.5 s) not.
        assert_eq!(kv.floor(), 6);
        assert_eq!(kv.value_at(&id, 6), Some(&json!(5)));
        assert_eq!(kv.get(&json!("k")), Some(&json!(9)));
        let kept: Vec<u64> = kv.keys[&id].iter().map(|(v, _)| *v).collect();
        assert_eq!(kept, vec![6, 7, 8, 9, 10]);
    }
}
