//! The dependency graph over transactions (Adya's direct serialization graph, "Weak
//! Consistency" section 3.2): write-write (ww), write-read (wr) and read-write (rw, the
//! anti-dependency) edges inferred from the data, plus the process order (each client's
//! transactions one after another) and the real-time order (a transaction that completed
//! before another was invoked precedes it), as Elle adds them for the session and strong
//! models. Stored as one flat adjacency (compressed sparse rows); strongly connected
//! components by an iterative Tarjan.

use serde::Serialize;

use super::history::{NIL, TxnHistory};
use crate::op::Outcome;

/// What kind of dependency an edge is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EdgeKind {
    /// The target overwrote (appended after) a version the source wrote.
    Ww,
    /// The target read a version the source wrote.
    Wr,
    /// The source read a version the target overwrote: an anti-dependency.
    Rw,
    /// The same process ran the target after the source.
    Process,
    /// The source completed before the target was invoked.
    Realtime,
}

impl EdgeKind {
    /// Every kind, in the order of [`EdgeCounts`].
    pub const ALL: [EdgeKind; 5] = [
        EdgeKind::Ww,
        EdgeKind::Wr,
        EdgeKind::Rw,
        EdgeKind::Process,
        EdgeKind::Realtime,
    ];

    /// `"ww"`, `"wr"`, `"rw"`, `"process"`, `"realtime"`.
    pub fn name(self) -> &'static str {
        match self {
            EdgeKind::Ww => "ww",
            EdgeKind::Wr => "wr",
            EdgeKind::Rw => "rw",
            EdgeKind::Process => "process",
            EdgeKind::Realtime => "realtime",
        }
    }

    /// Which kind names a pair of transactions joined by several (lower first), as Elle's
    /// combined explainers try them: for lists ww, wr, rw; for registers wr, ww, rw; then
    /// process and real time.
    pub fn priority(self, kind: super::TxnKind) -> u8 {
        match (self, kind) {
            (EdgeKind::Ww, super::TxnKind::ListAppend) => 0,
            (EdgeKind::Wr, super::TxnKind::ListAppend) => 1,
            (EdgeKind::Wr, super::TxnKind::RwRegister) => 0,
            (EdgeKind::Ww, super::TxnKind::RwRegister) => 1,
            (EdgeKind::Rw, _) => 2,
            (EdgeKind::Process, _) => 3,
            (EdgeKind::Realtime, _) => 4,
        }
    }

    /// This kind as one bit of a set of kinds.
    pub fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// One dependency, and what justifies it: the key, and the versions (`v1` the source's,
/// `v2` the target's; [`NIL`] for the initial state or none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edge {
    pub from: u32,
    pub to: u32,
    pub kind: EdgeKind,
    pub key: u32,
    pub v1: u32,
    pub v2: u32,
    /// List-append: `v2` is not in the version order any read shows (an append no one
    /// read, placed after the last element read).
    pub unread: bool,
}

/// Edges as they are inferred, before the adjacency is built.
#[derive(Debug, Default, Clone)]
pub struct EdgeList {
    pub edges: Vec<Edge>,
}

impl EdgeList {
    /// Add an edge; an edge from a transaction to itself is no dependency and is dropped.
    pub fn add(&mut self, from: u32, to: u32, kind: EdgeKind, key: u32, v1: u32, v2: u32) {
        if from != to {
            self.edges.push(Edge {
                from,
                to,
                kind,
                key,
                v1,
                v2,
                unread: false,
            });
        }
    }

    /// Add an edge whose target's version no read shows (see [`Edge::unread`]).
    pub fn add_unread(&mut self, from: u32, to: u32, kind: EdgeKind, key: u32, v1: u32, v2: u32) {
        self.add(from, to, kind, key, v1, v2);
        if let Some(e) = self
            .edges
            .last_mut()
            .filter(|e| e.from == from && e.to == to)
        {
            e.unread = true;
        }
    }
}

/// An edge in the adjacency: target, kind, justification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arc {
    pub to: u32,
    pub kind: EdgeKind,
    pub key: u32,
    pub v1: u32,
    pub v2: u32,
    /// See [`Edge::unread`].
    pub unread: bool,
}

/// How many pairs of transactions each kind of edge joins (a pair joined by several kinds
/// counts once, under the kind that names it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct EdgeCounts {
    pub ww: usize,
    pub wr: usize,
    pub rw: usize,
    pub process: usize,
    pub realtime: usize,
}

/// The graph: out-arcs of transaction `t` are `arcs[offsets[t] .. offsets[t + 1]]`, one per
/// target: when several kinds of dependency join the same pair, the one Elle's explainers
/// would name (data before process and real time; among data edges the order of
/// [`EdgeKind::priority`]), with the first justification of that kind.
#[derive(Debug, Clone)]
pub struct Graph {
    pub offsets: Vec<u32>,
    pub arcs: Vec<Arc>,
    pub counts: EdgeCounts,
}

