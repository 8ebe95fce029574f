//! The simulated network (see DESIGN.md, "Network and faults").
