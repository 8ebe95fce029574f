//! The consistency models `--consistency-models` names, as Elle spells them.
//!
//! Every name Elle accepts is here, friendly (`serializable`) and canonical (`PL-3`) alike;
//! several names are one model ([`ConsistencyModel::canonical`]).
//!
//! Elle's model lattice is here too ([`IMPLIES`]: a history that meets a model meets every
//! model it implies, after <https://jepsen.io/consistency> and the sources Elle cites: Adya,
//! Bailis et al., Cerone et al., Daudjee and Salem), the anomalies each model proscribes
//! directly ([`PROSCRIBES`]), and from them the two questions the checker asks: which
//! anomalies make a history fail a set of models ([`anomalies_prohibited_by`]), and which
//! models a set of anomalies rules out ([`boundary`]: `not`, the weakest, and `also_not`).

use std::collections::BTreeSet;

use super::anomaly::{Anomaly, all_implied, all_implying};

crate::named_enum! {
    /// A consistency model, by one of the names Elle accepts.
    #[derive(Hash, PartialOrd, Ord)]
    pub enum ConsistencyModel: "consistency model" {
        /// Cerone's causal consistency for transactions.
        CausalCerone = "causal-cerone",
        /// Read atomic (Cerone): atomic visibility.
        ReadAtomic = "read-atomic",
        /// Adya's PL-2+.
        ConsistentView = "consistent-view",
        /// Adya's PL-3 (serializable, as Elle defines it).
        ConflictSerializable = "conflict-serializable",
        /// View serializability (Bernstein).
        ViewSerializable = "view-serializable",
        /// Adya's PL-CS.
        CursorStability = "cursor-stability",
        /// Adya's PL-FCV.
        ForwardConsistentView = "forward-consistent-view",
        /// Adya's PL-MSR.
        MonotonicSnapshotRead = "monotonic-snapshot-read",
        /// Adya's PL-2L.
        MonotonicView = "monotonic-view",
        /// Adya's PL-2: no G0, G1a, G1b, G1c.
        ReadCommitted = "read-committed",
        /// Adya's PL-1: no G0.
        ReadUncommitted = "read-uncommitted",
        /// Adya's PL-2.99.
        RepeatableRead = "repeatable-read",
        /// Serializable: Adya's PL-3, no G0, G1 or G2.
        Serializable = "serializable",
        /// Adya's PL-SI.
        SnapshotIsolation = "snapshot-isolation",
        /// Serializable in real-time order: Adya's PL-SS.
        StrictSerializable = "strict-serializable",
        /// Another name of strict-serializable (PL-SS).
        StrongSerializable = "strong-serializable",
        /// Adya's PL-3U.
        UpdateSerializable = "update-serializable",
        /// Read uncommitted, and in process order.
        StrongSessionReadUncommitted = "strong-session-read-uncommitted",
        /// Read committed, and in process order.
        StrongSessionReadCommitted = "strong-session-read-committed",
        /// Read uncommitted, and in real-time order.
        StrongReadUncommitted = "strong-read-uncommitted",
        /// Read committed, and in real-time order.
        StrongReadCommitted = "strong-read-committed",
        /// Adya's PL-1 (read uncommitted).
        Pl1 = "PL-1",
        /// Adya's PL-2 (read committed).
        Pl2 = "PL-2",
        /// Adya's PL-2+ (consistent view).
        Pl2Plus = "PL-2+",
        /// Adya's PL-2L (monotonic view).
        Pl2L = "PL-2L",
        /// Adya's PL-2.99 (repeatable read).
        Pl299 = "PL-2.99",
        /// Adya's PL-3 (serializable).
        Pl3 = "PL-3",
        /// Adya's PL-3U (update serializable).
        Pl3U = "PL-3U",
        /// Adya's PL-CS (cursor stability).
        PlCs = "PL-CS",
        /// Adya's PL-FCV (forward consistent view).
        PlFcv = "PL-FCV",
        /// Adya's PL-MSR (monotonic snapshot read).
        PlMsr = "PL-MSR",
        /// Adya's PL-SI (snapshot isolation).
        PlSi = "PL-SI",
        /// Adya's PL-SS (strict serializable).
        PlSs = "PL-SS",
        /// Monotonic atomic view (Bailis).
        MonotonicAtomicView = "monotonic-atomic-view",
        /// Parallel snapshot isolation (Cerone).
        ParallelSnapshotIsolation = "parallel-snapshot-isolation",
        /// Update atomic (Cerone).
        UpdateAtomic = "update-atomic",
        /// Prefix consistency (Cerone).
        Prefix = "prefix",
        /// Session serializability (Zuikeviciute).
        SessionSerializable = "session-serializable",
        /// One-copy serializability.
        OneSr = "1SR",
        /// Strong session serializable: serializable in process order.
        StrongSessionSerializable = "strong-session-serializable",
        /// Strong session snapshot isolation: snapshot isolation in process order.
        StrongSessionSnapshotIsolation = "strong-session-snapshot-isolation",
        /// Strong snapshot isolation: snapshot isolation in real-time order.
        StrongSnapshotIsolation = "strong-snapshot-isolation",
        /// Strong session PL-1.
        StrongSessionPl1 = "strong-session-PL-1",
        /// Strong session PL-2.
        StrongSessionPl2 = "strong-session-PL-2",
        /// Strong PL-1.
        StrongPl1 = "strong-PL-1",
        /// Strong PL-2.
        StrongPl2 = "strong-PL-2",
        /// Linearizable (single-object).
        Linearizable = "linearizable",
        /// Sequential consistency (single-object).
        Sequential = "sequential",
        /// Causal consistency (single-object).
        Causal = "causal",
        /// Writes follow reads (session guarantee).
        WritesFollowReads = "writes-follow-reads",
        /// Pipelined RAM.
        Pram = "PRAM",
        /// Monotonic reads (session guarantee).
        MonotonicReads = "monotonic-reads",
        /// Monotonic writes (session guarantee).
        MonotonicWrites = "monotonic-writes",
        /// Read your writes (session guarantee).
        ReadYourWrites = "read-your-writes",
    }
}

