//! Inference for list-append transactions (Elle's `list-append`, after Kingsbury and
//! Alvaro, section 4.2): appends of unique elements make every read of a key show a prefix
//! of the key's version order, so the longest read gives that order. From it:
//!
//! - ww: the appender of an element precedes the appender of the next one (Adya's direct
//!   write-dependency, "Generalized Isolation Level Definitions" section 3.1.3);
//! - wr: the appender of a read's last element precedes the reader (direct read-dependency);
//! - rw: a reader precedes the appender of the element after the last one it saw, or of the
//!   first element when it read the key empty (direct anti-dependency).
//!
//! An append no read shows comes after the last element the longest read shows (Elle's
//! `previously-appended-element`). Besides edges: `incompatible-order` (two reads neither a
//! prefix of the other), `duplicate-elements`, `internal` (Cerone et al.'s INT axiom: a read
//! disagrees with the transaction's own earlier appends and reads), `future-read`, `G1a`
//! (Adya's aborted read: an element a failed transaction appended was read), `G1b` (Adya's
//! intermediate read: a read ends in an append its transaction followed with another append
//! to the key), `dirty-update` (a failed append, then a committed one, in the version order),
//! `lost-update` (two committed transactions read the same state of a key and both appended
//! to it), and `garbage-read` (an element no transaction appended).

use rustc_hash::{FxHashMap, FxHashSet};
use serde_json::Value;

use super::anomaly::Anomaly;
use super::explain::{Findings, compact, plain_case};
use super::graph::{EdgeKind, EdgeList};
use super::history::{Mop, MopKind, NIL, TxnHistory};
use super::lost_update::lost_updates;
use super::writers::{Writers, kv, writers};
use crate::history::HistoryError;
use crate::op::Outcome;

/// A read of an ok transaction: its micro-op's position in [`TxnHistory::mops`].
#[derive(Clone, Copy)]
struct ReadRef {
    mop: u32,
}

/// The version order of every key.
struct Orders {
    /// Per key: the distinct elements of the longest read, in order.
    order: Vec<Vec<u32>>,
    /// Per key: the longest read (its elements, duplicates included), if any.
    longest: Vec<Option<ReadRef>>,
    /// (key, element) -> position in its key's order.
    position: FxHashMap<u64, u32>,
}

fn orders(h: &TxnHistory) -> Orders {
    let nkeys = h.keys.len();
    let mut longest: Vec<Option<ReadRef>> = vec![None; nkeys];
    let mut appends: Vec<(u32, u32)> = vec![(0, NIL); nkeys];
    for (t, txn) in h.txns.iter().enumerate() {
        let t = t as u32;
        for (i, m) in h.mops(t).iter().enumerate() {
            match m.kind {
                MopKind::Read if txn.outcome == Outcome::Ok && m.value != NIL && m.len > 0 => {
                    let k = m.key as usize;
                    let longer = match longest[k] {
                        None => true,
                        Some(r) => h.mops[r.mop as usize].len < m.len,
                    };
                    if longer {
                        longest[k] = Some(ReadRef {
                            mop: txn.mops_start + i as u32,
                        });
                    }
                }
                MopKind::Append if txn.outcome != Outcome::Fail => {
                    let a = &mut appends[m.key as usize];
                    a.0 += 1;
                    a.1 = m.value;
                }
                _ => {}
            }
        }
    }
    let mut order = vec![Vec::new(); nkeys];
    let mut position = FxHashMap::default();
    for k in 0..nkeys {
        match longest[k] {
            Some(r) => {
                let m = h.mops[r.mop as usize];
                for &e in h.read_elements(&m) {
                    let id = kv(k as u32, e);
                    if let std::collections::hash_map::Entry::Vacant(slot) = position.entry(id) {
                        slot.insert(order[k].len() as u32);
                        order[k].push(e);
                    }
                }
            }
            // A key appended once and never read non-empty: its order is that one element.
            None if appends[k].0 == 1 => {
                position.insert(kv(k as u32, appends[k].1), 0);
                order[k].push(appends[k].1);
            }
            None => {}
        }
    }
    Orders {
        order,
        longest,
        position,
    }
}

/// Readers of each state of each key: (key, last element or NIL for empty) -> ok readers,
/// as linked lists in one vector.
struct Readers {
    head: FxHashMap<u64, u32>,
    next: Vec<(u32, u32)>,
}