impl Graph {
    /// Build the adjacency of `n` transactions of `kind` from `edges` (counting sort by
    /// source, then one arc kept per target).
    pub fn build(n: usize, kind: super::TxnKind, edges: EdgeList) -> Graph {
        let mut offsets = vec![0u32; n + 1];
        for e in &edges.edges {
            offsets[e.from as usize + 1] += 1;
        }
        for i in 0..n {
            offsets[i + 1] += offsets[i];
        }
        let mut fill = offsets.clone();
        let blank = Arc {
            to: 0,
            kind: EdgeKind::Ww,
            key: 0,
            v1: NIL,
            v2: NIL,
            unread: false,
        };
        let mut arcs = vec![blank; edges.edges.len()];
        for e in edges.edges {
            let slot = &mut fill[e.from as usize];
            arcs[*slot as usize] = Arc {
                to: e.to,
                kind: e.kind,
                key: e.key,
                v1: e.v1,
                v2: e.v2,
                unread: e.unread,
            };
            *slot += 1;
        }
        // One arc per (source, target): the kind of highest priority, its first justification.
        let mut out = 0usize;
        let mut new_offsets = vec![0u32; n + 1];
        let mut counts = EdgeCounts::default();
        for t in 0..n {
            let (s, e) = (offsets[t] as usize, offsets[t + 1] as usize);
            arcs[s..e].sort_by_key(|a| (a.to, a.kind.priority(kind)));
            let mut last: Option<u32> = None;
            for i in s..e {
                let a = arcs[i];
                if last == Some(a.to) {
                    continue;
                }
                last = Some(a.to);
                match a.kind {
                    EdgeKind::Ww => counts.ww += 1,
                    EdgeKind::Wr => counts.wr += 1,
                    EdgeKind::Rw => counts.rw += 1,
                    EdgeKind::Process => counts.process += 1,
                    EdgeKind::Realtime => counts.realtime += 1,
                }
                arcs[out] = a;
                out += 1;
            }
            new_offsets[t + 1] = out as u32;
        }
        arcs.truncate(out);
        arcs.shrink_to_fit();
        Graph {
            offsets: new_offsets,
            arcs,
            counts,
        }
    }

    /// The number of transactions.
    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    /// True when there are no transactions.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The out-arcs of `t`.
    pub fn out(&self, t: u32) -> &[Arc] {
        &self.arcs[self.offsets[t as usize] as usize..self.offsets[t as usize + 1] as usize]
    }

    /// The first arc from `a` to `b` of `kind`, if any.
    pub fn arc(&self, a: u32, b: u32, kind: EdgeKind) -> Option<&Arc> {
        self.out(a).iter().find(|x| x.to == b && x.kind == kind)
    }
}

/// Process order (Elle's process graph): each ok transaction precedes the next ok
/// transaction of the same process.
pub fn process_edges(h: &TxnHistory, edges: &mut EdgeList) {
    let mut last: rustc_hash::FxHashMap<u64, u32> = rustc_hash::FxHashMap::default();
    for (t, txn) in h.txns.iter().enumerate() {
        if txn.outcome != Outcome::Ok {
            continue;
        }
        if let Some(prev) = last.insert(txn.process, t as u32) {
            edges.add(prev, t as u32, EdgeKind::Process, NIL, NIL, NIL);
        }
    }
}

/// Real-time order (Elle's realtime graph), as a transitive reduction built in one pass:
/// walking the events in order, keep the *frontier*, the ok transactions completed so far
/// that no later-completed transaction follows; a transaction invoked now gets an edge from
/// each of them (every earlier completion is reachable through one), and when an ok
/// transaction completes it replaces the frontier members it follows. The frontier never
/// holds more transactions than were running at once, so the cost is linear in the history
/// times the concurrency. Targets are ok and info transactions; failed ones never happened.
pub fn realtime_edges(h: &TxnHistory, edges: &mut EdgeList) {
    let mut frontier: Vec<u32> = Vec::new();
    // The frontier at each ok transaction's invocation: its real-time predecessors.
    let mut preds_at_invoke: rustc_hash::FxHashMap<u32, Vec<u32>> =
        rustc_hash::FxHashMap::default();
    let mut next_completion = 0usize;
    let completions = &h.completion_order;
    let n = h.txns.len();
    let mut t = 0usize;
    while t < n || next_completion < completions.len() {
        let invoke_next = match (t < n, completions.get(next_completion)) {
            (true, Some(&c)) => h.txns[t].invoke_pos < h.txns[c as usize].complete_pos,
            (true, None) => true,
            (false, _) => false,
        };
        if invoke_next {
            let txn = &h.txns[t];
            if txn.outcome != Outcome::Fail {
                for &p in &frontier {
                    edges.add(p, t as u32, EdgeKind::Realtime, NIL, NIL, NIL);
                }
                if txn.outcome == Outcome::Ok {
                    preds_at_invoke.insert(t as u32, frontier.clone());
                }
            }
            t += 1;
        } else {
            let c = completions[next_completion];
            next_completion += 1;
            if h.txns[c as usize].outcome == Outcome::Ok {
                let preds = preds_at_invoke.remove(&c).unwrap_or_default();
                frontier.retain(|f| !preds.contains(f));
                frontier.push(c);
            }
        }
    }
}