/// The model Maelstrom checks when `--consistency-models` is not given.
pub const DEFAULT_MODEL: ConsistencyModel = ConsistencyModel::StrictSerializable;

/// Parse a `--consistency-models` value: names separated by commas and/or whitespace
/// (Maelstrom's own parser wants `a , b`; both that and `a,b` are read here). Keywords may
/// keep Clojure's colon (`:serializable`).
pub fn parse_models(text: &str) -> Result<Vec<ConsistencyModel>, String> {
    let mut models = Vec::new();
    for word in text.split(|c: char| c == ',' || c.is_whitespace()) {
        let word = word.trim_start_matches(':');
        if word.is_empty() {
            continue;
        }
        let model: ConsistencyModel = word.parse().map_err(|e| format!("{e}"))?;
        if !models.contains(&model) {
            models.push(model);
        }
    }
    if models.is_empty() {
        return Err(format!(
            "no consistency model in {text:?}; give one or more, such as serializable"
        ));
    }
    Ok(models)
}

use ConsistencyModel as M;

impl ConsistencyModel {
    /// The canonical name of this model (Elle's `canonical-model-names`): `serializable` is
    /// `PL-3`, `strict-serializable` is `PL-SS`, and so on; other models are their own.
    pub fn canonical(self) -> ConsistencyModel {
        match self {
            M::ConsistentView => M::Pl2Plus,
            M::ConflictSerializable | M::Serializable => M::Pl3,
            M::CursorStability => M::PlCs,
            M::ForwardConsistentView => M::PlFcv,
            M::MonotonicSnapshotRead => M::PlMsr,
            M::MonotonicView => M::Pl2L,
            M::ReadCommitted => M::Pl2,
            M::ReadUncommitted => M::Pl1,
            M::RepeatableRead => M::Pl299,
            M::SnapshotIsolation => M::PlSi,
            M::StrictSerializable | M::StrongSerializable => M::PlSs,
            M::UpdateSerializable => M::Pl3U,
            M::StrongSessionReadUncommitted => M::StrongSessionPl1,
            M::StrongSessionReadCommitted => M::StrongSessionPl2,
            M::StrongReadUncommitted => M::StrongPl1,
            M::StrongReadCommitted => M::StrongPl2,
            m => m,
        }
    }

