//! Broadcast nodes: scripted conversations with one node, simulated clusters under faults, and
//! the real binaries.

mod binaries;
mod cost;
mod ordering;
mod scripted;
