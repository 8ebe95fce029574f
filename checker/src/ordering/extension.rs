//! A node's later reads extend its earlier ones, within one incarnation: a node delivers
//! append-only, so any two of its reads are prefixes of one another, and a read invoked
//! after another completed is at least as long.

use rustc_hash::FxHashMap;

use super::{Found, Violation, ViolationKind};
use crate::broadcast::BroadcastHistory;

pub(crate) fn check(h: &BroadcastHistory<'_>, found: &mut Found) {
    let mut groups: FxHashMap<(u32, u32), Vec<usize>> = FxHashMap::default();
    for (r, read) in h.reads.iter().enumerate() {
        if let Some(node) = read.node {
            groups.entry((node, read.incarnation)).or_default().push(r);
        }
    }
    let mut keys: Vec<(u32, u32)> = groups.keys().copied().collect();
    keys.sort_unstable();
    for key in keys {
        let group = &groups[&key];
        let reads = &h.reads;
        // Pairwise comparable: sorted by length, each a prefix of the next.
        let mut by_len = group.clone();
        by_len.sort_by_key(|&r| (reads[r].messages.len(), reads[r].invoke_pos));
        let mut comparable = true;
        for pair in by_len.windows(2) {
            let (a, b) = (&reads[pair[0]], &reads[pair[1]]);
            if b.messages[..a.messages.len()] != a.messages[..] {
                comparable = false;
                let k = a
                    .messages
                    .iter()
                    .zip(&b.messages)
                    .position(|(x, y)| x != y)
                    .unwrap_or(0);
                let (first, second) = if a.complete_pos < b.complete_pos {
                    (a, b)
                } else {
                    (b, a)
                };
                found.add(ViolationKind::Extension, || Violation {
                    kind: ViolationKind::Extension,
                    read: h.read_ref(second),
                    earlier: h.values[first.messages[k] as usize].clone(),
                    earlier_position: super::position(&second.messages, first.messages[k]),
                    later: h.values[second.messages[k] as usize].clone(),
                    later_position: k,
                    other_read: Some(h.read_ref(first)),
                    chain: Vec::new(),
                    why: format!(
                        "two reads of one node are not prefixes of one another: at position {k} one delivered {}, the other {}",
                        h.values[first.messages[k] as usize], h.values[second.messages[k] as usize]
                    ),
                });
                break;
            }
        }
        if !comparable {
            continue;
        }
        // Real time: the longest read completed before each invocation is not longer.
        let mut by_invoke = group.clone();
        by_invoke.sort_by_key(|&r| reads[r].invoke_pos);
        let mut by_complete = group.clone();
        by_complete.sort_by_key(|&r| reads[r].complete_pos);
        let mut longest: Option<usize> = None;
        let mut c = 0;
        for &b in &by_invoke {
            while c < by_complete.len() && reads[by_complete[c]].complete_pos < reads[b].invoke_pos
            {
                let a = by_complete[c];
                if longest.is_none_or(|l| reads[a].messages.len() > reads[l].messages.len()) {
                    longest = Some(a);
                }
                c += 1;
            }
            if let Some(a) = longest
                && reads[a].messages.len() > reads[b].messages.len()
            {
                let (ra, rb) = (&reads[a], &reads[b]);
                let k = rb.messages.len();
                found.add(ViolationKind::Extension, || Violation {
                    kind: ViolationKind::Extension,
                    read: h.read_ref(rb),
                    earlier: h.values[ra.messages[k] as usize].clone(),
                    earlier_position: None,
                    later: serde_json::Value::Null,
                    later_position: k,
                    other_read: Some(h.read_ref(ra)),
                    chain: Vec::new(),
                    why: format!(
                        "this read began after the other completed, yet it ends at position {k}, lacking {} which the node had already delivered",
                        h.values[ra.messages[k] as usize]
                    ),
                });
                break;
            }
        }
    }
}
