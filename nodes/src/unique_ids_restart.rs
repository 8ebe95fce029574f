//! `unique-ids-restart`: [`crate::unique_ids`] without the incarnation in its ids. An id is
//! `"<node>-<counter>"`, and the counter lives in memory only.
//!
//! **The promise it breaks.** Ids unique across restarts. Within one start of a node the ids
//! are unique (the counter), and across nodes too (the node id), so a run without crashes is
//! valid. But a node that is killed and restarted counts from 0 again and hands out
//! `"n0-0"`, `"n0-1"`, ... a second time: the unique-ids checker reports every id given twice.
//!
//! **What shows it.** A kill and restart of a node that had already answered `generate`, and
//! at least one `generate` to the restarted node. A run without the kill nemesis, or where
//! the killed nodes had minted nothing, passes.
//!
//! The fix is `unique-ids`: put something that differs between starts into the id (the
//! driver's incarnation), or keep the counter on stable storage.

use crate::unique_ids::UniqueIds;

/// The `unique-ids-restart` node: ids from node id and counter only.
pub fn unique_ids_restart() -> UniqueIds {
    let mut node = UniqueIds::default();
    node.without_incarnation = true;
    node
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::time::Duration;

    use proto::Payload;
    use serde_json::json;

    use super::*;
    use crate::sim::Cluster;

    /// Ask `node` for `count` ids through the cluster; the ids it answered.
    fn generate(cluster: &mut Cluster<UniqueIds>, node: &str, count: usize) -> Vec<String> {
        (0..count)
            .map(|_| {
                let id = cluster.request("c1", node, &json!({"type": "generate"}));
                match &cluster.reply_to("c1", id).expect("answered").body.payload {
                    Payload::GenerateOk { id } => id.to_string(),
                    other => panic!("expected generate_ok, got {other:?}"),
                }
            })
            .collect()
    }

    fn run(make: fn() -> UniqueIds, restart: bool) -> (usize, usize) {
        let mut cluster = Cluster::new(2, 1, Duration::from_millis(10), move |_| make());
        let mut ids = generate(&mut cluster, "n0", 5);
        ids.extend(generate(&mut cluster, "n1", 5));
        if restart {
            cluster.crash("n0");
            cluster.restart("n0");
        }
        ids.extend(generate(&mut cluster, "n0", 5));
        let distinct: BTreeSet<&String> = ids.iter().collect();
        (ids.len(), distinct.len())
    }

    #[test]
    fn a_restarted_node_mints_its_ids_again() {
        assert_eq!(run(unique_ids_restart, true), (15, 10));
        assert_eq!(run(UniqueIds::default, true), (15, 15), "the correct node");
    }

    #[test]
    fn without_a_restart_every_id_is_unique() {
        assert_eq!(run(unique_ids_restart, false), (15, 15));
    }
}
