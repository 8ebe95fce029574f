//! The anomalies the isolation checker names, as Elle names them, and which anomaly implies
//! which (Elle's `implied-anomalies`: finding G0 is also finding G1c, because Adya defines G1
//! as the union of G1a, G1b and G1c, and a G0 cycle is a trivial G1c cycle).
//!
//! Cycle anomalies are Adya's ("Weak Consistency", 1999, section 4): G0 (write cycles), G1c
//! (circular information flow), G-single (one anti-dependency), G2-item (anti-dependency
//! cycles over items), with Elle's `-item` spelling for cycles whose read-write edges are all
//! item (not predicate) dependencies, and its `-process` / `-realtime` variants (Adya's PL-SS
//! and the session orders of Daudjee and Salem) for cycles that need a process or real-time
//! edge.

use std::collections::BTreeSet;

crate::named_enum! {
    /// An anomaly, by Elle's name.
    #[derive(Hash, PartialOrd, Ord)]
    pub enum Anomaly: "anomaly" {
        /// Write cycle: ww edges only (Adya G0).
        G0 = "G0",
        /// G0 with a process-order edge.
        G0Process = "G0-process",
        /// G0 with a real-time edge.
        G0Realtime = "G0-realtime",
        /// Aborted read: a committed txn read a failed txn's write (Adya G1a).
        G1a = "G1a",
        /// Intermediate read: a txn read a state another txn later overwrote itself (Adya G1b).
        G1b = "G1b",
        /// Circular information flow: ww and wr edges, at least one wr (Adya G1c).
        G1c = "G1c",
        /// G1c with a process-order edge.
        G1cProcess = "G1c-process",
        /// G1c with a real-time edge.
        G1cRealtime = "G1c-realtime",
        /// Any of G1a, G1b, G1c (Adya G1).
        G1 = "G1",
        /// G1 in process order.
        G1Process = "G1-process",
        /// G1 in real-time order.
        G1Realtime = "G1-realtime",
        /// A cycle with exactly one read-write edge, over items (Adya G-single).
        GSingleItem = "G-single-item",
        /// G-single-item with a process-order edge.
        GSingleItemProcess = "G-single-item-process",
        /// G-single-item with a real-time edge.
        GSingleItemRealtime = "G-single-item-realtime",
        /// A cycle with exactly one read-write edge, predicates included.
        GSingle = "G-single",
        /// G-single with a process-order edge.
        GSingleProcess = "G-single-process",
        /// G-single with a real-time edge.
        GSingleRealtime = "G-single-realtime",
        /// A cycle with several read-write edges, no two adjacent, over items.
        GNonadjacentItem = "G-nonadjacent-item",
        /// G-nonadjacent-item with a process-order edge.
        GNonadjacentItemProcess = "G-nonadjacent-item-process",
        /// G-nonadjacent-item with a real-time edge.
        GNonadjacentItemRealtime = "G-nonadjacent-item-realtime",
        /// A cycle with several read-write edges, no two adjacent.
        GNonadjacent = "G-nonadjacent",
        /// G-nonadjacent with a process-order edge.
        GNonadjacentProcess = "G-nonadjacent-process",
        /// G-nonadjacent with a real-time edge.
        GNonadjacentRealtime = "G-nonadjacent-realtime",
        /// An anti-dependency cycle over items: two or more rw edges (Adya G2-item).
        G2Item = "G2-item",
        /// G2-item with a process-order edge.
        G2ItemProcess = "G2-item-process",
        /// G2-item with a real-time edge.
        G2ItemRealtime = "G2-item-realtime",
        /// An anti-dependency cycle, predicates included (Adya G2).
        G2 = "G2",
        /// G2 with a process-order edge.
        G2Process = "G2-process",
        /// G2 with a real-time edge.
        G2Realtime = "G2-realtime",
        /// Adya's G-SIa (Elle's spelling).
        GSIa = "GSIa",
        /// Adya's G-SIb (Elle's spelling).
        GSIb = "GSIb",
        /// Adya's G-SI (Elle's spelling).
        GSI = "GSI",
        /// Adya's G-SI, as the model table spells it.
        GDashSI = "G-SI",
        /// Adya's G-SIb, as the model table spells it.
        GDashSIb = "G-SIb",
        /// Adya's G-cursor.
        GCursor = "G-cursor",
        /// Adya's G-monotonic.
        GMonotonic = "G-monotonic",
        /// Adya's G-MSR.
        GMsr = "G-MSR",
        /// Adya's G-update.
        GUpdate = "G-update",
        /// Two reads of a key neither of which is a prefix of the other.
        IncompatibleOrder = "incompatible-order",
        /// A txn read a value it writes only later.
        FutureRead = "future-read",
        /// A committed write over a failed txn's write in the version order.
        DirtyUpdate = "dirty-update",
        /// Two committed txns read the same version of a key and both wrote it.
        LostUpdate = "lost-update",
        /// Write skew.
        WriteSkew = "write-skew",
        /// A txn's read disagrees with its own earlier reads and writes of the key.
        Internal = "internal",
        /// A read of a list holds some element more than once.
        DuplicateElements = "duplicate-elements",
        /// The version order inferred for a register key has a cycle.
        CyclicVersions = "cyclic-versions",
        /// A predicate read missed a version.
        PredicateReadMiss = "predicate-read-miss",
        /// A read returned a value no txn wrote (not one of Elle's names: ours).
        GarbageRead = "garbage-read",
        /// No dependency edge at all: nothing can be said.
        EmptyTransactionGraph = "empty-transaction-graph",
        /// The cycle search ran out of its budget in some component.
        CycleSearchTimeout = "cycle-search-timeout",
    }
}