    /// The friendly name of a canonical model, as Elle reports ruled-out models
    /// (`friendly-model-names`: `PL-3` is `serializable`, `PL-SS` `strong-serializable`).
    pub fn friendly(self) -> ConsistencyModel {
        match self.canonical() {
            M::Pl2Plus => M::ConsistentView,
            M::Pl3 => M::Serializable,
            M::PlCs => M::CursorStability,
            M::PlFcv => M::ForwardConsistentView,
            M::PlMsr => M::MonotonicSnapshotRead,
            M::Pl2L => M::MonotonicView,
            M::Pl2 => M::ReadCommitted,
            M::Pl1 => M::ReadUncommitted,
            M::Pl299 => M::RepeatableRead,
            M::PlSi => M::SnapshotIsolation,
            M::PlSs => M::StrongSerializable,
            M::Pl3U => M::UpdateSerializable,
            M::StrongSessionPl1 => M::StrongSessionReadUncommitted,
            M::StrongSessionPl2 => M::StrongSessionReadCommitted,
            M::StrongPl1 => M::StrongReadUncommitted,
            M::StrongPl2 => M::StrongReadCommitted,
            m => m,
        }
    }
}

/// Elle's `models` graph, on canonical models: a history that meets the model on the left
/// meets each model on the right.
pub const IMPLIES: &[(ConsistencyModel, &[ConsistencyModel])] = &[
    (M::CausalCerone, &[M::ReadAtomic]),
    (M::Pl2Plus, &[M::PlCs, M::Pl2L]),
    (M::Pl3, &[M::ViewSerializable, M::Pl299, M::Pl3U, M::PlSi]),
    (M::PlCs, &[M::Pl2]),
    (M::PlFcv, &[M::Pl2Plus]),
    (M::Pl2, &[M::Pl1]),
    (M::Pl3U, &[M::PlFcv]),
    (M::MonotonicAtomicView, &[M::Pl2]),
    (M::Pl2L, &[M::Pl2]),
    (M::PlMsr, &[M::Pl2]),
    (
        M::ParallelSnapshotIsolation,
        &[M::CausalCerone, M::UpdateAtomic],
    ),
    (M::Prefix, &[M::CausalCerone]),
    (M::ReadAtomic, &[M::MonotonicAtomicView]),
    (M::Pl299, &[M::PlCs, M::MonotonicAtomicView]),
    (M::UpdateAtomic, &[M::ReadAtomic]),
    (M::SessionSerializable, &[M::OneSr]),
    (
        M::PlSi,
        &[
            M::PlFcv,
            M::MonotonicAtomicView,
            M::PlMsr,
            M::ParallelSnapshotIsolation,
            M::Prefix,
        ],
    ),
    (
        M::PlSs,
        &[
            M::Pl3,
            M::Linearizable,
            M::PlSi,
            M::StrongSnapshotIsolation,
            M::StrongSessionSerializable,
            M::SessionSerializable,
        ],
    ),
    (M::StrongSessionPl1, &[M::Pl1]),
    (M::StrongSessionPl2, &[M::Pl2, M::StrongSessionPl1]),
    (M::StrongPl1, &[M::StrongSessionPl1]),
    (M::StrongPl2, &[M::StrongSessionPl2, M::StrongPl1]),
    (
        M::StrongSessionSerializable,
        &[M::Pl3, M::StrongSessionSnapshotIsolation],
    ),
    (
        M::StrongSessionSnapshotIsolation,
        &[M::PlSi, M::StrongSessionPl2],
    ),
    (
        M::StrongSnapshotIsolation,
        &[M::StrongSessionSnapshotIsolation, M::StrongPl2],
    ),
    (M::Linearizable, &[M::Sequential]),
    (M::Sequential, &[M::Causal]),
    (M::Causal, &[M::WritesFollowReads, M::Pram]),
    (
        M::Pram,
        &[M::MonotonicReads, M::MonotonicWrites, M::ReadYourWrites],
    ),
];