/// The strongly connected components with more than one transaction (the graph has no
/// self-edges), each sorted; found by Tarjan's algorithm with an explicit stack, so no
/// recursion depth limit. `comp[t]` is the component of `t` (`u32::MAX`: in none).
pub fn nontrivial_sccs(g: &Graph, mask: u8) -> (Vec<Vec<u32>>, Vec<u32>) {
    let n = g.len();
    const UNSEEN: u32 = u32::MAX;
    let mut index = vec![UNSEEN; n];
    let mut low = vec![0u32; n];
    let mut on_stack = vec![false; n];
    let mut stack: Vec<u32> = Vec::new();
    // (vertex, next arc position)
    let mut call: Vec<(u32, u32)> = Vec::new();
    let mut next_index = 0u32;
    let mut comps: Vec<Vec<u32>> = Vec::new();
    let mut comp = vec![u32::MAX; n];
    for root in 0..n as u32 {
        if index[root as usize] != UNSEEN {
            continue;
        }
        call.push((root, g.offsets[root as usize]));
        index[root as usize] = next_index;
        low[root as usize] = next_index;
        next_index += 1;
        stack.push(root);
        on_stack[root as usize] = true;
        while let Some(&mut (v, ref mut pos)) = call.last_mut() {
            let end = g.offsets[v as usize + 1];
            let mut descended = false;
            while *pos < end {
                let a = g.arcs[*pos as usize];
                *pos += 1;
                if a.kind.bit() & mask == 0 {
                    continue;
                }
                let w = a.to as usize;
                if index[w] == UNSEEN {
                    index[w] = next_index;
                    low[w] = next_index;
                    next_index += 1;
                    stack.push(a.to);
                    on_stack[w] = true;
                    call.push((a.to, g.offsets[w]));
                    descended = true;
                    break;
                } else if on_stack[w] {
                    low[v as usize] = low[v as usize].min(index[w]);
                }
            }
            if descended {
                continue;
            }
            call.pop();
            if let Some(&(parent, _)) = call.last() {
                low[parent as usize] = low[parent as usize].min(low[v as usize]);
            }
            if low[v as usize] == index[v as usize] {
                let mut members = Vec::new();
                loop {
                    let w = stack.pop().unwrap_or(v);
                    on_stack[w as usize] = false;
                    members.push(w);
                    if w == v {
                        break;
                    }
                }
                if members.len() > 1 {
                    members.sort_unstable();
                    let id = comps.len() as u32;
                    for &m in &members {
                        comp[m as usize] = id;
                    }
                    comps.push(members);
                }
            }
        }
    }
    (comps, comp)
}

/// Every kind of edge, as a mask.
pub const ALL_KINDS: u8 = 0b11111;

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(n: usize, edges: &[(u32, u32, EdgeKind)]) -> Graph {
        let mut list = EdgeList::default();
        for &(a, b, k) in edges {
            list.add(a, b, k, 0, NIL, NIL);
        }
        Graph::build(n, super::super::TxnKind::ListAppend, list)
    }

    #[test]
    fn adjacency_keeps_one_arc_per_pair_and_no_self_edges() {
        let g = graph(
            3,
            &[
                (0, 1, EdgeKind::Ww),
                (0, 1, EdgeKind::Ww),
                (0, 1, EdgeKind::Rw),
                (1, 1, EdgeKind::Wr),
                (2, 0, EdgeKind::Realtime),
            ],
        );
        // ww and rw join 0 and 1: ww names the pair, as Elle's explainer would.
        assert_eq!(g.out(0).len(), 1);
        assert!(g.arc(0, 1, EdgeKind::Ww).is_some());
        assert!(g.out(1).is_empty());
        assert_eq!(g.counts.ww, 1);
        assert_eq!(g.counts.rw, 0);
        assert_eq!(g.counts.wr, 0);
        assert_eq!(g.counts.realtime, 1);
    }

    #[test]
    fn tarjan_finds_components_without_recursion() {
        let g = graph(
            5,
            &[
                (0, 1, EdgeKind::Ww),
                (1, 2, EdgeKind::Wr),
                (2, 0, EdgeKind::Rw),
                (2, 3, EdgeKind::Ww),
                (3, 4, EdgeKind::Ww),
            ],
        );
        let (comps, comp) = nontrivial_sccs(&g, ALL_KINDS);
        assert_eq!(comps, vec![vec![0, 1, 2]]);
        assert_eq!(comp[3], u32::MAX);
        // Without rw edges there is no cycle.
        let (comps, _) = nontrivial_sccs(&g, EdgeKind::Ww.bit() | EdgeKind::Wr.bit());
        assert!(comps.is_empty());
        // A long chain closed into a ring: one component, no stack overflow.
        let n = 200_000u32;
        let ring: Vec<(u32, u32, EdgeKind)> =
            (0..n).map(|i| (i, (i + 1) % n, EdgeKind::Ww)).collect();
        let (comps, _) = nontrivial_sccs(&graph(n as usize, &ring), ALL_KINDS);
        assert_eq!(comps.len(), 1);
        assert_eq!(comps[0].len(), n as usize);
    }
}
