//! The pool of keys that Elle's generators draw from, shared by kafka and the transactional
//! workloads: a fixed number of keys in use at once, later slots exponentially more likely
//! (each twice as likely as the one before, Elle's default `:exponential` key distribution
//! with base 2), each key taking a Zipf-distributed number of writes (at most
//! `--max-writes-per-key`) before a fresh key takes its slot. Bounding the writes per key keeps
//! every key's history short, which is what makes the checkers' per-key inference cheap.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// How many keys are in use at once when `--key-count` is not given (Elle's default for its
/// exponential key distribution).
pub const DEFAULT_KEY_COUNT: usize = 10;
/// The most writes any key gets (Maelstrom's `--max-writes-per-key` default).
pub const DEFAULT_MAX_WRITES_PER_KEY: u64 = 16;

/// `--key-count` and `--max-writes-per-key`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyPoolOptions {
    /// How many keys are in use at once (at least 1).
    pub key_count: usize,
    /// The most writes any key gets (at least 1).
    pub max_writes_per_key: u64,
}

impl Default for KeyPoolOptions {
    /// Ten keys, at most 16 writes each.
    fn default() -> Self {
        KeyPoolOptions {
            key_count: DEFAULT_KEY_COUNT,
            max_writes_per_key: DEFAULT_MAX_WRITES_PER_KEY,
        }
    }
}

/// The most keys the exact exponential draw handles (2^n stays finite in an f64 well below
/// 2^1024).
const MAX_EXACT_SLOTS: usize = 512;

/// A key in use: its name, how many writes it has had and may have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveKey {
    pub key: u64,
    pub written: u64,
    pub max: u64,
}

/// The keys in use, and the next fresh key's name (keys are 0, 1, 2, ... in order of use).
#[derive(Debug, Clone, Default)]
pub struct KeyPool {
    options: KeyPoolOptions,
    active: Vec<ActiveKey>,
    next_key: u64,
}

impl KeyPool {
    /// An empty pool with these options (zeros are raised to 1). It fills itself on the first
    /// draw.
    pub fn new(options: KeyPoolOptions) -> Self {
        KeyPool {
            options: KeyPoolOptions {
                key_count: options.key_count.max(1),
                max_writes_per_key: options.max_writes_per_key.max(1),
            },
            active: Vec::new(),
            next_key: 0,
        }
    }

    /// Bring the pool up to its key count with fresh keys.
    pub fn fill(&mut self, rng: &mut ChaCha8Rng) {
        while self.active.len() < self.options.key_count {
            let fresh = self.fresh_key(rng);
            self.active.push(fresh);
        }
    }

    /// The slot of the next op's key: slot `i` is `2^i` times as likely as slot 0. The pool
    /// must be filled.
    pub fn slot(&self, rng: &mut ChaCha8Rng) -> usize {
        let n = self.active.len();
        let r = rng.random::<f64>();
        if n > MAX_EXACT_SLOTS {
            // 2^n overflows: from the top, each slot half as likely as the one above it (what
            // the formula below tends to), so slot n - k has odds 2^-k.
            let k = (-r.max(f64::MIN_POSITIVE).log2()).floor() as usize + 1;
            return n.saturating_sub(k);
        }
        let scale = (2f64.powi(n as i32) - 1.0) * 2.0;
        let x = r * scale + 2.0;
        ((x.log2().floor() as usize).saturating_sub(1)).min(n - 1)
    }

    /// The key in `slot`.
    pub fn get(&self, slot: usize) -> &ActiveKey {
        &self.active[slot]
    }

    /// True when the key in `slot` has had all its writes.
    pub fn exhausted(&self, slot: usize) -> bool {
        self.active[slot].written >= self.active[slot].max
    }

    /// Put a fresh key in `slot`.
    pub fn replace(&mut self, slot: usize, rng: &mut ChaCha8Rng) {
        self.active[slot] = self.fresh_key(rng);
    }

    /// Count one more write to the key in `slot`; returns its number (1, 2, ...), which is a
    /// value unique within the key.
    pub fn write(&mut self, slot: usize) -> u64 {
        self.active[slot].written += 1;
        self.active[slot].written
    }

    fn fresh_key(&mut self, rng: &mut ChaCha8Rng) -> ActiveKey {
        let key = self.next_key;
        self.next_key += 1;
        ActiveKey {
            key,
            written: 0,
            max: max_writes(self.options.max_writes_per_key, rng),
        }
    }
}

/// A number of writes for a fresh key: Zipf-distributed in `1..=most` (weight 1/k), so most
/// keys get few writes and some get many.
fn max_writes(most: u64, rng: &mut ChaCha8Rng) -> u64 {
    let total: f64 = (1..=most).map(|k| 1.0 / k as f64).sum();
    let mut x = rng.random::<f64>() * total;
    for k in 1..=most {
        x -= 1.0 / k as f64;
        if x < 0.0 {
            return k;
        }
    }
    most
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn later_slots_are_likelier_and_no_key_exceeds_its_writes() {
        let mut pool = KeyPool::new(KeyPoolOptions {
            key_count: 4,
            max_writes_per_key: 5,
        });
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut per_slot = [0u32; 4];
        let mut writes = std::collections::BTreeMap::<u64, u64>::new();
        for _ in 0..4000 {
            pool.fill(&mut rng);
            let slot = pool.slot(&mut rng);
            per_slot[slot] += 1;
            if pool.exhausted(slot) {
                pool.replace(slot, &mut rng);
            }
            let n = pool.write(slot);
            writes.insert(pool.get(slot).key, n);
        }
        assert!(
            per_slot.windows(2).all(|w| w[0] < w[1]),
            "slot counts {per_slot:?}"
        );
        assert!(writes.values().all(|&n| (1..=5).contains(&n)), "{writes:?}");
        assert!(writes.len() > 4000 / 5, "{}", writes.len());
    }

    #[test]
    fn thousands_of_keys_still_spread_exponentially_from_the_top() {
        let mut pool = KeyPool::new(KeyPoolOptions {
            key_count: 5000,
            max_writes_per_key: 16,
        });
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        pool.fill(&mut rng);
        let mut from_top = [0u32; 4];
        for _ in 0..4000 {
            let k = 5000 - 1 - pool.slot(&mut rng);
            if k < 4 {
                from_top[k] += 1;
            }
        }
        // About 2000, 1000, 500, 250.
        assert!(
            from_top.windows(2).all(|w| w[0] > w[1] * 3 / 2),
            "{from_top:?}"
        );
        assert!((1700..2300).contains(&from_top[0]), "{from_top:?}");
    }
}
