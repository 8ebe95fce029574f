//! The services nodes can call: lin-kv, seq-kv, lww-kv, lin-tso.
