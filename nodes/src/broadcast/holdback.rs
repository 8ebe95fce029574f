//! The hold-back queue (the course's "broadcast algorithms"): a message that has been received
//! but may not be delivered yet, because something that must be delivered before it has not
//! arrived, waits here. FIFO broadcast waits for earlier messages of the same origin, causal
//! broadcast for the message's dependencies, total-order broadcast for the messages that may
//! still come before it in the total order.

use std::collections::BTreeMap;

/// Messages held back, by key. The algorithm decides when one may be delivered.
#[derive(Debug, Clone)]
pub struct HoldBack<K, M> {
    held: BTreeMap<K, M>,
}

impl<K, M> Default for HoldBack<K, M> {
    fn default() -> Self {
        HoldBack {
            held: BTreeMap::new(),
        }
    }
}

impl<K: Ord + Clone, M> HoldBack<K, M> {
    /// An empty queue.
    pub fn new() -> Self {
        Self::default()
    }

    /// Hold `msg` back under `key`. Returns false, and keeps the first, if `key` is held
    /// already (a duplicate).
    pub fn hold(&mut self, key: K, msg: M) -> bool {
        if self.held.contains_key(&key) {
            return false;
        }
        self.held.insert(key, msg);
        true
    }

    /// Take out the first message, in key order, that `ready` accepts.
    pub fn release(&mut self, mut ready: impl FnMut(&K, &M) -> bool) -> Option<(K, M)> {
        let key = self
            .held
            .iter()
            .find(|(k, m)| ready(k, m))
            .map(|(k, _)| k.clone())?;
        self.held.remove_entry(&key)
    }

    /// Take out the first message in key order, if `ready` accepts it (total order: only the
    /// smallest key may ever go next).
    pub fn release_first(&mut self, ready: impl FnOnce(&K, &M) -> bool) -> Option<(K, M)> {
        let (key, msg) = self.held.first_key_value()?;
        if ready(key, msg) {
            self.held.pop_first()
        } else {
            None
        }
    }

    /// True when `key` is held.
    pub fn contains(&self, key: &K) -> bool {
        self.held.contains_key(key)
    }

    /// How many messages are held.
    pub fn len(&self) -> usize {
        self.held.len()
    }

    /// True when nothing is held.
    pub fn is_empty(&self) -> bool {
        self.held.is_empty()
    }

    /// The held messages, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &M)> {
        self.held.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_takes_the_first_ready_message_in_key_order() {
        let mut queue = HoldBack::new();
        assert!(queue.hold(3, "c"));
        assert!(queue.hold(1, "a"));
        assert!(!queue.hold(1, "dup"));
        assert_eq!(queue.release(|k, _| *k > 1), Some((3, "c")));
        assert_eq!(queue.release(|k, _| *k > 1), None);
        assert_eq!(queue.release_first(|_, m| *m == "a"), Some((1, "a")));
        assert!(queue.is_empty());
    }
}
