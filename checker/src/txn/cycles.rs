//! Cycle anomalies: within each strongly connected component of the dependency graph, the
//! shortest cycle of each class (Elle's cycle-anomaly specs, after Adya's definitions):
//!
//! | anomaly | edges | constraint |
//! |---|---|---|
//! | G0 | ww | |
//! | G1c | ww, wr | at least one wr |
//! | G-single-item | ww, wr, rw | exactly one rw |
//! | G-nonadjacent-item | ww, wr, rw | two or more rw, no two adjacent (the last and first count as adjacent) |
//! | G2-item | ww, wr, rw | two or more rw, two adjacent |
//!
//! and each with `-process` / `-realtime`: the same, plus process (real-time) edges, at least
//! one of them. A cycle is searched for by breadth-first search over pairs (transaction,
//! automaton state), the state tracking the constraint (rw count, whether the last and first
//! edges were rw, whether a wr and a process/real-time edge were taken), so the first cycle
//! found from a start is the shortest through it. The search stays inside the component of
//! the subgraph of the allowed edges (no cycle leaves it), starts only at targets of the
//! required kind of edge, and stops at a budget of arcs examined per class and component: past
//! it, the class is reported as `cycle-search-timeout`, as Elle reports a search that timed
//! out. Classes are tried in Elle's order, and a class implied by one already found in the
//! component is skipped (a G0 cycle is not reported again as G1c).

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;

use super::anomaly::{Anomaly, all_implied};
use super::explain::{Findings, cycle_case};
use super::graph::{Arc, EdgeKind, Graph, nontrivial_sccs};
use super::history::TxnHistory;

/// Arcs examined per class and component before the search gives up.
pub const SEARCH_BUDGET: u64 = 4_000_000;

/// How many read-write edges a class wants, and how placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RwRule {
    None,
    Single,
    Nonadjacent,
    Adjacent,
}

/// One class of cycle to look for.
#[derive(Debug, Clone, Copy)]
struct Spec {
    anomaly: Anomaly,
    wr: bool,
    rw: RwRule,
    variant: Option<EdgeKind>,
}

impl Spec {
    /// The kinds of edge a cycle of this class may use.
    fn mask(&self) -> u8 {
        let mut m = EdgeKind::Ww.bit();
        if self.wr || self.rw != RwRule::None {
            m |= EdgeKind::Wr.bit();
        }
        if self.rw != RwRule::None {
            m |= EdgeKind::Rw.bit();
        }
        if let Some(v) = self.variant {
            m |= v.bit();
        }
        m
    }

    /// The kind of edge every cycle of this class has, where the search starts.
    fn required(&self) -> Option<EdgeKind> {
        match (self.variant, self.rw, self.wr) {
            (Some(v), _, _) => Some(v),
            (None, RwRule::None, true) => Some(EdgeKind::Wr),
            (None, RwRule::None, false) => None,
            (None, _, _) => Some(EdgeKind::Rw),
        }
    }
}

/// The classes, in Elle's search order (its anomaly depth order).
fn specs() -> Vec<Spec> {
    use Anomaly::*;
    use EdgeKind::{Process, Realtime};
    let s = |anomaly, wr, rw, variant| Spec {
        anomaly,
        wr,
        rw,
        variant,
    };
    vec![
        s(GSingleItem, false, RwRule::Single, None),
        s(G0, false, RwRule::None, None),
        s(GNonadjacentItem, false, RwRule::Nonadjacent, None),
        s(GSingleItemProcess, false, RwRule::Single, Some(Process)),
        s(G1c, true, RwRule::None, None),
        s(
            GNonadjacentItemProcess,
            false,
            RwRule::Nonadjacent,
            Some(Process),
        ),
        s(GSingleItemRealtime, false, RwRule::Single, Some(Realtime)),
        s(G2Item, false, RwRule::Adjacent, None),
        s(
            GNonadjacentItemRealtime,
            false,
            RwRule::Nonadjacent,
            Some(Realtime),
        ),
        s(G0Process, false, RwRule::None, Some(Process)),
        s(G1cProcess, true, RwRule::None, Some(Process)),
        s(G2ItemProcess, false, RwRule::Adjacent, Some(Process)),
        s(G0Realtime, false, RwRule::None, Some(Realtime)),
        s(G1cRealtime, true, RwRule::None, Some(Realtime)),
        s(G2ItemRealtime, false, RwRule::Adjacent, Some(Realtime)),
    ]
}

// Automaton state bits.
const RW_COUNT: u8 = 0b11;
const FIRST_RW: u8 = 1 << 2;
const LAST_RW: u8 = 1 << 3;
const HAS_WR: u8 = 1 << 4;
const HAS_VARIANT: u8 = 1 << 5;
const ADJACENT: u8 = 1 << 6;
const STARTED: u8 = 1 << 7;

