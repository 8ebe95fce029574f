//! The services nodes can call: lin-kv, seq-kv, lww-kv, lin-tso.

/// A service, by the id nodes address it with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ServiceKind {
    LinKv,
    SeqKv,
    LwwKv,
    LinTso,
}

impl ServiceKind {
    /// Every service.
    pub const ALL: [ServiceKind; 4] = [
        ServiceKind::LinKv,
        ServiceKind::SeqKv,
        ServiceKind::LwwKv,
        ServiceKind::LinTso,
    ];

    /// The node id of the service.
    pub fn id(self) -> &'static str {
        match self {
            ServiceKind::LinKv => "lin-kv",
            ServiceKind::SeqKv => "seq-kv",
            ServiceKind::LwwKv => "lww-kv",
            ServiceKind::LinTso => "lin-tso",
        }
    }

    /// The service with node id `id`, if any.
    pub fn from_id(id: &str) -> Option<Self> {
        ServiceKind::ALL.into_iter().find(|s| s.id() == id)
    }
}
