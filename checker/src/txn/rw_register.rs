//! Inference for read-write register transactions (Elle's `rw-register`, Kingsbury and
//! Alvaro section 4.3), configured as Maelstrom configures it (`:wfr-keys? true`). Writes are
//! unique per key, so a read names its writer: a wr edge (Adya's direct read-dependency).
//! The version order of a key is only partly known:
//!
//! - the initial state (`null`) precedes every version written or read;
//! - writes follow reads: a committed transaction that read version v of a key, then wrote
//!   v' to it, orders v < v'.
//!
//! Each version edge v < v' gives ww edges from the writer of v to the writer of v' and rw
//! edges (anti-dependencies) from the readers of v to the writer of v'. A transaction's
//! external read of a key is its first read not preceded by its own write; its external write
//! is its last write. If the writes-follow-reads orders form a cycle, they are dropped and
//! reported as `cyclic-versions`, as Elle does. Besides: `internal`, `G1a` (a read of a
//! failed transaction's write), `G1b` (a read of a write its transaction overwrote),
//! `lost-update`, and `garbage-read` (a value no transaction wrote).

use rustc_hash::FxHashMap;
use serde_json::Value;

use super::anomaly::Anomaly;
use super::explain::{Findings, compact, plain_case};
use super::graph::{EdgeKind, EdgeList, Graph, nontrivial_sccs};
use super::history::{Mop, MopKind, NIL, TxnHistory};
use super::lost_update::lost_updates;
use super::writers::{Writers, kv, writers};
use crate::history::HistoryError;
use crate::op::Outcome;

/// A transaction's external reads and writes: (key, value) pairs.
fn externals(mops: &[Mop], reads: &mut Vec<(u32, u32)>, writes: &mut Vec<(u32, u32)>) {
    reads.clear();
    writes.clear();
    let mut touched: Vec<u32> = Vec::new();
    for m in mops {
        match m.kind {
            MopKind::Read => {
                if !touched.contains(&m.key) {
                    touched.push(m.key);
                    reads.push((m.key, m.value));
                }
            }
            MopKind::Write => {
                if !touched.contains(&m.key) {
                    touched.push(m.key);
                }
                match writes.iter_mut().find(|w| w.0 == m.key) {
                    Some(w) => w.1 = m.value,
                    None => writes.push((m.key, m.value)),
                }
            }
            MopKind::Append => {}
        }
    }
}

