//! The witness of a linearizability failure: the few ops that prove, by themselves, that a
//! read (or a successful cas) of a register cannot have found what it found (the stale read of
//! the course's lecture on linearizability, 7.2, and its relatives). Two passes over the ops of
//! the failing key, each with a budget: the first looks for a read that an op completed before
//! it overwrote (`stale`) or for a value no op had written yet (`unwritten`); the second, for
//! what the order reads impose on writes shows (`consumed`, `consumed-twice`, `went-back`,
//! `disagree`). [`super::explain`] renders them.

use std::collections::{BTreeMap, BTreeSet};

use super::prepare::Partition;
use super::search::Frontier;
use super::spec::{ANY, Step};
use super::{AlreadySeen, OpDesc, Overwritten, ReadWitness};
use crate::op::Op;

/// How many writes a witness names as missed, at most.
const MAX_MISSED: usize = 5;
/// Steps of each pass of the witness scan (quadratic in the ops of a key) after which it gives
/// up: a few tens of milliseconds.
const WITNESS_BUDGET: u64 = 20_000_000;

/// For a failing read: of the writes and cas that completed before it was invoked, and left a
/// value it could legally have returned, the one that completed last.
pub(super) fn last_write_before(p: &Partition, frontier: &Frontier) -> Option<usize> {
    let x = &p.ops[frontier.op];
    if p.mutex || !matches!(x.step, Step::Read(_)) {
        return None;
    }
    p.ops
        .iter()
        .enumerate()
        .filter_map(|(i, o)| {
            let written = match o.step {
                Step::Write(v) | Step::Cas(_, v) => v,
                _ => return None,
            };
            let ret = o.ret.filter(|&r| r < x.call)?;
            frontier.states.contains(&written).then_some((ret, i))
        })
        .max()
        .map(|(_, i)| i)
}

/// What an op reads and writes, as value ids.
#[derive(Debug, Clone, Copy)]
struct Access {
    reads: Option<u32>,
    writes: Option<u32>,
}

impl Access {
    /// The value the op changes the object to: what it writes, unless it is a cas from that
    /// same value, which finds the value already there. Only such ops can make the object hold
    /// a value it did not hold just before.
    fn changes_to(&self) -> Option<u32> {
        self.writes.filter(|&w| self.reads != Some(w))
    }
}

/// `None` for ops whose effect is not a plain read or overwrite (appends, transactions,
/// locks): no witness is looked for among them.
fn access(step: &Step) -> Option<Access> {
    match *step {
        Step::Read(v) => Some(Access {
            reads: (v != ANY).then_some(v),
            writes: None,
        }),
        Step::Write(v) => Some(Access {
            reads: None,
            writes: Some(v),
        }),
        Step::Cas(from, to) => Some(Access {
            reads: Some(from),
            writes: Some(to),
        }),
        _ => None,
    }
}

