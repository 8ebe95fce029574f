//! Integration tests of the workloads: generators, completions, topologies.

mod checks;
mod completions;
mod generators;
mod topology;
