//! The delivered log: the values a node has delivered, in delivery order, each at most once.
//! It is what `read_ok.messages` shows (DESIGN.md: "in the order this node delivered them"),
//! so it is where the ordering guarantees of FIFO, causal and total-order broadcast become
//! visible.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::Value;

/// Values in delivery order, with the (driver) time each was delivered.
#[derive(Debug, Clone, Default)]
pub struct Delivered {
    values: Vec<Value>,
    times: Vec<Duration>,
    /// The canonical JSON text of every delivered value, so that a value sent twice (by two
    /// clients, or after a retry) appears once.
    seen: BTreeSet<String>,
}

impl Delivered {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// Deliver `value` at time `now`. Returns false, and changes nothing, if an equal value was
    /// delivered before.
    pub fn deliver(&mut self, now: Duration, value: Value) -> bool {
        if !self.seen.insert(value.to_string()) {
            return false;
        }
        self.values.push(value);
        self.times.push(now);
        true
    }

    /// True when an equal value has been delivered.
    pub fn contains(&self, value: &Value) -> bool {
        self.seen.contains(&value.to_string())
    }

    /// The delivered values, in delivery order.
    pub fn values(&self) -> &[Value] {
        &self.values
    }

    /// When each value of [`Delivered::values`] was delivered (same index).
    pub fn times(&self) -> &[Duration] {
        &self.times
    }

    /// How many values have been delivered.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// True when nothing has been delivered.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_value_is_delivered_at_most_once() {
        let mut log = Delivered::new();
        assert!(log.deliver(Duration::from_millis(1), json!(3)));
        assert!(log.deliver(Duration::from_millis(2), json!({"a": 1})));
        assert!(!log.deliver(Duration::from_millis(3), json!(3)));
        assert_eq!(log.values(), &[json!(3), json!({"a": 1})]);
        assert_eq!(
            log.times(),
            &[Duration::from_millis(1), Duration::from_millis(2)]
        );
        assert!(log.contains(&json!({"a": 1})));
    }
}
