//! What an unordered broadcast node (eager, gossip) has received and delivered, kept on stable
//! storage (the course's fail-recovery model).
//!
//! **What is persisted, and when.** Each message the node accepts for the first time is
//! appended to the stable log `received` in the same event that delivers it, so it is durable
//! before anything that event sends: before the node acknowledges it to a peer or a client, and
//! before a read can show it. **Recovery.** At start, the node reads the log back and delivers
//! its messages again in the same order, before it handles anything else: a restarted node's
//! reads begin where its reads before the crash left off, never empty. A node whose disk was
//! wiped starts empty, like a new node, and catches up from its peers.

use crate::broadcast::delivered::Delivered;
use crate::broadcast::values::{Item, Store};
use crate::ctx::Ctx;

/// The stable log of received messages.
pub const LOG: &str = "received";

/// Messages received, by id (the store anti-entropy compares), and delivered, in order.
#[derive(Debug, Clone, Default)]
pub struct Received {
    store: Store,
    delivered: Delivered,
}

impl Received {
    /// Nothing received yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Take back what stable storage held (call once, at init, before anything else).
    /// Returns how many messages were recovered.
    pub fn recover(&mut self, ctx: &mut Ctx) -> usize {
        let stable = ctx.take_recovered();
        let mut recovered = 0;
        for item in stable.decode::<Item>(LOG) {
            if self.store.insert(&item) {
                self.delivered.deliver(ctx.now(), item.value);
                recovered += 1;
            }
        }
        if recovered > 0 {
            ctx.log(format!(
                "recovered {recovered} messages from stable storage"
            ));
        }
        recovered
    }

    /// Keep, persist and deliver `item` if it is new. Returns false for a message held already.
    pub fn accept(&mut self, ctx: &mut Ctx, item: &Item) -> bool {
        if !self.store.insert(item) {
            return false;
        }
        ctx.persist(LOG, item);
        self.delivered.deliver(ctx.now(), item.value.clone());
        true
    }

    /// The messages held, by id.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The values delivered, in order.
    pub fn delivered(&self) -> &Delivered {
        &self.delivered
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::broadcast::values::MessageId;
    use crate::ctx::Effect;
    use crate::storage::Stable;

    fn item(seq: u64) -> Item {
        Item {
            id: MessageId("n1".into(), 7, seq),
            value: json!(seq * 10),
        }
    }

    #[test]
    fn accepted_messages_are_persisted_once_and_recovered_in_delivery_order() {
        let mut ctx = Ctx::new(1, 1);
        let mut received = Received::new();
        assert!(received.accept(&mut ctx, &item(2)));
        assert!(received.accept(&mut ctx, &item(0)));
        assert!(!received.accept(&mut ctx, &item(2)), "a duplicate");
        let mut disk = Stable::new();
        for effect in std::mem::take(&mut ctx.effects) {
            if let Effect::Persist(write) = effect {
                disk.apply(&write);
            }
        }
        assert_eq!(disk.records(LOG).len(), 2);
        let mut restarted = Ctx::new(1, 2);
        restarted.set_recovered(disk);
        let mut again = Received::new();
        assert_eq!(again.recover(&mut restarted), 2);
        assert_eq!(again.delivered().values(), &[json!(20), json!(0)]);
        assert!(again.store().contains(&item(0).id));
        assert!(!again.accept(&mut restarted, &item(0)));
    }
}
