//! `lin-kv-forgets-on-restart`: [`super::leader`] with a write-behind log. The leader applies
//! and acknowledges a `write` or `cas` at once, but appends it to its stable log `applied` only
//! when the next `write` or `cas` arrives (a one-deep write buffer, the classic "group commit"
//! done wrong: the acknowledgement goes out before the data is durable).
//!
//! **The promise it breaks.** Linearizability across a crash of the leader: an acknowledged
//! write is never lost. Here the last acknowledged write before a crash is only in memory; the
//! restarted leader replays a log without it and serves the value from before it (or error 20
//! for a key it created), so a read after the restart misses a write that completed before the
//! read began.
//!
//! **What shows it.** A kill of the leader (`n0`) after it acknowledged a write and before the
//! next write reached it, followed by a read of that key. Every other interleaving passes: no
//! kill, or a kill of a follower (it holds nothing). Once a later write has come, the earlier
//! one is on disk, so only the very last write before the kill can go; under a steady stream
//! of writes the window is the time between two writes at the leader, and the lost write shows
//! only if it was not overwritten again after the restart before a read looked.
//!
//! The fix is `lin-kv-leader`: persist every operation that may change the store in the event
//! that applies it, before the reply leaves.

use crate::kv::leader::LeaderKv;

/// The `lin-kv-forgets-on-restart` node: the leader store with a write-behind log.
pub fn forgets_on_restart() -> LeaderKv {
    let mut node = LeaderKv::default();
    node.write_behind = Some(None);
    node
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use proto::Payload;
    use serde_json::{Value, json};

    use super::*;
    use crate::sim::Cluster;

    fn cluster(make: fn() -> LeaderKv) -> Cluster<LeaderKv> {
        Cluster::new(3, 7, Duration::from_millis(5), move |_| make())
    }

    /// Write `value` to key 1 through `node`; the write must be acknowledged.
    fn write(cluster: &mut Cluster<LeaderKv>, node: &str, value: u64) {
        let id = cluster.request(
            "c1",
            node,
            &json!({"type": "write", "key": 1, "value": value}),
        );
        cluster.run_until_quiet(1000);
        let reply = cluster.reply_to("c1", id).expect("answered");
        assert_eq!(reply.body.payload, Payload::WriteOk, "{reply:?}");
    }

    /// Read key 1 through `node`: its value, or None for error 20.
    fn read(cluster: &mut Cluster<LeaderKv>, node: &str) -> Option<Value> {
        let id = cluster.request("c2", node, &json!({"type": "read", "key": 1}));
        cluster.run_until_quiet(1000);
        match &cluster.reply_to("c2", id).expect("answered").body.payload {
            Payload::ReadOk { value, .. } => value.clone(),
            _ => None,
        }
    }

    fn kill_leader(cluster: &mut Cluster<LeaderKv>) {
        cluster.crash("n0");
        cluster.restart("n0");
    }

    #[test]
    fn a_kill_right_after_a_write_loses_it() {
        let mut c = cluster(forgets_on_restart);
        write(&mut c, "n1", 1);
        write(&mut c, "n2", 2);
        kill_leader(&mut c);
        assert_eq!(
            read(&mut c, "n1"),
            Some(json!(1)),
            "the acknowledged 2 is lost"
        );

        let mut c = cluster(forgets_on_restart);
        write(&mut c, "n0", 1);
        kill_leader(&mut c);
        assert_eq!(
            read(&mut c, "n0"),
            None,
            "the only write is lost: key absent"
        );
    }

    #[test]
    fn the_correct_leader_keeps_the_write_across_the_same_kill() {
        let mut c = cluster(LeaderKv::default);
        write(&mut c, "n1", 1);
        write(&mut c, "n2", 2);
        kill_leader(&mut c);
        assert_eq!(read(&mut c, "n1"), Some(json!(2)));
    }

    #[test]
    fn without_a_kill_of_the_leader_nothing_acknowledged_is_lost() {
        let mut c = cluster(forgets_on_restart);
        write(&mut c, "n1", 1);
        write(&mut c, "n2", 2);
        assert_eq!(read(&mut c, "n0"), Some(json!(2)), "no kill");
        kill_leader(&mut c);
        write(&mut c, "n0", 3);
        // A kill of a follower loses nothing: only the leader holds the store.
        c.crash("n1");
        c.restart("n1");
        assert_eq!(read(&mut c, "n1"), Some(json!(3)), "follower kill");
    }
}
