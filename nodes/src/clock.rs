//! Logical clocks (Lamport and vector clocks).