/// Elle's `direct-proscribed-anomalies`, on canonical models: the anomalies each model rules
/// out beyond those of the models it implies. (Elle's `*-cycle-exists` fallbacks are left
/// out: this checker reports a cycle, or `cycle-search-timeout`.)
pub const PROSCRIBES: &[(ConsistencyModel, &[Anomaly])] = {
    use Anomaly::*;
    &[
        (M::CausalCerone, &[Internal, G1a]),
        (M::PlCs, &[G1, GCursor, LostUpdate]),
        (M::Pl2L, &[G1, GMonotonic]),
        (M::PlMsr, &[G1, GMsr]),
        (M::Pl2Plus, &[G1, GSingle]),
        (M::PlFcv, &[G1, GDashSIb]),
        (M::ParallelSnapshotIsolation, &[Internal, G1a]),
        (M::Pl3, &[G1, G2, PredicateReadMiss, Internal]),
        (M::Pl2, &[G1]),
        (M::Pl1, &[G0, DuplicateElements, CyclicVersions]),
        (M::Prefix, &[Internal, G1a]),
        (M::PlSi, &[Internal, G1, GDashSI, GNonadjacent]),
        (M::ReadAtomic, &[Internal, G1a, FutureRead]),
        (M::Pl299, &[G1, G2Item, LostUpdate]),
        (M::UpdateAtomic, &[LostUpdate]),
        (M::PlSs, &[G1, G1cRealtime, G2Realtime]),
        (M::StrongSessionPl1, &[G0Process]),
        (M::StrongSessionPl2, &[G1cProcess]),
        (M::StrongPl1, &[G0Realtime]),
        (M::StrongPl2, &[G1cRealtime]),
        (
            M::StrongSessionSnapshotIsolation,
            &[Internal, G1Process, GNonadjacentProcess],
        ),
        (
            M::StrongSnapshotIsolation,
            &[Internal, G1Realtime, GNonadjacentRealtime],
        ),
        (M::StrongSessionSerializable, &[G1Process, G2Process]),
        (M::Pl3U, &[G1, GUpdate]),
    ]
};

/// The models `m` implies directly.
fn implies(m: ConsistencyModel) -> impl Iterator<Item = ConsistencyModel> {
    IMPLIES
        .iter()
        .filter(move |(from, _)| *from == m)
        .flat_map(|(_, to)| to.iter().copied())
}

/// The models that imply `m` directly.
fn implied_by(m: ConsistencyModel) -> impl Iterator<Item = ConsistencyModel> {
    IMPLIES
        .iter()
        .filter(move |(_, to)| to.contains(&m))
        .map(|(from, _)| *from)
}

/// Every model reachable from `start` by `step`, `start` included (canonical names).
fn reach<I: Iterator<Item = ConsistencyModel>>(
    start: impl IntoIterator<Item = ConsistencyModel>,
    step: impl Fn(ConsistencyModel) -> I,
) -> BTreeSet<ConsistencyModel> {
    let mut seen = BTreeSet::new();
    let mut stack: Vec<ConsistencyModel> = start.into_iter().map(M::canonical).collect();
    while let Some(m) = stack.pop() {
        if seen.insert(m) {
            stack.extend(step(m));
        }
    }
    seen
}

/// `models` and every model they imply (Elle's `all-implied-models`), canonical.
pub fn all_implied_models(
    models: impl IntoIterator<Item = ConsistencyModel>,
) -> BTreeSet<ConsistencyModel> {
    reach(models, implies)
}

/// `models` and every model that implies one of them (Elle's `all-impossible-models`: if a
/// model cannot hold, neither can any stronger one), canonical.
pub fn all_stronger_models(
    models: impl IntoIterator<Item = ConsistencyModel>,
) -> BTreeSet<ConsistencyModel> {
    reach(models, implied_by)
}

/// The anomalies whose presence means `models` do not all hold (Elle's
/// `anomalies-prohibited-by`): what the models and the models they imply proscribe, and
/// every anomaly that implies one of those.
pub fn anomalies_prohibited_by(
    models: impl IntoIterator<Item = ConsistencyModel>,
) -> BTreeSet<Anomaly> {
    let direct = all_implied_models(models).into_iter().flat_map(|m| {
        PROSCRIBES
            .iter()
            .filter(move |(x, _)| *x == m)
            .flat_map(|(_, a)| a.iter().copied())
    });
    all_implying(direct)
}

/// The models `anomalies` rule out (Elle's `anomalies->impossible-models`), canonical.
pub fn impossible_models(
    anomalies: impl IntoIterator<Item = Anomaly>,
) -> BTreeSet<ConsistencyModel> {
    let implied = all_implied(anomalies);
    let direct = PROSCRIBES
        .iter()
        .filter(|(_, a)| a.iter().any(|x| implied.contains(x)))
        .map(|(m, _)| *m);
    all_stronger_models(direct)
}

