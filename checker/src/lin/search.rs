//! The Wing & Gong search for a linearization, with Lowe's memo of configurations.
//!
//! The history is a list of call and return entries in real-time order. The search walks it
//! from the front: at a call it tries to *linearize* that op now (the specification must
//! allow it in the current state); if so it removes ("lifts") the op's call and return from
//! the list and starts again from the front; when it meets a return entry first, the op of
//! that return can no longer be placed, so it undoes the last choice and tries the next call.
//! A configuration is the set of linearized ops with the state they lead to; one already
//! explored is never explored again (the memo), which is what makes 50-client histories
//! tractable. Pending ops (indefinite outcome) have no return entry: the search may linearize
//! them or not, and succeeds once every completed op is linearized.
//!
//! Implementation notes, after Porcupine: the entry list is a doubly linked list over arrays
//! (lift and unlift are O(1)); the linearized set is a bitset whose hash is kept incrementally
//! (Zobrist hashing: one random word per op, XORed in and out); the memo is a hash of
//! `(bitset hash ^ state hash)` to entries in one flat arena.

use rustc_hash::FxHashMap;

use super::parallel::Control;
use super::prepare::Partition;

const NIL: u32 = u32::MAX;
/// How many loop turns between two looks at the clock, the memory budget and the stop flags.
const CHECK_EVERY: u32 = 1 << 12;
/// At most this many distinct states are kept for the explanation of a failure.
pub(crate) const MAX_FRONTIER_STATES: usize = 32;

/// Why a search stopped without a verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    Time,
    Memory,
    /// Another sub-history was found not linearizable with fewer steps: this one can no
    /// longer change the answer.
    Aborted,
}

/// Where the search got furthest: the op whose return it could never pass, every state the
/// object could be in at that point, and one order of linearized ops reaching the first one.
#[derive(Debug, Clone)]
pub(crate) struct Frontier {
    pub(crate) op: usize,
    pub(crate) states: Vec<u32>,
    pub(crate) more_states: bool,
    pub(crate) path: Vec<u32>,
}

#[derive(Debug)]
pub(crate) enum SearchOutcome {
    Linearizable,
    NotLinearizable(Frontier),
    Stopped(Stop),
}

/// The memo: configurations `(linearized set, state)` already explored.
struct Memo {
    words: usize,
    heads: FxHashMap<u64, u32>,
    next: Vec<u32>,
    states: Vec<u32>,
    bits: Vec<u64>,
}

impl Memo {
    fn new(words: usize) -> Memo {
        // Room for the first few thousand configurations, so that small searches never
        // grow their tables.
        const START: usize = 1 << 12;
        let mut heads = FxHashMap::default();
        heads.reserve(START);
        Memo {
            words,
            heads,
            next: Vec::with_capacity(START),
            states: Vec::with_capacity(START),
            bits: Vec::with_capacity(START * words),
        }
    }

    /// Bytes held per entry, roughly (arena plus the hash table's share).
    fn entry_bytes(&self) -> u64 {
        (self.words as u64) * 8 + 8 + 24
    }

    /// Insert; false when the configuration was already there.
    #[inline]
    fn insert(&mut self, hash: u64, bits: &[u64], state: u32) -> bool {
        let w = self.words;
        let new = self.states.len() as u32;
        match self.heads.entry(hash) {
            std::collections::hash_map::Entry::Occupied(mut e) => {
                let mut i = *e.get();
                while i != NIL {
                    let iu = i as usize;
                    if self.states[iu] == state && self.bits[iu * w..iu * w + w] == *bits {
                        return false;
                    }
                    i = self.next[iu];
                }
                self.next.push(*e.get());
                e.insert(new);
            }
            std::collections::hash_map::Entry::Vacant(e) => {
                self.next.push(NIL);
                e.insert(new);
            }
        }
        self.states.push(state);
        self.bits.extend_from_slice(bits);
        true
    }
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// How far one call to [`Search::run`] got.
#[derive(Debug)]
pub(crate) enum Progress {
    /// The step budget of this round was used up; call again with a larger one.
    Paused,
    Done(SearchOutcome),
}

/// The search of one sub-history, resumable: it runs in rounds of a growing step budget so
/// that all sub-histories advance together and the cheapest failure is found first.
pub(crate) struct Search {
    entry_op: Vec<u32>,
    is_call: Vec<bool>,
    call_entry: Vec<u32>,
    ret_entry: Vec<u32>,
    next: Vec<u32>,
    prev: Vec<u32>,
    zobrist: Vec<u64>,
    bits: Vec<u64>,
    bits_hash: u64,
    memo: Memo,
    stack: Vec<(u32, u32)>,
    state: u32,
    entry: u32,
    remaining_ok: usize,
    best_entry: u32,
    frontier: Frontier,
    /// Loop turns so far: the deterministic measure of work.
    pub(crate) steps: u64,
    /// Memo bytes reported to the shared budget so far.
    reported: u64,
}

impl Search {
    pub(crate) fn new(p: &Partition) -> Search {
        let n = p.ops.len();
        // Entries 1..=len, in history order; 0 is the head sentinel.
        let mut entries: Vec<(usize, u32, bool)> = Vec::with_capacity(2 * n);
        let mut remaining_ok = 0usize;
        for (i, op) in p.ops.iter().enumerate() {
            entries.push((op.call, i as u32, true));
            if let Some(ret) = op.ret {
                entries.push((ret, i as u32, false));
                remaining_ok += 1;
            }
        }
        entries.sort_unstable_by_key(|e| (e.0, !e.2));
        let len = entries.len();
        let mut entry_op: Vec<u32> = vec![NIL; len + 1];
        let mut is_call: Vec<bool> = vec![false; len + 1];
        let mut call_entry: Vec<u32> = vec![NIL; n];
        let mut ret_entry: Vec<u32> = vec![NIL; n];
        for (k, &(_, op, call)) in entries.iter().enumerate() {
            let e = k + 1;
            entry_op[e] = op;
            is_call[e] = call;
            if call {
                call_entry[op as usize] = e as u32;
            } else {
                ret_entry[op as usize] = e as u32;
            }
        }
        let next: Vec<u32> = (0..=len as u32)
            .map(|e| if (e as usize) < len { e + 1 } else { NIL })
            .collect();
        let prev: Vec<u32> = (0..=len as u32)
            .map(|e| if e == 0 { NIL } else { e - 1 })
            .collect();
        let words = n.div_ceil(64).max(1);
        Search {
            entry_op,
            is_call,
            call_entry,
            ret_entry,
            entry: next[0],
            next,
            prev,
            zobrist: (0..n as u64)
                .map(|i| splitmix(i ^ 0x5eed_0f11_fe00))
                .collect(),
            bits: vec![0u64; words],
            bits_hash: 0,
            memo: Memo::new(words),
            stack: Vec::new(),
            state: p.init,
            remaining_ok,
            best_entry: 0,
            frontier: Frontier {
                op: 0,
                states: Vec::new(),
                more_states: false,
                path: Vec::new(),
            },
            steps: 0,
            reported: 0,
        }
    }

