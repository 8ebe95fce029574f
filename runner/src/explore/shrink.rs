//! Shrinking a failing run: the same seed, a smaller shape, kept while the run still fails.
//!
//! Candidates are tried in a fixed order, each one step smaller than the current shape: one
//! fault kind fewer, half the time limit, one node fewer, fewer clients, rarer faults, a
//! lower rate, less latency, a shorter recovery. The first candidate that still fails becomes
//! the current shape and the search starts over; it ends when no candidate fails (the shape is
//! a local minimum) or after [`MAX_SHRINK_RUNS`] runs. Each run is a full simulated test, so a
//! smaller shape that fails is a real failing run, reproduced by its own command.

use crate::explore::shape::Shape;

/// The most runs one shrink makes.
pub const MAX_SHRINK_RUNS: usize = 150;

/// The shapes one step smaller than `shape`, in the order they are tried.
pub fn candidates(shape: &Shape) -> Vec<Shape> {
    let mut out = Vec::new();
    for i in 0..shape.nemesis.len() {
        // Byzantine nodes are the user's (`--byzantine N` goes with them): they stay.
        if shape.nemesis[i] == crate::nemesis::FaultKind::Byzantine {
            continue;
        }
        let mut s = shape.clone();
        s.nemesis.remove(i);
        out.push(s);
    }
    if shape.time_limit > 1.0 {
        out.push(Shape {
            time_limit: (shape.time_limit / 2.0).max(1.0).round(),
            ..shape.clone()
        });
    }
    if shape.node_count > 1 {
        // Targets that take no node of the smaller cluster are left out (one stays).
        let node_count = shape.node_count - 1;
        let mut targets: Vec<_> = shape
            .targets
            .iter()
            .copied()
            .filter(|t| t.size(node_count) > 0)
            .collect();
        if targets.is_empty() {
            targets.push(crate::nemesis::Target::One);
        }
        out.push(Shape {
            node_count,
            targets,
            ..shape.clone()
        });
    }
    let clients = shape.clients();
    if clients > 1 {
        out.push(Shape {
            concurrency: (clients / 2).max(1).to_string(),
            ..shape.clone()
        });
    }
    if !shape.nemesis.is_empty() && shape.nemesis_interval < shape.time_limit {
        out.push(Shape {
            nemesis_interval: (shape.nemesis_interval * 2.0).min(shape.time_limit),
            ..shape.clone()
        });
    }
    if shape.rate > 1.0 {
        out.push(Shape {
            rate: (shape.rate / 2.0).max(1.0).round(),
            ..shape.clone()
        });
    }
    if shape.latency > 0 {
        out.push(Shape {
            latency: shape.latency / 2,
            ..shape.clone()
        });
    }
    if shape.recovery_time > 1.0 {
        out.push(Shape {
            recovery_time: (shape.recovery_time / 2.0).max(1.0).round(),
            ..shape.clone()
        });
    }
    out
}

/// Shrink `shape` while `fails` says a shape still fails. Returns the smallest failing shape
/// found and how many runs it took.
pub fn shrink(shape: Shape, mut fails: impl FnMut(&Shape) -> bool) -> (Shape, usize) {
    let mut current = shape;
    let mut runs = 0;
    'search: loop {
        for candidate in candidates(&current) {
            if runs == MAX_SHRINK_RUNS {
                break 'search;
            }
            runs += 1;
            if fails(&candidate) {
                current = candidate;
                continue 'search;
            }
        }
        break;
    }
    (current, runs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nemesis::{FaultKind, Target};

    fn big() -> Shape {
        Shape {
            node_count: 5,
            concurrency: "2n".into(),
            rate: 40.0,
            latency: 30,
            latency_dist: "uniform".into(),
            nemesis: vec![FaultKind::Partition, FaultKind::Kill, FaultKind::Loss],
            targets: Target::DEFAULT.to_vec(),
            nemesis_interval: 1.0,
            time_limit: 10.0,
            recovery_time: 10.0,
        }
    }

    #[test]
    fn shrinks_to_what_the_failure_needs() {
        // A failure that needs a kill and at least 3 nodes and 2 s of workload.
        let fails = |s: &Shape| {
            s.nemesis.contains(&FaultKind::Kill) && s.node_count >= 3 && s.time_limit >= 2.0
        };
        let (small, runs) = shrink(big(), fails);
        assert_eq!(small.nemesis, vec![FaultKind::Kill]);
        assert_eq!(small.node_count, 3);
        assert_eq!(small.time_limit, 2.0);
        assert_eq!(small.clients(), 1);
        assert_eq!(small.latency, 0);
        assert_eq!(small.rate, 1.0);
        assert!(runs <= MAX_SHRINK_RUNS);
    }

    #[test]
    fn a_failure_that_needs_everything_is_left_as_it_is() {
        let (same, runs) = shrink(big(), |s| *s == big());
        assert_eq!(same, big());
        assert_eq!(runs, candidates(&big()).len());
    }
}
