//! Generated transactional histories: a strict-serializable one has no anomaly, and one
//! with a planted anomaly of each class is found and named exactly, with an explanation that
//! names its transactions.

use checker::synth::txn::{Plant, TxnShape, planted_history, txn_history};
use checker::txn::{TxnKind, TxnOptions, check_txn};
use checker::validity::Validity;

#[test]
fn a_serializable_generated_history_has_no_anomaly() {
    for (seed, shape) in [
        (1, TxnShape::list_append(5000)),
        (2, TxnShape::rw_register(5000)),
    ] {
        let events = txn_history(seed, shape);
        let r = check_txn(&events, &TxnOptions::new(shape.kind)).unwrap();
        assert_eq!(r.valid, Validity::Valid, "{r}");
        assert!(r.anomaly_types.is_empty(), "{r}");
        assert!(r.edge_counts.realtime > 0, "{r}");
        assert_eq!(r.scc_count, 0, "{r}");
    }
}

#[test]
fn each_planted_anomaly_is_found_and_named_exactly() {
    for plant in Plant::ALL {
        let events = planted_history(7, TxnShape::list_append(500), plant);
        let r = check_txn(&events, &TxnOptions::new(TxnKind::ListAppend)).unwrap();
        let names: Vec<&str> = r.anomaly_types.iter().map(|a| a.name()).collect();
        assert_eq!(names, plant.expected(), "{plant:?}: {r}");
        assert_eq!(r.valid, Validity::Invalid, "{plant:?}: {r}");
        for a in &r.anomaly_types {
            let first = &r.anomalies[a][0];
            assert!(
                first.explanation.contains("T1 (process"),
                "{}",
                first.explanation
            );
        }
    }
}
