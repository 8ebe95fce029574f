//! Integration tests of the workloads: generators, completions, topologies.

mod completions;
mod generators;
mod topology;