impl Readers {
    fn add(&mut self, k: u32, last: u32, txn: u32) {
        let id = kv(k, last);
        let prev = self.head.get(&id).copied().unwrap_or(NIL);
        self.head.insert(id, self.next.len() as u32);
        self.next.push((txn, prev));
    }

    fn each(&self, k: u32, last: u32, mut f: impl FnMut(u32)) {
        let mut at = self.head.get(&kv(k, last)).copied().unwrap_or(NIL);
        while at != NIL {
            let (t, prev) = self.next[at as usize];
            f(t);
            at = prev;
        }
    }
}

/// Infer the dependencies of a list-append history into `edges`, and its non-cycle
/// anomalies into `found`.
pub fn analyze(
    h: &TxnHistory,
    edges: &mut EdgeList,
    found: &mut Findings,
) -> Result<(), HistoryError> {
    let w = writers(h, MopKind::Append)?;
    let o = orders(h);
    let mut readers = Readers {
        head: FxHashMap::default(),
        next: Vec::new(),
    };
    check_reads(h, &w, &o, &mut readers, edges, found);
    for (t, txn) in h.txns.iter().enumerate() {
        if txn.outcome == Outcome::Fail {
            continue;
        }
        let t = t as u32;
        for m in h.mops(t) {
            if m.kind != MopKind::Append {
                continue;
            }
            let k = m.key;
            let order = &o.order[k as usize];
            let (prev, unread) = match o.position.get(&kv(k, m.value)) {
                Some(&0) => (NIL, false),
                Some(&i) => (order[i as usize - 1], false),
                None => (order.last().copied().unwrap_or(NIL), true),
            };
            let mut add = |from: u32, kind: EdgeKind| {
                if unread {
                    edges.add_unread(from, t, kind, k, prev, m.value);
                } else {
                    edges.add(from, t, kind, k, prev, m.value);
                }
            };
            if let Some(&p) = w.possible.get(&kv(k, prev)).filter(|_| prev != NIL) {
                add(p, EdgeKind::Ww);
            }
            readers.each(k, prev, |r| add(r, EdgeKind::Rw));
        }
    }
    for (t, txn) in h.txns.iter().enumerate() {
        if txn.outcome == Outcome::Ok {
            internal(h, t as u32, found);
        }
    }
    dirty_updates(h, &w, &o, found);
    lost_updates(h, MopKind::Append, found);
    Ok(())
}

