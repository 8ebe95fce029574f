//! FIFO and causal order: messages that must be delivered before a message, and reads that
//! deliver a message without them.

use super::{Edge, Found, OrderingMode, Violation, ViolationKind, position};
use crate::broadcast::BroadcastHistory;

/// For each origin node, the messages that become required before anything it broadcasts
/// later, sorted by when they become required: (position, message, evidence read or none).
type Requirements = Vec<Vec<(usize, u32, u32)>>;

const NO_READ: u32 = u32::MAX;

pub(crate) fn check(h: &BroadcastHistory<'_>, mode: OrderingMode, found: &mut Found) {
    let nodes = h.nodes.len();
    // Same origin: acknowledged broadcasts, by acknowledgement.
    let mut fifo: Requirements = vec![Vec::new(); nodes];
    for (m, msg) in h.messages.iter().enumerate() {
        if let (Some(n), Some(ok)) = (msg.origin, msg.first_ok) {
            fifo[n as usize].push((ok, m as u32, NO_READ));
        }
    }
    // Delivered at a node: the first ok read there that contains it, by completion.
    let mut delivered: Requirements = vec![Vec::new(); nodes];
    if mode == OrderingMode::Causal {
        let mut by_completion: Vec<usize> = (0..h.reads.len()).collect();
        by_completion.sort_by_key(|&r| h.reads[r].complete_pos);
        let words = h.values.len().div_ceil(64);
        let mut seen = vec![vec![0u64; words]; nodes];
        for r in by_completion {
            let read = &h.reads[r];
            let Some(n) = read.node else { continue };
            let seen = &mut seen[n as usize];
            for &m in &read.messages {
                let (w, b) = (m as usize / 64, m as usize % 64);
                if seen[w] & (1 << b) == 0 {
                    seen[w] |= 1 << b;
                    delivered[n as usize].push((read.complete_pos, m, r as u32));
                }
            }
        }
    }
    for list in fifo.iter_mut().chain(delivered.iter_mut()) {
        list.sort_unstable();
    }
    let kind = if mode == OrderingMode::Fifo {
        ViolationKind::Fifo
    } else {
        ViolationKind::Causal
    };
    // Compact per-message origin and first invocation, for a cache-friendly scan.
    const NONE: u32 = u32::MAX;
    let origin: Vec<u32> = h
        .messages
        .iter()
        .map(|m| m.origin.unwrap_or(NONE))
        .collect();
    let invoked_at: Vec<usize> = h
        .messages
        .iter()
        .map(|m| m.first_invoke.unwrap_or(usize::MAX))
        .collect();
    // Reads of one node and incarnation usually extend one another, so they are scanned in
    // order of length, each continuing where the previous one (its prefix) stopped: the
    // prefix's messages, marks and pointers are the same, and so is its first violation.
    let mut chains: rustc_hash::FxHashMap<(u32, u32), Vec<usize>> =
        rustc_hash::FxHashMap::default();
    let mut singles = Vec::new();
    for (r, read) in h.reads.iter().enumerate() {
        match read.node {
            Some(n) => chains.entry((n, read.incarnation)).or_default().push(r),
            None => singles.push(vec![r]),
        }
    }
    let mut groups: Vec<Vec<usize>> = chains.into_values().chain(singles).collect();
    groups.sort_unstable();
    let mut marked = vec![u32::MAX; h.values.len()];
    let mut fifo_ptr = vec![0usize; nodes];
    let mut delivered_ptr = vec![0usize; nodes];
    let mut chain_id = 0u32;
    for mut group in groups {
        group.sort_by_key(|&r| (h.reads[r].messages.len(), h.reads[r].invoke_pos));
        let mut prev: Option<usize> = None;
        let mut done = 0usize;
        let mut first_violation: Option<(usize, u32, u32, usize, u32, usize)> = None;
        for r in group {
            let read = &h.reads[r].messages;
            let extends = prev.is_some_and(|p| {
                let before = &h.reads[p].messages;
                before.len() <= read.len() && read[..before.len()] == before[..]
            });
            if !extends {
                chain_id += 1;
                fifo_ptr.fill(0);
                delivered_ptr.fill(0);
                done = 0;
                first_violation = None;
            }
            prev = Some(r);
            if first_violation.is_none() {
                for (j, &m2) in read.iter().enumerate().skip(done) {
                    let m2u = m2 as usize;
                    if marked[m2u] == chain_id {
                        continue; // a duplicate: reported on its own
                    }
                    marked[m2u] = chain_id;
                    let n = origin[m2u];
                    if n == NONE {
                        continue;
                    }
                    let (n, invoked) = (n as usize, invoked_at[m2u]);
                    let mut missing = first_unmarked(&fifo[n], &mut fifo_ptr[n], &marked, chain_id)
                        .filter(|req| req.0 < invoked);
                    if missing.is_none() && mode == OrderingMode::Causal {
                        missing =
                            first_unmarked(&delivered[n], &mut delivered_ptr[n], &marked, chain_id)
                                .filter(|req| req.0 < invoked);
                    }
                    if let Some((at, m1, evidence)) = missing {
                        first_violation = Some((j, m1, m2, at, evidence, invoked));
                        break;
                    }
                }
                done = read.len();
            }
            if let Some((j, m1, m2, at, evidence, invoked)) = first_violation {
                found.add(kind, || {
                    witness(h, r, j, m1, m2, at, evidence, invoked, kind)
                });
            }
        }
    }
}

/// The first requirement not yet delivered in the read's prefix, moving the pointer past
/// the delivered ones.
fn first_unmarked(
    list: &[(usize, u32, u32)],
    ptr: &mut usize,
    marked: &[u32],
    stamp: u32,
) -> Option<(usize, u32, u32)> {
    while let Some(&req) = list.get(*ptr) {
        if marked[req.1 as usize] != stamp {
            return Some(req);
        }
        *ptr += 1;
    }
    None
}

#[allow(clippy::too_many_arguments)]
fn witness(
    h: &BroadcastHistory<'_>,
    r: usize,
    j: usize,
    m1: u32,
    m2: u32,
    at: usize,
    evidence: u32,
    invoked: usize,
    kind: ViolationKind,
) -> Violation {
    let read = &h.reads[r];
    let (v1, v2) = (&h.values[m1 as usize], &h.values[m2 as usize]);
    let origin = h.node_name(h.messages[m2 as usize].origin);
    let reason = if evidence == NO_READ {
        format!(
            "both broadcast at {origin}; the broadcast of {v1} was acknowledged at event {} before the broadcast of {v2} was invoked at event {}",
            h.index_at(at),
            h.index_at(invoked)
        )
    } else {
        format!(
            "{origin} delivered {v1} (its {} returned it) before the broadcast of {v2} was invoked there at event {}",
            h.read_ref(&h.reads[evidence as usize]),
            h.index_at(invoked)
        )
    };
    let earlier_position = position(&read.messages[j..], m1).map(|p| p + j);
    let placement = match earlier_position {
        Some(p) => format!("only later, at position {p}"),
        None => "not at all".to_owned(),
    };
    Violation {
        kind,
        read: h.read_ref(read),
        earlier: v1.clone(),
        earlier_position,
        later: v2.clone(),
        later_position: j,
        other_read: None,
        chain: vec![Edge {
            from: v1.clone(),
            to: v2.clone(),
            reason,
        }],
        why: format!(
            "{v1} happens before {v2}, but this read delivers {v2} at position {j} and {v1} {placement}"
        ),
    }
}