/// The state after taking an edge of `kind`, or None when the class forbids it.
fn step(spec: &Spec, state: u8, kind: EdgeKind) -> Option<u8> {
    if spec.mask() & kind.bit() == 0 {
        return None;
    }
    let mut s = state | STARTED;
    if kind == EdgeKind::Rw {
        let count = state & RW_COUNT;
        let last = state & LAST_RW != 0;
        match spec.rw {
            RwRule::Single if count >= 1 => return None,
            RwRule::Nonadjacent if last => return None,
            _ => {}
        }
        if state & STARTED == 0 {
            s |= FIRST_RW;
        }
        if last {
            s |= ADJACENT;
        }
        s = (s & !RW_COUNT) | (count + 1).min(2);
        s |= LAST_RW;
    } else {
        s &= !LAST_RW;
        if kind == EdgeKind::Wr {
            s |= HAS_WR;
        }
        if Some(kind) == spec.variant {
            s |= HAS_VARIANT;
        }
    }
    Some(s)
}

/// True when a closed path in `state` is a cycle of the class.
fn accepts(spec: &Spec, state: u8) -> bool {
    if state & STARTED == 0 {
        return false;
    }
    if spec.wr && state & HAS_WR == 0 {
        return false;
    }
    if spec.variant.is_some() && state & HAS_VARIANT == 0 {
        return false;
    }
    let count = state & RW_COUNT;
    let wraps = state & FIRST_RW != 0 && state & LAST_RW != 0;
    match spec.rw {
        RwRule::None => count == 0,
        RwRule::Single => count == 1,
        RwRule::Nonadjacent => count == 2 && !wraps,
        RwRule::Adjacent => count == 2 && (state & ADJACENT != 0 || wraps),
    }
}

/// A cycle found: its transactions in order and the arcs between them (arc `i` goes from
/// `txns[i]` to `txns[i + 1]`, the last back to `txns[0]`).
#[derive(Debug, Clone)]
pub struct Cycle {
    pub txns: Vec<u32>,
    pub arcs: Vec<Arc>,
}

/// The shortest cycle of `spec` through `start`, within vertices of sub-component `sub`
/// (`subcomp[v] == sub`), shorter than `bound` arcs; `budget` counts arcs examined.
fn shortest_from(
    g: &Graph,
    spec: &Spec,
    start: u32,
    subcomp: &[u32],
    sub: u32,
    bound: usize,
    budget: &mut u64,
) -> Option<Cycle> {
    // BFS nodes: (vertex, state, parent node, arc), parent u32::MAX for the root.
    let mut nodes: Vec<(u32, u8, u32, Arc)> = Vec::new();
    let blank = Arc {
        to: start,
        kind: EdgeKind::Ww,
        key: 0,
        v1: 0,
        v2: 0,
        unread: false,
    };
    nodes.push((start, 0, u32::MAX, blank));
    let mut depth: Vec<u16> = vec![0];
    let mut seen: FxHashMap<u64, ()> = FxHashMap::default();
    seen.insert((start as u64) << 8, ());
    let mask = spec.mask();
    let mut head = 0usize;
    while head < nodes.len() {
        let (v, st, _, _) = nodes[head];
        let d = depth[head] as usize;
        if d + 1 >= bound {
            head += 1;
            continue;
        }
        for arc in g.out(v) {
            if *budget == 0 {
                return None;
            }
            *budget -= 1;
            if arc.kind.bit() & mask == 0 || subcomp[arc.to as usize] != sub {
                continue;
            }
            let Some(next) = step(spec, st, arc.kind) else {
                continue;
            };
            if arc.to == start {
                if accepts(spec, next) {
                    let mut txns = Vec::new();
                    let mut arcs = vec![*arc];
                    let mut at = head as u32;
                    while at != u32::MAX {
                        let (tv, _, parent, parc) = nodes[at as usize];
                        txns.push(tv);
                        if parent != u32::MAX {
                            arcs.push(parc);
                        }
                        at = parent;
                    }
                    txns.reverse();
                    arcs.reverse();
                    return Some(Cycle { txns, arcs });
                }
                continue;
            }
            let id = ((arc.to as u64) << 8) | next as u64;
            if seen.contains_key(&id) {
                continue;
            }
            // Keep cycles simple: never revisit a transaction on this path.
            let mut at = head as u32;
            let mut on_path = false;
            while at != u32::MAX {
                if nodes[at as usize].0 == arc.to {
                    on_path = true;
                    break;
                }
                at = nodes[at as usize].2;
            }
            if on_path {
                continue;
            }
            seen.insert(id, ());
            nodes.push((arc.to, next, head as u32, *arc));
            depth.push((d + 1).min(u16::MAX as usize) as u16);
        }
        head += 1;
    }
    None
}