/// Infer the dependencies of a register history into `edges`, its non-cycle anomalies into
/// `found`.
pub fn analyze(
    h: &TxnHistory,
    edges: &mut EdgeList,
    found: &mut Findings,
) -> Result<(), HistoryError> {
    // Writers: each transaction's last write to a key, for ok and info txns; failed txns'
    // writes; intermediate writes.
    let Writers {
        possible: writer,
        failed,
        intermediate,
    } = writers(h, MopKind::Write)?;
    let (mut reads, mut writes) = (Vec::new(), Vec::new());
    // Readers of each version (external reads of ok txns), as linked lists; wr edges; the
    // writes-follow-reads version edges.
    let mut head: FxHashMap<u64, u32> = FxHashMap::default();
    let mut next: Vec<(u32, u32)> = Vec::new();
    let mut wfr: Vec<(u32, u32, u32)> = Vec::new();
    // Per key: the written versions (for the initial state's successors).
    let mut written: FxHashMap<u32, Vec<(u32, u32)>> = FxHashMap::default();
    for (t, txn) in h.txns.iter().enumerate() {
        if txn.outcome == Outcome::Fail {
            continue;
        }
        let t = t as u32;
        externals(h.mops(t), &mut reads, &mut writes);
        for &(k, v) in &writes {
            written.entry(k).or_default().push((v, t));
        }
        if txn.outcome != Outcome::Ok {
            continue;
        }
        for &(k, v) in &reads {
            let id = kv(k, v);
            let prev = head.get(&id).copied().unwrap_or(NIL);
            head.insert(id, next.len() as u32);
            next.push((t, prev));
            if v != NIL {
                if let Some(&w) = writer.get(&id) {
                    edges.add(w, t, EdgeKind::Wr, k, v, NIL);
                }
                if let Some(&(_, v2)) = writes.iter().find(|w| w.0 == k && w.1 != v) {
                    wfr.push((k, v, v2));
                }
            }
        }
        check_reads(h, t, &writer, &failed, &intermediate, found);
        internal(h, t, found);
    }
    let readers = |k: u32, v: u32, f: &mut dyn FnMut(u32)| {
        let mut at = head.get(&kv(k, v)).copied().unwrap_or(NIL);
        while at != NIL {
            let (t, prev) = next[at as usize];
            f(t);
            at = prev;
        }
    };
    // The initial state precedes every written version.
    let mut keys: Vec<&u32> = written.keys().collect();
    keys.sort_unstable();
    for &k in keys {
        for &(v, w) in &written[&k] {
            readers(k, NIL, &mut |r| edges.add(r, w, EdgeKind::Rw, k, NIL, v));
        }
    }
    if !cyclic_versions(h, &wfr, found) {
        for &(k, v1, v2) in &wfr {
            let Some(&w2) = writer.get(&kv(k, v2)) else {
                continue;
            };
            if let Some(&w1) = writer.get(&kv(k, v1)) {
                edges.add(w1, w2, EdgeKind::Ww, k, v1, v2);
            }
            readers(k, v1, &mut |r| edges.add(r, w2, EdgeKind::Rw, k, v1, v2));
        }
    }
    lost_updates(h, MopKind::Write, found);
    Ok(())
}

/// Report cycles among the writes-follow-reads version orders; true when there are any.
fn cyclic_versions(h: &TxnHistory, wfr: &[(u32, u32, u32)], found: &mut Findings) -> bool {
    if wfr.is_empty() {
        return false;
    }
    let mut ids: FxHashMap<u64, u32> = FxHashMap::default();
    let mut nodes: Vec<(u32, u32)> = Vec::new();
    let mut id = |k: u32, v: u32, nodes: &mut Vec<(u32, u32)>| -> u32 {
        *ids.entry(kv(k, v)).or_insert_with(|| {
            nodes.push((k, v));
            nodes.len() as u32 - 1
        })
    };
    let mut list = EdgeList::default();
    for &(k, v1, v2) in wfr {
        let a = id(k, v1, &mut nodes);
        let b = id(k, v2, &mut nodes);
        list.add(a, b, EdgeKind::Ww, k, v1, v2);
    }
    let g = Graph::build(nodes.len(), h.kind, list);
    let (comps, _) = nontrivial_sccs(&g, EdgeKind::Ww.bit());
    for c in &comps {
        let k = nodes[c[0] as usize].0;
        let values: Vec<Value> = c
            .iter()
            .map(|&n| h.values.value(nodes[n as usize].1))
            .collect();
        found.add(Anomaly::CyclicVersions, || {
            let mut case = plain_case(h, &[], |_| {
                format!(
                    "transactions that read key {} and then wrote it order its versions {} in a cycle: each was read and then overwritten by another",
                    h.keys.value(k),
                    compact(&Value::Array(values.clone()))
                )
            });
            case.key = Some(h.keys.value(k));
            case.values = values.clone();
            case
        });
    }
    !comps.is_empty()
}

