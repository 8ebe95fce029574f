//! `harness check`: check a recorded history from the command line.
