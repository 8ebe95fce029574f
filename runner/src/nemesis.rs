//! The nemesis schedule: which fault starts and stops when, drawn from the seed.
