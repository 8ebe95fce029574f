//! Sequential specifications: the single-copy objects a linearizable history must look like.
//!
//! Linearizability (the course's lecture on consistency models) compares a concurrent history
//! with a *sequential* object: every op must appear to take effect at one instant between its
//! invocation and its completion, in an order the object's specification allows. These are
//! the objects:
//!
//! - `register`: `read` returns the value, `write v` sets it.
//! - `cas-register`: also `cas [from, to]`, which sets `to` only when the value is `from`.
//! - `kv`: one cas-register per key (values `[key, ...]` as lin-kv records them), and also
//!   Porcupine's `get` (a read), `put` (a write) and `append` (concatenate a string; an absent
//!   value counts as the empty string).
//! - `multi-register`: `txn` of micro-ops `[read k v]` / `[write k v]` applied atomically to a
//!   map of registers.
//! - `mutex`: `acquire` succeeds only when free, `release` only when held.
//!
//! States and values are interned to small integers so that a step is a few comparisons and a
//! configuration `(linearized set, state)` hashes and compares cheaply.

use rustc_hash::FxHashMap;
use serde_json::Value;

/// A state or value id. `ABSENT` is the value of a key never written (or written `null`).
pub(crate) const ABSENT: u32 = 0;
/// In a read: matches any state (a `null` read under `--nil-read unknown`).
pub(crate) const ANY: u32 = u32::MAX;

/// What one op does to the object.
#[derive(Debug, Clone)]
pub(crate) enum Step {
    Read(u32),
    Write(u32),
    Cas(u32, u32),
    Append(u32),
    Acquire,
    Release,
    Txn(Box<[Micro]>),
}

/// One micro-op of a transaction, on a slot of its component's registers.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Micro {
    Read(usize, u32),
    Write(usize, u32),
}

/// Interned values; id 0 is the absent value.
///
/// Strings are kept apart so that `append` is cheap and exact: a string is a node `(parent,
/// piece)` of a trie (a root node is a whole piece), with its length and a polynomial hash
/// modulo 2^61 - 1 that composes under concatenation. Every string has exactly one id: a new
/// concatenation is looked up by `(hash, length)` and, on a match, compared byte for byte, so
/// equal strings reached by different histories of appends (or written, or read) are one
/// state, and a hash collision can cost time but never a wrong verdict.
#[derive(Debug, Default)]
pub(crate) struct Values {
    nodes: Vec<Node>,
    json_index: FxHashMap<String, u32>,
    /// Strings by `(hash, length)`: the newest node, then `str_next` links to older ones.
    str_index: FxHashMap<(u64, u32), u32>,
    str_next: Vec<u32>,
    pieces: Vec<Piece>,
    piece_index: FxHashMap<Box<str>, u32>,
}

#[derive(Debug)]
enum Node {
    Absent,
    Json(Value),
    Str {
        parent: u32,
        piece: u32,
        len: u32,
        hash: u64,
    },
}

#[derive(Debug)]
struct Piece {
    text: Box<str>,
    hash: u64,
    /// BASE^len mod 2^61 - 1.
    shift: u64,
}

const MERSENNE: u64 = (1 << 61) - 1;
const BASE: u64 = 0x1f3d_5b79_a4c3_e1d7 % MERSENNE;
const NO_PARENT: u32 = u32::MAX;

fn mulmod(a: u64, b: u64) -> u64 {
    let p = (a as u128) * (b as u128);
    let lo = (p as u64) & MERSENNE;
    let hi = (p >> 61) as u64;
    let s = lo + hi;
    if s >= MERSENNE { s - MERSENNE } else { s }
}

fn addmod(a: u64, b: u64) -> u64 {
    let s = a + b;
    if s >= MERSENNE { s - MERSENNE } else { s }
}

impl Values {
    pub(crate) fn new() -> Values {
        Values {
            nodes: vec![Node::Absent],
            ..Values::default()
        }
    }