/// Walk every ok read: wr edges, the reader index, and the anomalies a read shows by itself
/// (incompatible order, duplicates, aborted, intermediate and garbage reads).
fn check_reads(
    h: &TxnHistory,
    w: &Writers,
    o: &Orders,
    readers: &mut Readers,
    edges: &mut EdgeList,
    found: &mut Findings,
) {
    let nkeys = h.keys.len();
    // Per key: the first position of the longest read holding an element seen before in it,
    // and the positions whose element was appended by a failed txn or by no one.
    let mut first_dup = vec![u32::MAX; nkeys];
    let mut bad: Vec<Vec<u32>> = vec![Vec::new(); nkeys];
    for k in 0..nkeys {
        let Some(r) = o.longest[k] else { continue };
        let els = h.read_elements(&h.mops[r.mop as usize]);
        let mut seen = FxHashSet::default();
        for (i, &e) in els.iter().enumerate() {
            if !seen.insert(e) && first_dup[k] == u32::MAX {
                first_dup[k] = i as u32;
            }
            let id = kv(k as u32, e);
            if !w.possible.contains_key(&id) {
                bad[k].push(i as u32);
            }
        }
    }
    let mut incompatible_reported = vec![false; nkeys];
    for (t, txn) in h.txns.iter().enumerate() {
        if txn.outcome != Outcome::Ok {
            continue;
        }
        let t = t as u32;
        for m in h.mops(t) {
            if m.kind != MopKind::Read {
                continue;
            }
            let k = m.key;
            let els = h.read_elements(m);
            let Some(&last) = els.last() else {
                readers.add(k, NIL, t);
                continue;
            };
            readers.add(k, last, t);
            let longest = o.longest[k as usize].map(|r| h.read_elements(&h.mops[r.mop as usize]));
            let is_prefix = longest.is_some_and(|l| l.len() >= els.len() && l[..els.len()] == *els);
            if is_prefix {
                if (first_dup[k as usize] as usize) < els.len() {
                    duplicates(h, t, m, els, found);
                }
                for &p in &bad[k as usize] {
                    if p as usize >= els.len() {
                        break;
                    }
                    odd_element(h, w, t, m, els[p as usize], found);
                }
            } else {
                if !incompatible_reported[k as usize] {
                    incompatible_reported[k as usize] = true;
                    let l = longest.unwrap_or(&[]);
                    found.add(Anomaly::IncompatibleOrder, || {
                        let mut c = plain_case(h, &[t], |n| {
                            format!(
                                "{} read key {} = {}, which is not a prefix of the longest read of it, {}: no single order of appends gives both",
                                n[0],
                                h.keys.value(k),
                                compact(&h.mop_value(m)),
                                compact(&elements_json(h, l))
                            )
                        });
                        c.key = Some(h.keys.value(k));
                        c.values = vec![h.mop_value(m), elements_json(h, l)];
                        c
                    });
                }
                let mut seen = FxHashSet::default();
                if els.iter().any(|e| !seen.insert(*e)) {
                    duplicates(h, t, m, els, found);
                }
                for &e in els {
                    if !w.possible.contains_key(&kv(k, e)) {
                        odd_element(h, w, t, m, e, found);
                    }
                }
            }
            if let Some(&writer) = w.possible.get(&kv(k, last)) {
                edges.add(writer, t, EdgeKind::Wr, k, last, NIL);
            }
            if let Some(&writer) = w.intermediate.get(&kv(k, last)).filter(|&&w| w != t) {
                found.add(Anomaly::G1b, || {
                        let mut c = plain_case(h, &[t, writer], |n| {
                            format!(
                                "{} read key {} = {}, whose last element {} {} appended and then appended to key {} again: an intermediate state (G1b)",
                                n[0],
                                h.keys.value(k),
                                compact(&h.mop_value(m)),
                                h.values.value(last),
                                n[1],
                                h.keys.value(k)
                            )
                        });
                        c.key = Some(h.keys.value(k));
                        c.mop = Some(mop_json(h, m));
                        c.values = vec![h.values.value(last)];
                        c
                    });
            }
        }
    }
}

/// The elements as JSON.
fn elements_json(h: &TxnHistory, els: &[u32]) -> Value {
    Value::Array(els.iter().map(|&e| h.values.value(e)).collect())
}

/// A micro-op as JSON.
fn mop_json(h: &TxnHistory, m: &Mop) -> Value {
    Value::Array(vec![
        h.f_name(m).into(),
        h.keys.value(m.key),
        h.mop_value(m),
    ])
}

/// A read holding an element more than once.
fn duplicates(h: &TxnHistory, t: u32, m: &Mop, els: &[u32], found: &mut Findings) {
    found.add(Anomaly::DuplicateElements, || {
        let mut counts: FxHashMap<u32, u32> = FxHashMap::default();
        for &e in els {
            *counts.entry(e).or_insert(0) += 1;
        }
        let mut dups: Vec<(u32, u32)> = counts.into_iter().filter(|&(_, c)| c > 1).collect();
        dups.sort_unstable();
        let words: Vec<String> = dups
            .iter()
            .map(|&(e, c)| format!("{} {c} times", h.values.value(e)))
            .collect();
        let mut c = plain_case(h, &[t], |n| {
            format!(
                "{} read key {} = {}, which holds {}; each element is appended once",
                n[0],
                h.keys.value(m.key),
                compact(&h.mop_value(m)),
                words.join(" and ")
            )
        });
        c.key = Some(h.keys.value(m.key));
        c.mop = Some(mop_json(h, m));
        c.values = dups.iter().map(|&(e, _)| h.values.value(e)).collect();
        c
    });
}