use Anomaly::*;

/// Elle's `implied-anomalies`: each anomaly and the anomalies its presence implies.
const IMPLIES: &[(Anomaly, &[Anomaly])] = &[
    (G0, &[G1c, G0Process]),
    (G0Process, &[G1cProcess, G0Realtime]),
    (G0Realtime, &[G1cRealtime]),
    (G1a, &[G1]),
    (G1b, &[G1]),
    (G1c, &[G1, G1cProcess]),
    (G1cProcess, &[G1cRealtime, G1Process]),
    (G1cRealtime, &[G1Realtime]),
    (G1, &[G1Process]),
    (G1Process, &[G1Realtime]),
    (
        GSingleItem,
        &[GSingle, GSingleItemProcess, GNonadjacentItem],
    ),
    (
        GSingleItemProcess,
        &[GSingleProcess, GSingleItemRealtime, GNonadjacentItemProcess],
    ),
    (
        GSingleItemRealtime,
        &[GSingleRealtime, GNonadjacentItemRealtime],
    ),
    (GSingle, &[GNonadjacent, GSIb, GSingleProcess]),
    (GSingleProcess, &[GNonadjacentProcess, GSingleRealtime]),
    (GSingleRealtime, &[GNonadjacentRealtime]),
    (
        GNonadjacentItem,
        &[GNonadjacent, G2Item, GNonadjacentItemProcess],
    ),
    (
        GNonadjacentItemProcess,
        &[GNonadjacentProcess, G2ItemProcess, GNonadjacentItemRealtime],
    ),
    (
        GNonadjacentItemRealtime,
        &[G2ItemRealtime, GNonadjacentRealtime],
    ),
    (GNonadjacent, &[G2, GNonadjacentProcess]),
    (GNonadjacentProcess, &[G2Process, GNonadjacentRealtime]),
    (GNonadjacentRealtime, &[G2Realtime]),
    (G2, &[G2Process]),
    (G2Item, &[G2, G2ItemProcess]),
    (G2ItemProcess, &[G2Process, G2ItemRealtime]),
    (G2ItemRealtime, &[G2Realtime]),
    (G2Process, &[G2Realtime]),
    (GSIa, &[GSI]),
    (GSIb, &[GSI]),
    (IncompatibleOrder, &[G1a]),
    (FutureRead, &[G1c]),
    (DirtyUpdate, &[G1a]),
    (LostUpdate, &[WriteSkew, G2Item]),
    (WriteSkew, &[G2]),
];

/// The anomalies `a` directly implies.
fn implied_by(a: Anomaly) -> &'static [Anomaly] {
    IMPLIES
        .iter()
        .find(|(x, _)| *x == a)
        .map_or(&[], |(_, to)| to)
}

/// `anomalies` and every anomaly they imply, transitively (Elle's `all-implied-anomalies`).
pub fn all_implied(anomalies: impl IntoIterator<Item = Anomaly>) -> BTreeSet<Anomaly> {
    let mut seen = BTreeSet::new();
    let mut stack: Vec<Anomaly> = anomalies.into_iter().collect();
    while let Some(a) = stack.pop() {
        if seen.insert(a) {
            stack.extend_from_slice(implied_by(a));
        }
    }
    seen
}

/// `anomalies` and every anomaly that implies one of them, transitively (Elle's
/// `all-anomalies-implying`): looking for G1 means looking for G1a, G1b, G1c and G0 too.
pub fn all_implying(anomalies: impl IntoIterator<Item = Anomaly>) -> BTreeSet<Anomaly> {
    let mut seen = BTreeSet::new();
    let mut stack: Vec<Anomaly> = anomalies.into_iter().collect();
    while let Some(a) = stack.pop() {
        if seen.insert(a) {
            for (from, to) in IMPLIES {
                if to.contains(&a) {
                    stack.push(*from);
                }
            }
        }
    }
    seen
}

impl Anomaly {
    /// True for the anomalies that make a verdict unknown rather than invalid (Elle's
    /// `unknown-anomaly-types`).
    pub fn is_unknown(self) -> bool {
        matches!(self, EmptyTransactionGraph | CycleSearchTimeout)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g0_implies_g1c_and_g1_and_their_variants() {
        let implied = all_implied([G0]);
        for a in [G0, G1c, G1, G0Process, G0Realtime, G1cRealtime, G1Realtime] {
            assert!(implied.contains(&a), "{a}");
        }
        assert!(!implied.contains(&G2Item));
        assert!(!implied.contains(&G1a));
    }

    #[test]
    fn g1_is_implied_by_each_of_its_parts() {
        let implying = all_implying([G1]);
        for a in [
            G1a,
            G1b,
            G1c,
            G0,
            IncompatibleOrder,
            DirtyUpdate,
            FutureRead,
        ] {
            assert!(implying.contains(&a), "{a}");
        }
        assert!(!implying.contains(&G1cRealtime));
        assert!(all_implying([G2]).contains(&GSingleItem));
        assert!(all_implying([G2]).contains(&LostUpdate));
    }
}