    /// The id of `v`; `null` is the absent value.
    pub(crate) fn intern(&mut self, v: &Value) -> u32 {
        match v {
            Value::Null => ABSENT,
            Value::String(s) => {
                let piece = self.piece(s);
                self.concat(NO_PARENT, piece)
            }
            _ => {
                let key = v.to_string();
                if let Some(&id) = self.json_index.get(&key) {
                    return id;
                }
                let id = self.nodes.len() as u32;
                self.nodes.push(Node::Json(v.clone()));
                self.json_index.insert(key, id);
                id
            }
        }
    }

    fn piece(&mut self, text: &str) -> u32 {
        if let Some(&id) = self.piece_index.get(text) {
            return id;
        }
        let (mut hash, mut shift) = (0u64, 1u64);
        for &b in text.as_bytes() {
            hash = addmod(mulmod(hash, BASE), b as u64 + 1);
            shift = mulmod(shift, BASE);
        }
        let id = self.pieces.len() as u32;
        self.pieces.push(Piece {
            text: text.into(),
            hash,
            shift,
        });
        self.piece_index.insert(text.into(), id);
        id
    }

    /// The string of `parent` (none: the empty string) followed by `piece`, interned.
    fn concat(&mut self, parent: u32, piece: u32) -> u32 {
        let (plen, phash) = match self.nodes.get(parent as usize) {
            Some(Node::Str { len, hash, .. }) => (*len, *hash),
            _ => (0, 0),
        };
        let p = &self.pieces[piece as usize];
        let len = plen + p.text.len() as u32;
        let hash = addmod(mulmod(phash, p.shift), p.hash);
        let head = self
            .str_index
            .get(&(hash, len))
            .copied()
            .unwrap_or(NO_PARENT);
        let mut c = head;
        while c != NO_PARENT {
            if self.same_string(c, parent, piece) {
                return c;
            }
            c = self.str_next[c as usize];
        }
        let id = self.nodes.len() as u32;
        self.nodes.push(Node::Str {
            parent,
            piece,
            len,
            hash,
        });
        self.str_next.resize(self.nodes.len(), NO_PARENT);
        self.str_next[id as usize] = head;
        self.str_index.insert((hash, len), id);
        id
    }

    /// Whether node `c` spells the string of `parent` followed by `piece`.
    fn same_string(&self, c: u32, parent: u32, piece: u32) -> bool {
        if let Node::Str {
            parent: cp,
            piece: cq,
            ..
        } = self.nodes[c as usize]
            && ((cp == parent && cq == piece)
                || (cp == NO_PARENT && parent == NO_PARENT && cq == piece))
        {
            return true;
        }
        let mut expected = String::new();
        if parent != NO_PARENT {
            self.spell(parent, &mut expected);
        }
        expected.push_str(&self.pieces[piece as usize].text);
        let mut actual = String::new();
        self.spell(c, &mut actual);
        actual == expected
    }

    /// Append the string of node `id` to `out`.
    fn spell(&self, id: u32, out: &mut String) {
        let mut chain = Vec::new();
        let mut at = id;
        while let Some(Node::Str { parent, piece, .. }) = self.nodes.get(at as usize) {
            chain.push(*piece);
            at = *parent;
        }
        for piece in chain.iter().rev() {
            out.push_str(&self.pieces[*piece as usize].text);
        }
    }

    /// `state` followed by the string `piece_value` (an interned string), or `None` when
    /// either is not a string. An absent value counts as the empty string.
    pub(crate) fn append(&mut self, state: u32, piece_value: u32) -> Option<u32> {
        let piece = match self.nodes.get(piece_value as usize) {
            Some(Node::Str {
                parent: NO_PARENT,
                piece,
                ..
            }) => *piece,
            _ => return None,
        };
        match self.nodes.get(state as usize) {
            Some(Node::Absent) => Some(self.concat(NO_PARENT, piece)),
            Some(Node::Str { .. }) => Some(self.concat(state, piece)),
            _ => None,
        }
    }

    /// The value of an id; `null` for absent.
    pub(crate) fn get(&self, id: u32) -> Value {
        match self.nodes.get(id as usize) {
            Some(Node::Json(v)) => v.clone(),
            Some(Node::Str { .. }) => {
                let mut s = String::new();
                self.spell(id, &mut s);
                Value::String(s)
            }
            _ => Value::Null,
        }
    }
}

