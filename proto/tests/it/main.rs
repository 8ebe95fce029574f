//! Property tests of the wire protocol: every body round-trips, and no input makes the
//! parser panic.

mod roundtrip;