/// Of `models`, those that imply none of the others: the weakest (Elle's `weakest-models`).
pub fn weakest_models(models: &BTreeSet<ConsistencyModel>) -> BTreeSet<ConsistencyModel> {
    outermost(models, all_implied_models)
}

/// Of `models`, those no other implies: the strongest (Elle's `strongest-models`).
pub fn strongest_models(models: &BTreeSet<ConsistencyModel>) -> BTreeSet<ConsistencyModel> {
    outermost(models, all_stronger_models)
}

/// Of `models` (canonical names), those none of whose `beyond` models (all those it implies,
/// or all that imply it) is another of them.
fn outermost(
    models: &BTreeSet<ConsistencyModel>,
    beyond: fn([ConsistencyModel; 1]) -> BTreeSet<ConsistencyModel>,
) -> BTreeSet<ConsistencyModel> {
    let canon: BTreeSet<ConsistencyModel> = models.iter().map(|m| m.canonical()).collect();
    canon
        .iter()
        .copied()
        .filter(|&m| {
            let past = beyond([m]);
            !canon.iter().any(|&o| o != m && past.contains(&o))
        })
        .collect()
}

/// The models a set of anomalies rules out, as Elle reports them (`friendly-boundary`):
/// `not`, the weakest models ruled out, and `also_not`, every other model ruled out; friendly
/// names, sorted by name.
pub fn boundary(anomalies: impl IntoIterator<Item = Anomaly>) -> (Vec<String>, Vec<String>) {
    let impossible = impossible_models(anomalies);
    let not = weakest_models(&impossible);
    let names = |set: &mut dyn Iterator<Item = ConsistencyModel>| -> Vec<String> {
        let names: BTreeSet<&'static str> = set.map(|m| m.friendly().name()).collect();
        names.into_iter().map(str::to_owned).collect()
    };
    let also: Vec<ConsistencyModel> = impossible
        .iter()
        .copied()
        .filter(|m| !not.contains(m))
        .collect();
    (
        names(&mut not.iter().copied()),
        names(&mut also.into_iter()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_with_commas_spaces_and_colons() {
        assert_eq!(
            parse_models("read-committed , :serializable,PL-SI").unwrap(),
            [
                ConsistencyModel::ReadCommitted,
                ConsistencyModel::Serializable,
                ConsistencyModel::PlSi
            ]
        );
        let err = parse_models("serialisable").unwrap_err();
        assert!(
            err.contains("unknown consistency model \"serialisable\""),
            "{err}"
        );
        assert!(parse_models(" , ").is_err());
    }

    fn friendly(set: BTreeSet<ConsistencyModel>) -> BTreeSet<&'static str> {
        set.into_iter().map(|m| m.friendly().name()).collect()
    }

    fn set(models: &[ConsistencyModel]) -> BTreeSet<ConsistencyModel> {
        models.iter().copied().collect()
    }

    /// Elle's `weakest-models-test` and `strongest-models-test`.
    #[test]
    fn weakest_and_strongest_models_as_elle_finds_them() {
        assert!(weakest_models(&set(&[])).is_empty());
        assert_eq!(
            friendly(weakest_models(&set(&[
                M::Serializable,
                M::StrictSerializable
            ]))),
            BTreeSet::from(["serializable"])
        );
        let independent = set(&[
            M::RepeatableRead,
            M::ReadCommitted,
            M::Sequential,
            M::ReadYourWrites,
        ]);
        assert_eq!(
            friendly(weakest_models(&independent)),
            BTreeSet::from(["read-your-writes", "read-committed"])
        );
        assert_eq!(
            friendly(strongest_models(&independent)),
            BTreeSet::from(["repeatable-read", "sequential"])
        );
        assert_eq!(
            friendly(weakest_models(&set(&[M::Serializable, M::ReadAtomic]))),
            BTreeSet::from(["read-atomic"])
        );
        assert_eq!(
            friendly(strongest_models(&set(&[
                M::Serializable,
                M::StrongSerializable,
                M::StrictSerializable
            ]))),
            BTreeSet::from(["strong-serializable"])
        );
    }

    /// Elle's `anomalies-prohibited-by-test` (less its `*-cycle-exists` anomalies).
    #[test]
    fn read_committed_prohibits_g1_its_parts_and_what_implies_them() {
        use Anomaly::*;
        let got = anomalies_prohibited_by([M::ReadCommitted]);
        let want = BTreeSet::from([
            DirtyUpdate,
            G1a,
            G1b,
            G1c,
            G1,
            G0,
            CyclicVersions,
            DuplicateElements,
            IncompatibleOrder,
            FutureRead,
        ]);
        assert_eq!(got, want);
        // A read of a value no transaction wrote is named, never prohibited: Elle does not
        // flag it, and the harness does not fail what Maelstrom accepts.
        assert!(!got.contains(&GarbageRead));
        let strict = anomalies_prohibited_by([M::StrictSerializable]);
        for a in [
            G0Realtime,
            G1cRealtime,
            GSingleItemRealtime,
            G2ItemRealtime,
            G2Item,
            Internal,
        ] {
            assert!(strict.contains(&a), "{a}");
        }
        let serializable = anomalies_prohibited_by([M::Serializable]);
        assert!(!serializable.contains(&G2ItemRealtime));
        assert!(!serializable.contains(&G0Process));
    }

    /// Elle's `anomaly->impossible-models-test`.
    #[test]
    fn anomalies_rule_out_the_models_elle_says() {
        use Anomaly::*;
        assert_eq!(
            friendly(impossible_models([GSingle])),
            BTreeSet::from([
                "consistent-view",
                "forward-consistent-view",
                "strong-serializable",
                "serializable",
                "snapshot-isolation",
                "strong-session-serializable",
                "strong-session-snapshot-isolation",
                "strong-snapshot-isolation",
                "update-serializable",
            ])
        );
        assert_eq!(
            friendly(impossible_models([GDashSI])),
            BTreeSet::from([
                "snapshot-isolation",
                "serializable",
                "strong-serializable",
                "strong-session-serializable",
                "strong-session-snapshot-isolation",
                "strong-snapshot-isolation",
            ])
        );
        assert_eq!(
            friendly(impossible_models([Internal])),
            BTreeSet::from([
                "causal-cerone",
                "parallel-snapshot-isolation",
                "prefix",
                "read-atomic",
                "update-atomic",
                "serializable",
                "snapshot-isolation",
                "strong-serializable",
                "strong-session-serializable",
                "strong-session-snapshot-isolation",
                "strong-snapshot-isolation",
            ])
        );
        assert_eq!(impossible_models([DirtyUpdate]).len(), 22);
    }

    /// Elle's `friendly-boundary-test`.
    #[test]
    fn the_boundary_names_the_weakest_models_ruled_out_then_the_rest() {
        use Anomaly::*;
        assert_eq!(boundary([]), (vec![], vec![]));
        let (not, also) = boundary([CyclicVersions]);
        assert_eq!(not, ["read-uncommitted"]);
        let mut want = vec![
            "read-committed",
            "snapshot-isolation",
            "causal-cerone",
            "consistent-view",
            "cursor-stability",
            "forward-consistent-view",
            "monotonic-atomic-view",
            "monotonic-snapshot-read",
            "monotonic-view",
            "parallel-snapshot-isolation",
            "prefix",
            "read-atomic",
            "repeatable-read",
            "update-atomic",
            "serializable",
            "strong-read-committed",
            "strong-read-uncommitted",
            "strong-serializable",
            "strong-session-read-committed",
            "strong-session-read-uncommitted",
            "strong-session-serializable",
            "strong-session-snapshot-isolation",
            "strong-snapshot-isolation",
            "update-serializable",
        ];
        want.sort_unstable();
        assert_eq!(also, want);
        let (not, also) = boundary([Internal]);
        assert_eq!(not, ["read-atomic"]);
        assert_eq!(also.len(), 10);
        let (not, also) = boundary([G1a]);
        assert_eq!(not, ["read-committed"]);
        assert_eq!(also.len(), 21);
        let (not, also) = boundary([GSingle]);
        assert_eq!(not, ["consistent-view"]);
        assert_eq!(
            also,
            [
                "forward-consistent-view",
                "serializable",
                "snapshot-isolation",
                "strong-serializable",
                "strong-session-serializable",
                "strong-session-snapshot-isolation",
                "strong-snapshot-isolation",
                "update-serializable",
            ]
        );
    }
}