/// The mutable part of a specification: interned values and memoized transitions that are
/// too costly to recompute (string concatenation, transaction states).
#[derive(Debug)]
pub(crate) struct Spec {
    pub(crate) values: Values,
    append_memo: FxHashMap<(u32, u32), u32>,
    /// Transaction states: the value id of every slot.
    txn_states: Vec<Box<[u32]>>,
    txn_index: FxHashMap<Box<[u32]>, u32>,
    txn_memo: FxHashMap<(u32, u32), u32>,
    /// The key of each transaction slot, for explanations.
    pub(crate) slots: Vec<String>,
}

impl Spec {
    pub(crate) fn new(values: Values) -> Spec {
        Spec {
            values,
            append_memo: FxHashMap::default(),
            txn_states: Vec::new(),
            txn_index: FxHashMap::default(),
            txn_memo: FxHashMap::default(),
            slots: Vec::new(),
        }
    }

    /// Intern a transaction state (the value of every slot).
    pub(crate) fn txn_state(&mut self, slots: Box<[u32]>) -> u32 {
        if let Some(&id) = self.txn_index.get(&slots) {
            return id;
        }
        let id = self.txn_states.len() as u32;
        self.txn_states.push(slots.clone());
        self.txn_index.insert(slots, id);
        id
    }

    /// The state after `op` (whose index in its partition is `op_id`), or `None` when the
    /// specification does not allow `op` in `state`.
    #[inline]
    pub(crate) fn step(&mut self, state: u32, op: &Step, op_id: u32) -> Option<u32> {
        match *op {
            Step::Read(v) => (v == ANY || v == state).then_some(state),
            Step::Write(v) => Some(v),
            Step::Cas(from, to) => (from == state).then_some(to),
            Step::Acquire => (state == 0).then_some(1),
            Step::Release => (state == 1).then_some(0),
            Step::Append(piece) => self.append(state, piece),
            Step::Txn(ref micros) => self.txn(state, micros, op_id),
        }
    }

    fn append(&mut self, state: u32, piece: u32) -> Option<u32> {
        if let Some(&next) = self.append_memo.get(&(state, piece)) {
            return (next != ANY).then_some(next);
        }
        let next = self.values.append(state, piece).unwrap_or(ANY);
        self.append_memo.insert((state, piece), next);
        (next != ANY).then_some(next)
    }

    fn txn(&mut self, state: u32, micros: &[Micro], op_id: u32) -> Option<u32> {
        if let Some(&next) = self.txn_memo.get(&(state, op_id)) {
            return (next != ANY).then_some(next);
        }
        let mut slots = self.txn_states[state as usize].clone();
        let mut ok = true;
        for micro in micros {
            match *micro {
                Micro::Read(slot, v) => {
                    if v != ANY && slots[slot] != v {
                        ok = false;
                        break;
                    }
                }
                Micro::Write(slot, v) => slots[slot] = v,
            }
        }
        let next = if ok { self.txn_state(slots) } else { ANY };
        self.txn_memo.insert((state, op_id), next);
        (next != ANY).then_some(next)
    }

    /// A state as JSON, for explanations: the value, or for transactions the map of keys.
    pub(crate) fn describe_state(&self, state: u32, mutex: bool) -> Value {
        if mutex {
            return Value::String(if state == 1 { "held" } else { "free" }.into());
        }
        if let Some(slots) = self
            .txn_states
            .get(state as usize)
            .filter(|_| !self.slots.is_empty())
        {
            let mut map = serde_json::Map::new();
            for (key, &v) in self.slots.iter().zip(slots.iter()) {
                map.insert(key.clone(), self.values.get(v));
            }
            return Value::Object(map);
        }
        self.values.get(state)
    }