    /// Memo bytes this search reported to the shared budget (to release when it ends).
    pub(crate) fn reported_bytes(&self) -> u64 {
        self.reported
    }

    /// Run until `budget` total steps, a verdict, or a stop.
    pub(crate) fn run(&mut self, p: &mut Partition, ctl: &Control, budget: u64) -> Progress {
        if self.remaining_ok == 0 {
            return Progress::Done(SearchOutcome::Linearizable);
        }
        let entry_bytes = self.memo.entry_bytes();
        let mut unreported = 0u64;
        let mut turns = 0u32;
        let next = &mut self.next;
        let prev = &mut self.prev;
        let bits = &mut self.bits;
        let mut state = self.state;
        let mut entry = self.entry;
        let outcome = loop {
            turns += 1;
            if turns == CHECK_EVERY {
                self.steps += turns as u64;
                turns = 0;
                self.reported += unreported;
                let stop = ctl.should_stop(self.steps, unreported);
                unreported = 0;
                if let Some(stop) = stop {
                    break Progress::Done(SearchOutcome::Stopped(stop));
                }
                if self.steps >= budget {
                    break Progress::Paused;
                }
            }
            let e = entry as usize;
            if entry != NIL && self.is_call[e] {
                let op = self.entry_op[e];
                let ou = op as usize;
                if let Some(new_state) = p.spec.step(state, &p.ops[ou].step, op) {
                    bits[ou / 64] |= 1 << (ou % 64);
                    let h = self.bits_hash ^ self.zobrist[ou];
                    if self
                        .memo
                        .insert(h ^ splitmix(new_state as u64), bits, new_state)
                    {
                        unreported += entry_bytes;
                        self.bits_hash = h;
                        self.stack.push((op, state));
                        state = new_state;
                        // Lift the call and, if any, the return.
                        let c = e;
                        next[prev[c] as usize] = next[c];
                        if next[c] != NIL {
                            prev[next[c] as usize] = prev[c];
                        }
                        let r = self.ret_entry[ou];
                        if r != NIL {
                            let r = r as usize;
                            next[prev[r] as usize] = next[r];
                            if next[r] != NIL {
                                prev[next[r] as usize] = prev[r];
                            }
                            self.remaining_ok -= 1;
                            if self.remaining_ok == 0 {
                                break Progress::Done(SearchOutcome::Linearizable);
                            }
                        }
                        entry = next[0];
                        continue;
                    }
                    bits[ou / 64] &= !(1 << (ou % 64));
                }
                entry = next[e];
                continue;
            }
            // A return entry (or the end): this configuration cannot go on.
            if entry != NIL {
                if entry > self.best_entry {
                    self.best_entry = entry;
                    self.frontier.op = self.entry_op[e] as usize;
                    self.frontier.states.clear();
                    self.frontier.more_states = false;
                    self.frontier.path = self.stack.iter().map(|&(op, _)| op).collect();
                }
                if entry == self.best_entry && !self.frontier.states.contains(&state) {
                    if self.frontier.states.len() < MAX_FRONTIER_STATES {
                        self.frontier.states.push(state);
                    } else {
                        self.frontier.more_states = true;
                    }
                }
            }
            let Some((op, before)) = self.stack.pop() else {
                break Progress::Done(SearchOutcome::NotLinearizable(self.frontier.clone()));
            };
            let ou = op as usize;
            state = before;
            bits[ou / 64] &= !(1 << (ou % 64));
            self.bits_hash ^= self.zobrist[ou];
            // Unlift in reverse order: the return, then the call.
            let r = self.ret_entry[ou];
            if r != NIL {
                let r = r as usize;
                next[prev[r] as usize] = r as u32;
                if next[r] != NIL {
                    prev[next[r] as usize] = r as u32;
                }
                self.remaining_ok += 1;
            }
            let c = self.call_entry[ou] as usize;
            next[prev[c] as usize] = c as u32;
            if next[c] != NIL {
                prev[next[c] as usize] = c as u32;
            }
            entry = next[c];
        };
        self.steps += turns as u64;
        self.reported += unreported;
        ctl.add_memory(unreported);
        self.state = state;
        self.entry = entry;
        outcome
    }
}
