//! The consistency models `--consistency-models` names, as Elle spells them.
//!
//! Every name Elle accepts is here, friendly (`serializable`) and canonical (`PL-3`) alike;
//! several names are one model ([`ConsistencyModel::canonical`]).

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
}