    /// Why `op` cannot take effect in `state`, in words.
    pub(crate) fn why_not(&self, state: u32, op: &Step, mutex: bool) -> String {
        let show = |id: u32| -> String {
            if id == ABSENT {
                "absent".into()
            } else {
                self.values.get(id).to_string()
            }
        };
        let s = self.describe_state(state, mutex);
        let s = if s.is_null() {
            "absent".to_owned()
        } else {
            s.to_string()
        };
        match *op {
            Step::Read(v) => format!("it read {} but the value was {s}", show(v)),
            Step::Cas(from, to) => format!(
                "cas {} -> {} needs {}, but the value was {s}",
                show(from),
                show(to),
                show(from)
            ),
            Step::Acquire => "acquire needs the lock free, but it was held".into(),
            Step::Release => "release needs the lock held, but it was free".into(),
            Step::Append(_) => format!("append needs a string value, but the value was {s}"),
            Step::Txn(ref micros) => {
                let slots = self.txn_states.get(state as usize);
                for micro in micros.iter() {
                    if let Micro::Read(slot, v) = *micro
                        && v != ANY
                        && slots.is_some_and(|sl| sl[slot] != v)
                    {
                        let key = self.slots.get(slot).map_or("?", String::as_str);
                        return format!("it read {key} = {} but the registers were {s}", show(v));
                    }
                }
                format!("a read of the transaction disagrees with {s} once its own writes apply")
            }
            Step::Write(_) => format!(
                "a write is allowed in any state, but every order that takes it from {s} meets an \
                 op it cannot explain"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn register_cas_and_mutex_steps() {
        let mut values = Values::new();
        let one = values.intern(&json!(1));
        let two = values.intern(&json!(2));
        assert_eq!(values.intern(&json!(1)), one);
        let mut spec = Spec::new(values);
        assert_eq!(spec.step(one, &Step::Read(one), 0), Some(one));
        assert_eq!(spec.step(one, &Step::Read(two), 0), None);
        assert_eq!(spec.step(one, &Step::Read(ANY), 0), Some(one));
        assert_eq!(spec.step(one, &Step::Cas(one, two), 0), Some(two));
        assert_eq!(spec.step(two, &Step::Cas(one, two), 0), None);
        assert_eq!(spec.step(0, &Step::Acquire, 0), Some(1));
        assert_eq!(spec.step(1, &Step::Acquire, 0), None);
        assert_eq!(spec.step(0, &Step::Release, 0), None);
        assert!(
            spec.why_not(two, &Step::Read(one), false)
                .contains("read 1 but the value was 2")
        );
    }

    #[test]
    fn append_concatenates_and_absent_is_empty() {
        let mut values = Values::new();
        let x = values.intern(&json!("x"));
        let xy = values.intern(&json!("xy"));
        let y = values.intern(&json!("y"));
        let mut spec = Spec::new(values);
        assert_eq!(spec.step(ABSENT, &Step::Append(x), 0), Some(x));
        assert_eq!(spec.step(x, &Step::Append(y), 0), Some(xy));
        assert_eq!(spec.step(x, &Step::Append(y), 0), Some(xy));
        let n = spec.values.intern(&json!(5));
        assert_eq!(spec.step(n, &Step::Append(y), 0), None);
        // The same string reached by different appends, or written whole, is one state.
        let x_y = spec.values.intern(&json!("x y"));
        let sp = spec.values.intern(&json!(" "));
        let x_ = spec.step(x, &Step::Append(sp), 1).unwrap();
        assert_eq!(spec.step(x_, &Step::Append(y), 2), Some(x_y));
        assert_eq!(spec.values.get(x_y), json!("x y"));
        let empty = spec.values.intern(&json!(""));
        assert_ne!(empty, ABSENT);
        assert_eq!(spec.step(empty, &Step::Append(x), 3), Some(x));
    }

    #[test]
    fn transactions_apply_atomically() {
        let mut values = Values::new();
        let zero = values.intern(&json!(0));
        let two = values.intern(&json!(2));
        let mut spec = Spec::new(values);
        spec.slots = vec!["x".into(), "y".into()];
        let init = spec.txn_state(vec![zero, zero].into());
        let write = Step::Txn(vec![Micro::Write(1, two), Micro::Read(1, two)].into());
        let after = spec.step(init, &write, 0).unwrap();
        assert_eq!(spec.describe_state(after, false), json!({"x": 0, "y": 2}));
        let read = Step::Txn(vec![Micro::Read(0, zero), Micro::Read(1, zero)].into());
        assert_eq!(spec.step(after, &read, 1), None);
        assert!(spec.why_not(after, &read, false).contains("y = 0"));
        assert_eq!(spec.step(init, &read, 1), Some(init));
    }
}
