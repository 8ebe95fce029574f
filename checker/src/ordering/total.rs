//! Total order: every read is a prefix of one common order, the longest read's.

use super::{Found, Violation, ViolationKind, position};
use crate::broadcast::BroadcastHistory;

pub(crate) fn check(h: &BroadcastHistory<'_>, found: &mut Found) {
    let Some(reference) =
        (0..h.reads.len()).max_by_key(|&r| (h.reads[r].messages.len(), std::cmp::Reverse(r)))
    else {
        return;
    };
    let common = &h.reads[reference].messages;
    let mut pos_in_common = vec![u32::MAX; h.values.len()];
    for (i, &m) in common.iter().enumerate().rev() {
        pos_in_common[m as usize] = i as u32;
    }
    for (r, read) in h.reads.iter().enumerate() {
        let s = &read.messages;
        if r == reference || common[..s.len()] == s[..] {
            continue;
        }
        let k = s.iter().zip(common).position(|(x, y)| x != y).unwrap_or(0);
        let (mine, theirs) = (s[k], common[k]);
        let mine_in_common = pos_in_common[mine as usize];
        let theirs_here = position(s, theirs);
        let (v_mine, v_theirs) = (&h.values[mine as usize], &h.values[theirs as usize]);
        let why = match (mine_in_common, theirs_here) {
            (p, Some(q)) if p != u32::MAX => format!(
                "the two reads order {v_mine} and {v_theirs} differently: this one has {v_theirs} at {q} after {v_mine} at {k}, the other {v_theirs} at {k} before {v_mine} at {p}"
            ),
            (u32::MAX, _) => format!(
                "at position {k} this read delivered {v_mine}, which the other (longer) read never delivered; it delivered {v_theirs} there"
            ),
            _ => format!(
                "at position {k} this read delivered {v_mine} without {v_theirs}, which the other read delivered before it"
            ),
        };
        found.add(ViolationKind::Total, || Violation {
            kind: ViolationKind::Total,
            read: h.read_ref(read),
            earlier: v_theirs.clone(),
            earlier_position: theirs_here,
            later: v_mine.clone(),
            later_position: k,
            other_read: Some(h.read_ref(&h.reads[reference])),
            chain: Vec::new(),
            why,
        });
    }
}