/// A read (or successful cas) of `p` that a few ops prove wrong: the failing op if it is
/// one, else the earliest such read, else the earliest such cas.
pub(super) fn witness(p: &Partition, first: usize, ops: &[Op<'_>]) -> Option<ReadWitness> {
    if p.mutex {
        return None;
    }
    let acc: Vec<Access> = p
        .ops
        .iter()
        .map(|o| access(&o.step))
        .collect::<Option<_>>()?;
    let mut budget = WITNESS_BUDGET;
    let mut order: Vec<usize> = (0..p.ops.len())
        .filter(|&i| i != first && p.ops[i].ret.is_some() && acc[i].reads.is_some())
        .collect();
    order.sort_by_key(|&i| (acc[i].writes.is_some(), p.ops[i].ret));
    order.insert(0, first);
    for &x in &order {
        if let Some(proof) = prove(p, &acc, x, &mut budget) {
            return Some(describe(p, &acc, ops, x, &proof));
        }
        if budget == 0 {
            break;
        }
    }
    // No stale or unwritten read with an op before it: look for the relatives, which follow
    // the order that reads impose on the writes they saw, and first for a value never
    // written, the plainest. This pass has a budget of its own, so that a key whose stale-read
    // scan used it all still gets one.
    let mut budget = WITNESS_BUDGET;
    let known = Known::of(p, &acc, &mut budget)?;
    for unwritten_only in [true, false] {
        for &x in &order {
            if let Some(proof) = prove_more(p, &acc, &known, x, unwritten_only, &mut budget) {
                return Some(describe_more(p, &acc, &known, ops, x, &proof));
            }
            if budget == 0 {
                return None;
            }
        }
    }
    None
}

/// What a few ops tell of one key, once for all the reads the second pass tries.
struct Known {
    /// The ops that write each value, in order of invocation.
    writers: BTreeMap<u32, Vec<usize>>,
    /// For an op that writes: the position by which it has taken effect in every order (its
    /// completion, or the completion of a read whose only source it is, the only other op
    /// that writes what the read found and was invoked before it completed: `usize::MAX`
    /// when neither), and that read when it came first.
    effect: Vec<(usize, Option<usize>)>,
    /// For a completed op that reads a value other than the initial one: the only op that can
    /// have written what it found, with every other op that writes that value and was
    /// invoked before it completed, each with an op that shows it was overwritten before the
    /// read began (invoked after it completed, completed before the read began, and found or
    /// left another value).
    live: Vec<Option<(usize, Vec<Dead>)>>,
}

/// An op that writes a value, and an op that shows it was overwritten: invoked after it
/// completed, it found or left another value.
type Dead = (usize, usize);

impl Known {
    fn of(p: &Partition, acc: &[Access], budget: &mut u64) -> Option<Known> {
        let n = p.ops.len();
        *budget = budget.saturating_sub(2 * n as u64);
        if *budget == 0 {
            return None;
        }
        let mut writers: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
        for (i, a) in acc.iter().enumerate() {
            if let Some(w) = a.changes_to() {
                writers.entry(w).or_default().push(i);
            }
        }
        for list in writers.values_mut() {
            list.sort_by_key(|&i| (p.ops[i].call, i));
        }
        let mut effect: Vec<(usize, Option<usize>)> = p
            .ops
            .iter()
            .map(|o| (o.ret.unwrap_or(usize::MAX), None))
            .collect();
        for (r, o) in p.ops.iter().enumerate() {
            let (Some(ret), Some(u)) = (o.ret, acc[r].reads) else {
                continue;
            };
            if u == p.init {
                continue;
            }
            let list = writers.get(&u).map_or(&[][..], Vec::as_slice);
            let early = &list[..list.partition_point(|&w| p.ops[w].call < ret)];
            let mut others = early.iter().filter(|&&w| w != r);
            if let (Some(&only), None) = (others.next(), others.next())
                && ret < effect[only].0
            {
                effect[only] = (ret, Some(r));
            }
        }
        // Each write's earliest overwrite: an op invoked after it completed that found or left
        // another value, the one that completed first.
        let left = |i: usize| acc[i].writes.or(acc[i].reads);
        let mut overwrite: Vec<Option<(usize, usize)>> = vec![None; n];
        for (&u, list) in &writers {
            for &w in list {
                let Some(w_ret) = p.ops[w].ret else { continue };
                *budget = budget.saturating_sub(n as u64);
                if *budget == 0 {
                    break;
                }
                overwrite[w] = p
                    .ops
                    .iter()
                    .enumerate()
                    .filter_map(|(o, oo)| {
                        let ret = oo.ret?;
                        (oo.call > w_ret && left(o).is_some_and(|z| z != u)).then_some((ret, o))
                    })
                    .min();
            }
        }
        let mut live = vec![None; n];
        for (r, o) in p.ops.iter().enumerate() {
            let (Some(ret), Some(u)) = (o.ret, acc[r].reads) else {
                continue;
            };
            if u == p.init || *budget == 0 {
                continue;
            }
            let list = writers.get(&u).map_or(&[][..], Vec::as_slice);
            let early = &list[..list.partition_point(|&w| p.ops[w].call < ret)];
            *budget = budget.saturating_sub(early.len() as u64);
            let mut alive = None;
            let mut dead = Vec::new();
            for &w in early.iter().filter(|&&w| w != r) {
                match overwrite[w] {
                    Some((o_ret, by)) if o_ret < o.call => dead.push((w, by)),
                    _ if alive.is_some() => {
                        alive = None;
                        dead.clear();
                        break;
                    }
                    _ => alive = Some(w),
                }
            }
            if let Some(s) = alive {
                live[r] = Some((s, dead));
            }
        }
        Some(Known {
            writers,
            effect,
            live,
        })
    }

    /// The ops other than `x` that write `v` and were invoked before position `before`.
    fn writers_before(&self, p: &Partition, v: u32, x: usize, before: usize) -> Vec<usize> {
        let list = self.writers.get(&v).map_or(&[][..], Vec::as_slice);
        list[..list.partition_point(|&w| p.ops[w].call < before)]
            .iter()
            .copied()
            .filter(|&w| w != x)
            .collect()
    }

    /// The last position by which every op of `writes` has taken effect (`usize::MAX` when
    /// one may take effect at any time); 0 when there is none.
    fn all_effect(&self, writes: &[usize]) -> usize {
        writes.iter().map(|&w| self.effect[w].0).max().unwrap_or(0)
    }

    /// Of `writes`, those still running at position `at`, with the read that shows each had
    /// taken effect before it.
    fn pins(&self, p: &Partition, writes: &[usize], at: usize) -> Vec<(usize, usize)> {
        writes
            .iter()
            .filter(|&&w| p.ops[w].ret.is_none_or(|r| r > at))
            .filter_map(|&w| Some((w, self.effect[w].1?)))
            .collect()
    }
}

/// The second pass's proofs that op `x` cannot have read what it read.
enum More {
    /// No op that writes the value had been invoked before `x` completed, and it is not the
    /// initial value.
    Unwritten,
    /// `after`, a cas from the value read, completed before `x` began; `write` is the only op
    /// that can have written what it found, and every other op that writes it was invoked
    /// early enough to be overwritten before `after` began (`dead`, with what overwrote it).
    Consumed {
        after: usize,
        write: usize,
        dead: Vec<(usize, usize)>,
    },
    /// `x` and `others` are successful cas from one value to another, more of them than the
    /// times the object can have held that value.
    ConsumedTwice { others: Vec<usize> },
    /// `after` completed before `x` began and read a value only `source` can have written
    /// (the other ops that write it, `dead`, were overwritten before `after` began); every
    /// op that writes what `x` read took effect before `source` was invoked.
    WentBack {
        after: usize,
        source: usize,
        dead: Vec<(usize, usize)>,
    },
    /// `after` read another value while `x` ran; each read's value was written only by ops
    /// that took effect before the other read began.
    Disagree { after: usize },
}

/// For op `x` that read `v` and no stale or unwritten witness: the relatives of the stale
/// read that follow from the order reads impose on writes (see [`ReadWitness`]).
fn prove_more(
    p: &Partition,
    acc: &[Access],
    known: &Known,
    x: usize,
    unwritten_only: bool,
    budget: &mut u64,
) -> Option<More> {
    let xo = &p.ops[x];
    let (Some(x_ret), Some(v)) = (xo.ret, acc[x].reads) else {
        return None;
    };
    let n = p.ops.len();
    let writes = known.writers_before(p, v, x, x_ret);
    *budget = budget.saturating_sub(writes.len() as u64 + 1);
    if writes.is_empty() && v != p.init {
        return Some(More::Unwritten);
    }
    if unwritten_only {
        return None;
    }
    *budget = budget.saturating_sub(3 * n as u64);
    let left = |i: usize| acc[i].writes.or(acc[i].reads);
    let consumes = |i: usize| {
        p.ops[i].ret.is_some() && acc[i].reads == Some(v) && acc[i].writes.is_some_and(|u| u != v)
    };
    // Consumed twice: each cas from `v` needs a `v` of its own.
    if consumes(x) {
        let all = known.writers.get(&v).map_or(0, Vec::len);
        let others: Vec<usize> = (0..n).filter(|&i| i != x && consumes(i)).collect();
        if others.len() + 1 > all + usize::from(v == p.init) {
            return Some(More::ConsumedTwice { others });
        }
    }
    // Consumed: the only write of `v` that a cas completed before `x` began can have found,
    // and every other one was overwritten before that cas.
    let last_call = writes.iter().map(|&w| p.ops[w].call).max().unwrap_or(0);
    let consumed = (0..n)
        .filter_map(|i| {
            let ret = p.ops[i].ret.filter(|&r| r < xo.call && last_call < r)?;
            let (write, _) = known.live[i].as_ref()?;
            consumes(i).then_some((ret, i, *write))
        })
        .max();
    if let Some((_, after, write)) = consumed {
        let dead = known.live[after]
            .as_ref()
            .map_or(Vec::new(), |l| l.1.clone());
        return Some(More::Consumed { after, write, dead });
    }
    let latest = known.all_effect(&writes);
    if latest == usize::MAX {
        return None; // a write of `v` may take effect at any time
    }
    // Went back: a read after the last write of `v` saw a value written only later.
    let went_back = (0..n)
        .filter_map(|i| {
            let ret = p.ops[i].ret.filter(|&r| r < xo.call)?;
            let (source, _) = known.live[i].as_ref()?;
            (left(i) != Some(v) && p.ops[*source].call > latest).then_some((ret, i, *source))
        })
        .max();
    if let Some((_, after, source)) = went_back {
        let dead = known.live[after]
            .as_ref()
            .map_or(Vec::new(), |l| l.1.clone());
        return Some(More::WentBack {
            after,
            source,
            dead,
        });
    }
    // Disagree: a read running beside `x` saw another value, and neither can follow the
    // other.
    for (a, ao) in p.ops.iter().enumerate() {
        let Some(a_ret) = ao.ret else { continue };
        let Some(u) = acc[a].reads else { continue };
        if a == x || u == v || a_ret < xo.call || x_ret < ao.call {
            continue;
        }
        if latest >= ao.call || left(a) == Some(v) || left(x) == Some(u) {
            continue;
        }
        let theirs = known.writers_before(p, u, a, a_ret);
        *budget = budget.saturating_sub(theirs.len() as u64 + 1);
        if known.all_effect(&theirs) < xo.call {
            return Some(More::Disagree { after: a });
        }
        if *budget == 0 {
            return None;
        }
    }
    None
}

/// The witness of a second-pass proof.
fn describe_more(
    p: &Partition,
    acc: &[Access],
    known: &Known,
    ops: &[Op<'_>],
    x: usize,
    proof: &More,
) -> ReadWitness {
    let desc = |i: usize| OpDesc::of(&ops[p.ops[i].origin]);
    let descs = |list: &[usize]| list.iter().map(|&i| desc(i)).collect::<Vec<_>>();
    let value = |id: u32| p.spec.values.get(id);
    let seen = |pins: Vec<(usize, usize)>| {
        pins.into_iter()
            .map(|(write, seen_by)| AlreadySeen {
                write: desc(write),
                seen_by: desc(seen_by),
            })
            .collect::<Vec<_>>()
    };
    let overwritten = |dead: &[(usize, usize)]| {
        dead.iter()
            .map(|&(write, by)| Overwritten {
                write: desc(write),
                by: desc(by),
                found: value(acc[by].writes.or(acc[by].reads).unwrap_or(0)),
            })
            .collect::<Vec<_>>()
    };
    let v = acc[x].reads.unwrap_or(0);
    let x_ret = p.ops[x].ret.unwrap_or(usize::MAX);
    let writes = known.writers_before(p, v, x, x_ret);
    let (after, kind) = match *proof {
        More::Unwritten => (None, "unwritten"),
        More::Consumed { after, .. } => (Some(after), "consumed"),
        More::WentBack { after, .. } => (Some(after), "went-back"),
        More::Disagree { after } => (Some(after), "disagree"),
        More::ConsumedTwice { ref others } => (others.first().copied(), "consumed-twice"),
    };
    let after_value = after.map_or(p.init, |a| {
        if matches!(kind, "disagree" | "consumed-twice") {
            acc[a].reads.unwrap_or(0)
        } else {
            acc[a].writes.or(acc[a].reads).unwrap_or(0)
        }
    });
    // The values `x` could have found: what `after` left, or what an op that could take
    // effect between the two wrote (never `v`: the proof rules out every op that writes it).
    let from = match after {
        Some(a) if !matches!(kind, "disagree" | "consumed-twice") => p.ops[a].call,
        _ => 0,
    };
    let mut could = if kind == "consumed-twice" {
        Vec::new()
    } else {
        vec![after_value]
    };
    if from == 0 && p.init != v && !could.contains(&p.init) {
        could.push(p.init);
    }
    for (i, o) in p.ops.iter().enumerate() {
        if i == x || o.call > x_ret || o.ret.is_some_and(|r| r < from) {
            continue;
        }
        if let Some(w) = acc[i].writes
            && w != v
            && !could.contains(&w)
        {
            could.push(w);
        }
    }
    let mut witness = ReadWitness {
        op: desc(x),
        read: value(v),
        after: after.map(desc),
        after_value: value(after_value),
        missed: Vec::new(),
        kind,
        already_seen: Vec::new(),
        source: None,
        writes: Vec::new(),
        consumed_by: Vec::new(),
        initial: false,
        overwritten: Vec::new(),
        could_return: could.into_iter().map(value).collect(),
    };
    match *proof {
        More::Unwritten => {}
        More::ConsumedTwice { ref others } => {
            witness.consumed_by = descs(others);
            witness.initial = v == p.init;
            witness.writes = descs(known.writers.get(&v).map_or(&[][..], Vec::as_slice));
        }
        More::Consumed {
            after,
            write,
            ref dead,
        } => {
            witness.missed = vec![desc(after)];
            witness.writes = vec![desc(write)];
            witness.overwritten = overwritten(dead);
        }
        More::WentBack {
            after,
            source,
            ref dead,
        } => {
            witness.overwritten = overwritten(dead);
            // The write it missed: what that read saw, or the cas itself.
            witness.missed = if acc[after].writes.is_some() {
                vec![desc(after)]
            } else {
                vec![desc(source)]
            };
            witness.source = Some(desc(source));
            witness.writes = descs(&writes);
            witness.already_seen = seen(known.pins(p, &writes, p.ops[source].call));
        }
        More::Disagree { after } => {
            let a_ret = p.ops[after].ret.unwrap_or(usize::MAX);
            let theirs = known.writers_before(p, after_value, after, a_ret);
            let mut missed = theirs.clone();
            missed.sort_by_key(|&i| std::cmp::Reverse(p.ops[i].call));
            missed.truncate(MAX_MISSED);
            witness.missed = descs(&missed);
            witness.writes = descs(&theirs);
            let mut pins = known.pins(p, &writes, p.ops[after].call);
            pins.extend(known.pins(p, &theirs, p.ops[x].call));
            witness.already_seen = seen(pins);
        }
    }
    witness
}

/// Why a read is wrong, from a few ops alone.
struct Proof {
    /// An op that completed before the read began and left another value.
    after: usize,
    /// Some op that writes the value read had been invoked before the read completed.
    stale: bool,
    /// Writes of the value read still running when `after` began, each with a read that shows
    /// it had taken effect already.
    pins: Vec<(usize, usize)>,
}

/// For op `x` that read `v`: the latest op `after` that completed before `x` was invoked, left
/// a value other than `v`, and after which no op writing `v` can take effect before `x` does.
/// An op writing `v` has taken effect by its completion, or by the completion of a read of
/// `v` (not the initial value) that no other op writing `v` was invoked early enough to
/// explain. Writes and cas are preferred to reads as `after`.
fn prove(p: &Partition, acc: &[Access], x: usize, budget: &mut u64) -> Option<Proof> {
    let xo = &p.ops[x];
    let (Some(x_ret), Some(v)) = (xo.ret, acc[x].reads) else {
        return None;
    };
    let n = p.ops.len();
    *budget = budget.saturating_sub(n as u64);
    let all_writers: Vec<usize> = (0..n).filter(|&i| acc[i].changes_to() == Some(v)).collect();
    // The writes of `v` that could take effect before `x`, each with the position by which
    // it has certainly taken effect (and the read that shows it, if that came first).
    let mut writers: Vec<(usize, usize, Option<usize>)> = all_writers
        .iter()
        .filter(|&&i| i != x && p.ops[i].call < x_ret)
        .map(|&i| (i, p.ops[i].ret.unwrap_or(usize::MAX), None))
        .collect();
    if v != p.init && !writers.is_empty() {
        for (r, ro) in p.ops.iter().enumerate() {
            let Some(r_ret) = ro.ret.filter(|_| r != x && acc[r].reads == Some(v)) else {
                continue;
            };
            *budget = budget.saturating_sub(all_writers.len() as u64);
            let mut explaining = all_writers
                .iter()
                .filter(|&&w| w != r && p.ops[w].call < r_ret);
            if let (Some(&only), None) = (explaining.next(), explaining.next())
                && let Some(entry) = writers.iter_mut().find(|e| e.0 == only)
                && r_ret < entry.1
            {
                entry.1 = r_ret;
                entry.2 = Some(r);
            }
            if *budget == 0 {
                return None;
            }
        }
    }
    let latest_writer = writers.iter().map(|e| e.1).max();
    if latest_writer == Some(usize::MAX) {
        return None; // a write of `v` may take effect at any time
    }
    let mut best_write: Option<usize> = None;
    let mut best_read: Option<usize> = None;
    for (i, o) in p.ops.iter().enumerate() {
        let Some(ret) = o.ret else { continue };
        if ret >= xo.call || latest_writer.is_some_and(|w| o.call < w) {
            continue;
        }
        let Some(u) = acc[i].writes.or(acc[i].reads) else {
            continue;
        };
        if u == v {
            continue;
        }
        let best = if acc[i].writes.is_some() {
            &mut best_write
        } else {
            &mut best_read
        };
        if best.is_none_or(|b| p.ops[b].ret < Some(ret)) {
            *best = Some(i);
        }
    }
    let after = best_write.or(best_read)?;
    let after_call = p.ops[after].call;
    let pins = writers
        .iter()
        .filter(|e| p.ops[e.0].ret.is_none_or(|r| r > after_call))
        .filter_map(|e| Some((e.0, e.2?)))
        .collect();
    Some(Proof {
        after,
        stale: latest_writer.is_some(),
        pins,
    })
}

fn describe(p: &Partition, acc: &[Access], ops: &[Op<'_>], x: usize, proof: &Proof) -> ReadWitness {
    let after = proof.after;
    let desc = |i: usize| OpDesc::of(&ops[p.ops[i].origin]);
    let value = |id: u32| p.spec.values.get(id);
    let read = acc[x].reads.unwrap_or(0);
    let after_value = acc[after].writes.or(acc[after].reads).unwrap_or(0);
    let after_call = p.ops[after].call;
    let after_ret = p.ops[after].ret.unwrap_or(usize::MAX);
    let x_ret = p.ops[x].ret.unwrap_or(usize::MAX);
    let missed = if acc[after].writes.is_some() {
        vec![desc(after)]
    } else {
        let mut writers: Vec<usize> = (0..p.ops.len())
            .filter(|&i| acc[i].changes_to() == Some(after_value) && p.ops[i].call < after_ret)
            .collect();
        writers.sort_by_key(|&i| std::cmp::Reverse(p.ops[i].call));
        writers.into_iter().take(MAX_MISSED).map(desc).collect()
    };
    let mut could: Vec<u32> = vec![after_value];
    let mut seen = BTreeSet::from([after_value]);
    for (i, o) in p.ops.iter().enumerate() {
        if i == x || o.call > x_ret || o.ret.is_some_and(|r| r < after_call) {
            continue;
        }
        if let Some(w) = acc[i].writes
            && seen.insert(w)
        {
            could.push(w);
        }
    }
    ReadWitness {
        op: desc(x),
        read: value(read),
        after: Some(desc(after)),
        after_value: value(after_value),
        missed,
        kind: if proof.stale { "stale" } else { "unwritten" },
        already_seen: proof
            .pins
            .iter()
            .map(|&(write, seen_by)| AlreadySeen {
                write: desc(write),
                seen_by: desc(seen_by),
            })
            .collect(),
        source: None,
        writes: Vec::new(),
        consumed_by: Vec::new(),
        initial: false,
        overwritten: Vec::new(),
        could_return: could.into_iter().map(value).collect(),
    }
}