/// What the cycle search found.
#[derive(Debug, Default)]
pub struct CycleReport {
    /// Non-trivial components of the whole graph.
    pub scc_count: usize,
    /// The largest one's size.
    pub largest_scc: usize,
}

/// Search every non-trivial component of `g` for the cycle classes and record them in
/// `found`: per class, one cycle per component, the shortest kept first.
pub fn find_cycles(h: &TxnHistory, g: &Graph, found: &mut Findings) -> CycleReport {
    find_cycles_within(h, g, found, SEARCH_BUDGET)
}

/// [`find_cycles`] with `budget` arcs examined per class and component.
pub(crate) fn find_cycles_within(
    h: &TxnHistory,
    g: &Graph,
    found: &mut Findings,
    budget: u64,
) -> CycleReport {
    let (global_comps, global_comp) = nontrivial_sccs(g, super::graph::ALL_KINDS);
    let mut report = CycleReport {
        scc_count: global_comps.len(),
        largest_scc: global_comps.iter().map(Vec::len).max().unwrap_or(0),
    };
    if global_comps.is_empty() {
        return report;
    }
    // Work on the members of the non-trivial components alone, renumbered, with the arcs
    // inside each component: the per-class passes then cost nothing for the acyclic rest.
    let members: Vec<u32> = global_comps.iter().flatten().copied().collect();
    let mut local = vec![u32::MAX; g.len()];
    for (i, &t) in members.iter().enumerate() {
        local[t as usize] = i as u32;
    }
    let mut inside = super::graph::EdgeList::default();
    for &u in &members {
        for a in g.out(u) {
            if global_comp[a.to as usize] == global_comp[u as usize] {
                let (from, to) = (local[u as usize], local[a.to as usize]);
                if a.unread {
                    inside.add_unread(from, to, a.kind, a.key, a.v1, a.v2);
                } else {
                    inside.add(from, to, a.kind, a.key, a.v1, a.v2);
                }
            }
        }
    }
    let g = &Graph::build(members.len(), h.kind, inside);
    let comp: Vec<u32> = members.iter().map(|&t| global_comp[t as usize]).collect();
    let comps: Vec<Vec<u32>> = global_comps
        .iter()
        .map(|c| c.iter().map(|&t| local[t as usize]).collect())
        .collect();
    let has_process = g.counts.process > 0;
    let has_realtime = g.counts.realtime > 0;
    // Per component: the classes found there (to skip what they imply).
    let mut implied: Vec<std::collections::BTreeSet<Anomaly>> =
        vec![Default::default(); comps.len()];
    let mut cycles: BTreeMap<Anomaly, Vec<Cycle>> = BTreeMap::new();
    let mut timeouts: Vec<(Anomaly, usize)> = Vec::new();
    for spec in specs() {
        match spec.variant {
            Some(EdgeKind::Process) if !has_process => continue,
            Some(EdgeKind::Realtime) if !has_realtime => continue,
            _ => {}
        }
        let mask = spec.mask();
        let (subs, subcomp) = nontrivial_sccs(g, mask);
        // Group the sub-components by the component that holds them.
        let mut by_comp: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
        for (i, s) in subs.iter().enumerate() {
            by_comp
                .entry(comp[s[0] as usize])
                .or_default()
                .push(i as u32);
        }
        for (c, sub_ids) in by_comp {
            if implied[c as usize].contains(&spec.anomaly) {
                continue;
            }
            let mut left = budget;
            let mut best: Option<Cycle> = None;
            let mut exhausted = false;
            'subs: for sub in sub_ids {
                let members = &subs[sub as usize];
                let starts: Vec<u32> = match spec.required() {
                    None => members.clone(),
                    Some(kind) => {
                        let mut t: Vec<u32> = members
                            .iter()
                            .flat_map(|&u| g.out(u))
                            .filter(|a| a.kind == kind && subcomp[a.to as usize] == sub)
                            .map(|a| a.to)
                            .collect();
                        t.sort_unstable();
                        t.dedup();
                        t
                    }
                };
                for v in starts {
                    let bound = best.as_ref().map_or(usize::MAX, |b| b.txns.len());
                    if let Some(cy) = shortest_from(g, &spec, v, &subcomp, sub, bound, &mut left) {
                        best = Some(cy);
                    }
                    if left == 0 {
                        exhausted = best.is_none();
                        break 'subs;
                    }
                    if best.as_ref().is_some_and(|b| b.txns.len() <= 2) {
                        break 'subs;
                    }
                }
            }
            match best {
                Some(cy) => {
                    implied[c as usize].extend(all_implied([spec.anomaly]));
                    cycles.entry(spec.anomaly).or_default().push(cy);
                }
                None if exhausted => timeouts.push((spec.anomaly, comps[c as usize].len())),
                None => {}
            }
        }
    }
    for (anomaly, mut list) in cycles {
        list.sort_by_key(|c| {
            let first = c.txns.iter().map(|&t| members[t as usize]).min();
            (c.txns.len(), first)
        });
        for cy in list {
            if found.note(anomaly) {
                let txns: Vec<u32> = cy.txns.iter().map(|&t| members[t as usize]).collect();
                found.keep(anomaly, cycle_case(h, anomaly, &txns, &cy.arcs));
            }
        }
    }
    for (anomaly, size) in timeouts {
        found.add(Anomaly::CycleSearchTimeout, || super::explain::AnomalyCase {
            txns: Vec::new(),
            steps: Vec::new(),
            key: None,
            mop: None,
            expected: None,
            values: Vec::new(),
            explanation: format!(
                "the search for a {anomaly} cycle in a component of {size} transactions examined {budget} edges without deciding"
            ),
        });
        report.largest_scc = report.largest_scc.max(size);
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(a: Anomaly) -> Spec {
        specs().into_iter().find(|s| s.anomaly == a).unwrap()
    }

    fn walk(a: Anomaly, kinds: &[EdgeKind]) -> bool {
        let s = spec(a);
        let mut st = 0u8;
        for &k in kinds {
            match step(&s, st, k) {
                Some(n) => st = n,
                None => return false,
            }
        }
        accepts(&s, st)
    }

    #[test]
    fn a_search_out_of_budget_is_reported_not_passed() {
        use crate::history::parse_history;
        use crate::txn::{TxnKind, TxnOptions, dependencies};
        // A G1c cycle: each txn reads the other's append.
        let text = r#"{"process":0,"type":"invoke","f":"txn","value":[["append",1,1],["r",2,null]]}
{"process":1,"type":"invoke","f":"txn","value":[["append",2,1],["r",1,null]]}
{"process":0,"type":"ok","f":"txn","value":[["append",1,1],["r",2,[1]]]}
{"process":1,"type":"ok","f":"txn","value":[["append",2,1],["r",1,[1]]]}"#;
        let events = parse_history("h", text.as_bytes()).unwrap();
        let h = TxnHistory::from_events(TxnKind::ListAppend, &events).unwrap();
        let mut found = Findings::default();
        let g = dependencies(&h, &TxnOptions::new(TxnKind::ListAppend), &mut found).unwrap();
        find_cycles_within(&h, &g, &mut found, 1);
        assert!(found.counts.contains_key(&Anomaly::CycleSearchTimeout));
        assert!(!found.counts.contains_key(&Anomaly::G1c));
        let mut found = Findings::default();
        find_cycles(&h, &g, &mut found);
        assert_eq!(found.counts.get(&Anomaly::G1c), Some(&1));
        assert!(!found.counts.contains_key(&Anomaly::CycleSearchTimeout));
    }

    #[test]
    fn each_class_accepts_exactly_its_cycles() {
        use Anomaly::*;
        use EdgeKind::*;
        assert!(walk(G0, &[Ww, Ww]));
        assert!(!walk(G0, &[Ww, Wr]));
        assert!(walk(G1c, &[Ww, Wr]));
        assert!(!walk(G1c, &[Ww, Ww]));
        assert!(walk(GSingleItem, &[Rw, Wr]));
        assert!(!walk(GSingleItem, &[Rw, Rw]));
        assert!(!walk(GSingleItem, &[Ww, Wr]));
        assert!(walk(GNonadjacentItem, &[Rw, Wr, Rw, Ww]));
        assert!(!walk(GNonadjacentItem, &[Rw, Rw, Ww]));
        // The last and the first edge are adjacent too.
        assert!(!walk(GNonadjacentItem, &[Rw, Wr, Rw]));
        assert!(walk(G2Item, &[Rw, Wr, Rw]));
        assert!(walk(G2Item, &[Rw, Rw]));
        assert!(!walk(G2Item, &[Rw, Wr, Rw, Ww]));
        assert!(walk(G1cRealtime, &[Wr, Realtime]));
        assert!(!walk(G1cRealtime, &[Wr, Ww]));
        assert!(!walk(G1cRealtime, &[Wr, Process]));
        assert!(walk(G0Process, &[Ww, Process]));
        assert!(walk(GSingleItemRealtime, &[Rw, Realtime]));
    }
}
