//! Topologies match Maelstrom's broadcast workload for a few sizes, and have the structure
//! their names promise for every size.

use std::collections::BTreeMap;

use proptest::prelude::*;
use workloads::topology::{TopologyKind, build};

fn nodes(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("n{i}")).collect()
}

fn map(entries: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
    entries
        .iter()
        .map(|(k, vs)| (k.to_string(), vs.iter().map(|v| v.to_string()).collect()))
        .collect()
}

#[test]
fn grid_of_five_is_maelstroms() {
    // side 3: n0 n1 n2 / n3 n4; neighbours below, above, right, left.
    let expected = map(&[
        ("n0", &["n3", "n1"]),
        ("n1", &["n4", "n2", "n0"]),
        ("n2", &["n1"]),
        ("n3", &["n0", "n4"]),
        ("n4", &["n1", "n3"]),
    ]);
    assert_eq!(build(TopologyKind::Grid, &nodes(5)), expected);
}

#[test]
fn grid_of_one_has_no_neighbours() {
    assert_eq!(build(TopologyKind::Grid, &nodes(1)), map(&[("n0", &[])]));
    assert!(build(TopologyKind::Grid, &nodes(0)).is_empty());
}

#[test]
fn line_is_maelstroms() {
    assert!(build(TopologyKind::Line, &nodes(1)).is_empty());
    let expected = map(&[("n0", &["n1"]), ("n1", &["n0"])]);
    assert_eq!(build(TopologyKind::Line, &nodes(2)), expected);
    let expected = map(&[
        ("n0", &["n1"]),
        ("n1", &["n0", "n2"]),
        ("n2", &["n1", "n3"]),
        ("n3", &["n2"]),
    ]);
    assert_eq!(build(TopologyKind::Line, &nodes(4)), expected);
}

#[test]
fn total_links_everyone() {
    let expected = map(&[
        ("n0", &["n1", "n2"]),
        ("n1", &["n0", "n2"]),
        ("n2", &["n0", "n1"]),
    ]);
    assert_eq!(build(TopologyKind::Total, &nodes(3)), expected);
}

#[test]
fn trees_are_filled_level_by_level_parent_first() {
    // tree2 of 6: n0 -> n1 n2; n1 -> n3 n4; n2 -> n5.
    let expected = map(&[
        ("n0", &["n1", "n2"]),
        ("n1", &["n0", "n3", "n4"]),
        ("n2", &["n0", "n5"]),
        ("n3", &["n1"]),
        ("n4", &["n1"]),
        ("n5", &["n2"]),
    ]);
    assert_eq!(build(TopologyKind::Tree2, &nodes(6)), expected);
    // tree3 of 5: n0 -> n1 n2 n3; n1 -> n4.
    let expected = map(&[
        ("n0", &["n1", "n2", "n3"]),
        ("n1", &["n0", "n4"]),
        ("n2", &["n0"]),
        ("n3", &["n0"]),
        ("n4", &["n1"]),
    ]);
    assert_eq!(build(TopologyKind::Tree3, &nodes(5)), expected);
    assert_eq!(build(TopologyKind::Tree4, &nodes(1)), map(&[("n0", &[])]));
}

#[test]
fn node_order_is_the_order_given() {
    let ids: Vec<String> = ["b", "a", "c"].iter().map(|s| s.to_string()).collect();
    // The line is b - a - c.
    let expected = map(&[("a", &["b", "c"]), ("b", &["a"]), ("c", &["a"])]);
    assert_eq!(build(TopologyKind::Line, &ids), expected);
}

#[test]
fn golden_topologies_of_ten_nodes() {
    let all: BTreeMap<String, BTreeMap<String, Vec<String>>> = TopologyKind::ALL
        .into_iter()
        .map(|k| (k.to_string(), build(k, &nodes(10))))
        .collect();
    insta::assert_json_snapshot!(all);
}

fn edges(topology: &BTreeMap<String, Vec<String>>) -> usize {
    topology.values().map(Vec::len).sum()
}

proptest! {
    #[test]
    fn every_topology_is_symmetric_without_self_loops(n in 2usize..60, k in 0usize..6) {
        let kind = TopologyKind::ALL[k];
        let topology = build(kind, &nodes(n));
        prop_assert_eq!(topology.len(), n);
        for (node, neighbours) in &topology {
            prop_assert!(!neighbours.contains(node));
            for other in neighbours {
                prop_assert!(topology[other].contains(node), "{} -> {} not mutual", node, other);
            }
        }
        match kind {
            TopologyKind::Grid => prop_assert!(topology.values().all(|ns| ns.len() <= 4)),
            TopologyKind::Line => prop_assert_eq!(edges(&topology), 2 * (n - 1)),
            TopologyKind::Total => prop_assert_eq!(edges(&topology), n * (n - 1)),
            // A tree has n - 1 undirected edges and each node at most k children + a parent.
            TopologyKind::Tree2 | TopologyKind::Tree3 | TopologyKind::Tree4 => {
                prop_assert_eq!(edges(&topology), 2 * (n - 1));
            }
        }
        // Connected: a walk from n0 reaches everyone.
        let mut seen = std::collections::BTreeSet::from(["n0".to_string()]);
        let mut frontier = vec!["n0".to_string()];
        while let Some(node) = frontier.pop() {
            for other in &topology[&node] {
                if seen.insert(other.clone()) {
                    frontier.push(other.clone());
                }
            }
        }
        prop_assert_eq!(seen.len(), n);
    }
}