/// A read element no ok or info transaction appended: G1a if a failed one did, else garbage.
fn odd_element(h: &TxnHistory, w: &Writers, t: u32, m: &Mop, e: u32, found: &mut Findings) {
    let k = m.key;
    match w.failed.get(&kv(k, e)) {
        Some(&writer) => found.add(Anomaly::G1a, || {
            let mut c = plain_case(h, &[t, writer], |n| {
                format!(
                    "{} read key {} = {}, which holds {}, appended by {}, which failed: an aborted read (G1a)",
                    n[0],
                    h.keys.value(k),
                    compact(&h.mop_value(m)),
                    h.values.value(e),
                    n[1]
                )
            });
            c.key = Some(h.keys.value(k));
            c.mop = Some(mop_json(h, m));
            c.values = vec![h.values.value(e)];
            c
        }),
        None => found.add(Anomaly::GarbageRead, || {
            let mut c = plain_case(h, &[t], |n| {
                format!(
                    "{} read key {} = {}, which holds {}, which no transaction appended",
                    n[0],
                    h.keys.value(k),
                    compact(&h.mop_value(m)),
                    h.values.value(e)
                )
            });
            c.key = Some(h.keys.value(k));
            c.mop = Some(mop_json(h, m));
            c.values = vec![h.values.value(e)];
            c
        }),
    }
}

/// Internal consistency (Cerone et al.'s INT) and future reads of one ok transaction.
fn internal(h: &TxnHistory, t: u32, found: &mut Findings) {
    let mops = h.mops(t);
    if mops.len() < 2 {
        return;
    }
    // Per key: the list as read (None: unknown prefix), and what was appended since.
    type Known<'a> = (u32, Option<&'a [u32]>, Vec<u32>);
    let mut state: Vec<Known<'_>> = Vec::new();
    let mut reported = false;
    for (i, m) in mops.iter().enumerate() {
        let slot = state.iter().position(|s| s.0 == m.key);
        match m.kind {
            MopKind::Append => {
                // A future read: an earlier read of this key in this txn holds this element.
                if mops[..i].iter().any(|r| {
                    r.kind == MopKind::Read
                        && r.key == m.key
                        && h.read_elements(r).contains(&m.value)
                }) {
                    found.add(Anomaly::FutureRead, || {
                        let mut c = plain_case(h, &[t], |n| {
                            format!(
                                "{} read key {} holding {} before it appended {} itself",
                                n[0],
                                h.keys.value(m.key),
                                h.values.value(m.value),
                                h.values.value(m.value)
                            )
                        });
                        c.key = Some(h.keys.value(m.key));
                        c.values = vec![h.values.value(m.value)];
                        c
                    });
                }
                match slot {
                    Some(s) => state[s].2.push(m.value),
                    None => state.push((m.key, None, vec![m.value])),
                }
            }
            MopKind::Read => {
                if m.value == NIL && h.txns[t as usize].outcome != Outcome::Ok {
                    continue;
                }
                let els = h.read_elements(m);
                if let Some(s) = slot {
                    let (_, base, extra) = &state[s];
                    let ok = match base {
                        Some(b) => {
                            els.len() == b.len() + extra.len()
                                && els[..b.len()] == **b
                                && els[b.len()..] == extra[..]
                        }
                        None => {
                            els.len() >= extra.len() && els[els.len() - extra.len()..] == extra[..]
                        }
                    };
                    if !ok && !reported {
                        reported = true;
                        let expected: Value = match base {
                            Some(b) => elements_json(
                                h,
                                &b.iter().chain(extra).copied().collect::<Vec<_>>(),
                            ),
                            None => {
                                let mut v = vec![Value::from("...")];
                                v.extend(extra.iter().map(|&e| h.values.value(e)));
                                Value::Array(v)
                            }
                        };
                        found.add(Anomaly::Internal, || {
                            let mut c = plain_case(h, &[t], |n| {
                                format!(
                                    "{} read key {} = {}, but its own earlier reads and appends of the key say it should be {}",
                                    n[0],
                                    h.keys.value(m.key),
                                    compact(&h.mop_value(m)),
                                    compact(&expected)
                                )
                            });
                            c.key = Some(h.keys.value(m.key));
                            c.mop = Some(mop_json(h, m));
                            c.expected = Some(expected.clone());
                            c
                        });
                    }
                    state[s].1 = Some(els);
                    state[s].2.clear();
                } else {
                    state.push((m.key, Some(els), Vec::new()));
                }
            }
            MopKind::Write => {}
        }
    }
}