/// The anomalies a committed transaction's reads show by themselves: G1a, G1b, garbage.
fn check_reads(
    h: &TxnHistory,
    t: u32,
    writer: &FxHashMap<u64, u32>,
    failed: &FxHashMap<u64, u32>,
    intermediate: &FxHashMap<u64, u32>,
    found: &mut Findings,
) {
    for m in h.mops(t) {
        if m.kind != MopKind::Read || m.value == NIL {
            continue;
        }
        let id = kv(m.key, m.value);
        let (key, value) = (h.keys.value(m.key), h.values.value(m.value));
        if let Some(&w) = failed.get(&id) {
            found.add(Anomaly::G1a, || {
                let mut c = plain_case(h, &[t, w], |n| {
                    format!("{} read key {key} = {value}, which {} wrote and then failed: an aborted read (G1a)", n[0], n[1])
                });
                c.key = Some(key.clone());
                c.values = vec![value.clone()];
                c
            });
        } else if let Some(&w) = intermediate.get(&id) {
            if w != t {
                found.add(Anomaly::G1b, || {
                    let mut c = plain_case(h, &[t, w], |n| {
                        format!("{} read key {key} = {value}, which {} wrote and then overwrote itself: an intermediate read (G1b)", n[0], n[1])
                    });
                    c.key = Some(key.clone());
                    c.values = vec![value.clone()];
                    c
                });
            }
        } else if !writer.contains_key(&id) {
            found.add(Anomaly::GarbageRead, || {
                let mut c = plain_case(h, &[t], |n| {
                    format!(
                        "{} read key {key} = {value}, which no transaction wrote",
                        n[0]
                    )
                });
                c.key = Some(key.clone());
                c.values = vec![value.clone()];
                c
            });
        }
    }
}

/// Internal consistency (Cerone et al.'s INT): a read agrees with the transaction's own last
/// write or read of the key.
fn internal(h: &TxnHistory, t: u32, found: &mut Findings) {
    let mops = h.mops(t);
    let mut state: Vec<(u32, u32)> = Vec::new();
    for m in mops {
        let slot = state.iter().position(|s| s.0 == m.key);
        match (m.kind, slot) {
            (MopKind::Read, Some(s)) if state[s].1 != m.value => {
                let expected = h.values.value(state[s].1);
                found.add(Anomaly::Internal, || {
                    let mut c = plain_case(h, &[t], |n| {
                        format!(
                            "{} read key {} = {}, but its own earlier read or write of the key says {}",
                            n[0],
                            h.keys.value(m.key),
                            h.mop_value(m),
                            expected
                        )
                    });
                    c.key = Some(h.keys.value(m.key));
                    c.mop = Some(Value::Array(vec!["r".into(), h.keys.value(m.key), h.mop_value(m)]));
                    c.expected = Some(expected.clone());
                    c
                });
                return;
            }
            (MopKind::Read | MopKind::Write, Some(s)) => state[s].1 = m.value,
            (MopKind::Read | MopKind::Write, None) => state.push((m.key, m.value)),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::txn::TxnKind;

    fn edges(txns: &[&str]) -> (Vec<(u32, u32, EdgeKind)>, Findings) {
        let h = crate::txn::history::concurrent_ok(TxnKind::RwRegister, txns);
        let mut list = EdgeList::default();
        let mut found = Findings::default();
        analyze(&h, &mut list, &mut found).unwrap();
        let mut e: Vec<_> = list.edges.iter().map(|e| (e.from, e.to, e.kind)).collect();
        e.sort();
        e.dedup();
        (e, found)
    }

    #[test]
    fn initial_state_and_writes_follow_reads_give_ww_and_rw_edges() {
        use EdgeKind::*;
        // T0 reads x nil; T1 writes 1; T2 reads 1 then writes 2; T3 reads 1.
        let (e, found) = edges(&[
            r#"[["r","x",null]]"#,
            r#"[["w","x",1]]"#,
            r#"[["r","x",1],["w","x",2]]"#,
            r#"[["r","x",1]]"#,
        ]);
        assert!(found.counts.is_empty());
        assert_eq!(
            e,
            [
                (0, 1, Rw),
                (0, 2, Rw),
                (1, 2, Ww),
                (1, 2, Wr),
                (1, 3, Wr),
                (3, 2, Rw)
            ]
        );
    }

    #[test]
    fn a_txn_reads_its_own_writes() {
        let (_, found) = edges(&[r#"[["w","x",1],["r","x",2]]"#, r#"[["w","x",2]]"#]);
        assert_eq!(found.counts.get(&Anomaly::Internal), Some(&1));
    }
}