/// Dirty updates (Elle's `dirty-update-cases`): walking each key's version order, a failed
/// transaction's element followed (past any info ones) by a committed transaction's.
fn dirty_updates(h: &TxnHistory, w: &Writers, o: &Orders, found: &mut Findings) {
    for (k, order) in o.order.iter().enumerate() {
        let k = k as u32;
        // The last relevant writer (None: the initial state, as if ok) and the elements since.
        let mut prev: Option<u32> = None;
        let mut since: Vec<u32> = Vec::new();
        for &e in order {
            let id = kv(k, e);
            let Some(&t2) = w.possible.get(&id).or_else(|| w.failed.get(&id)) else {
                continue;
            };
            let o1 = prev.map_or(Outcome::Ok, |p| h.txns[p as usize].outcome);
            let o2 = h.txns[t2 as usize].outcome;
            since.push(e);
            match (o1, o2) {
                (Outcome::Fail, Outcome::Ok) => {
                    let t1 = prev.unwrap_or(t2);
                    let values = since.clone();
                    found.add(Anomaly::DirtyUpdate, || {
                        let mut c = plain_case(h, &[t1, t2], |n| {
                            format!(
                                "key {} went through {}: {} appended {}, then failed, and {} appended {} over it and committed",
                                h.keys.value(k),
                                compact(&elements_json(h, &values)),
                                n[0],
                                h.values.value(values[0]),
                                n[1],
                                h.values.value(*values.last().unwrap_or(&e))
                            )
                        });
                        c.key = Some(h.keys.value(k));
                        c.values = values.iter().map(|&v| h.values.value(v)).collect();
                        c
                    });
                    prev = Some(t2);
                    since = vec![e];
                }
                (_, Outcome::Info) | (Outcome::Fail, Outcome::Fail) => {}
                _ => {
                    prev = Some(t2);
                    since = vec![e];
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::txn::TxnKind;

    /// Ok txns, invoked together, completed in order: (mops JSON).
    fn history(txns: &[&str]) -> TxnHistory {
        crate::txn::history::concurrent_ok(TxnKind::ListAppend, txns)
    }

    fn edges(h: &TxnHistory) -> Vec<(u32, u32, EdgeKind)> {
        let mut list = EdgeList::default();
        let mut found = Findings::default();
        analyze(h, &mut list, &mut found).unwrap();
        let mut e: Vec<_> = list.edges.iter().map(|e| (e.from, e.to, e.kind)).collect();
        e.sort();
        e.dedup();
        e
    }

    #[test]
    fn the_longest_read_orders_appends_into_ww_wr_and_rw_edges() {
        // T0 appends 1, T1 appends 2, T2 reads [1], T3 reads [1, 2], T4 reads empty.
        let h = history(&[
            r#"[["append","x",1]]"#,
            r#"[["append","x",2]]"#,
            r#"[["r","x",[1]]]"#,
            r#"[["r","x",[1,2]]]"#,
            r#"[["r","x",null]]"#,
        ]);
        use EdgeKind::*;
        assert_eq!(
            edges(&h),
            [(0, 1, Ww), (0, 2, Wr), (1, 3, Wr), (2, 1, Rw), (4, 0, Rw)]
        );
    }

    #[test]
    fn an_unread_append_follows_the_last_element_read() {
        let h = history(&[
            r#"[["append","x",1]]"#,
            r#"[["r","x",[1]]]"#,
            r#"[["append","x",9]]"#,
        ]);
        use EdgeKind::*;
        assert_eq!(edges(&h), [(0, 1, Wr), (0, 2, Ww), (1, 2, Rw)]);
        // The edges into the unread append say so, for the explanation.
        let mut list = EdgeList::default();
        analyze(&h, &mut list, &mut Findings::default()).unwrap();
        for e in &list.edges {
            assert_eq!(e.unread, e.to == 2, "{e:?}");
        }
    }

    #[test]
    fn reads_that_no_append_explains_are_named() {
        let h = history(&[r#"[["r","x",[7]]]"#]);
        let mut found = Findings::default();
        analyze(&h, &mut EdgeList::default(), &mut found).unwrap();
        assert_eq!(found.counts.get(&Anomaly::GarbageRead), Some(&1));
        let c = &found.cases[&Anomaly::GarbageRead][0];
        assert!(
            c.explanation.contains("which no transaction appended"),
            "{}",
            c.explanation
        );
    }
}
