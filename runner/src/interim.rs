//! Stand-ins for the checker entry points until the checker crate provides them.

use checker::{Event, NetEventKind, Validity};
use serde::Serialize;

#[derive(Debug, Default, Clone, Serialize)]
pub struct Counts {
    pub send_count: u64,
    pub deliver_count: u64,
    pub drop_count: u64,
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct NetStats {
    pub all: Counts,
    pub clients: Counts,
    pub servers: Counts,
}

impl NetStats {
    pub fn record(&mut self, kind: NetEventKind, src: &str, dest: &str) {
        let client = checker::is_client(src) || checker::is_client(dest);
        for counts in [
            Some(&mut self.all),
            if client {
                Some(&mut self.clients)
            } else {
                Some(&mut self.servers)
            },
        ]
        .into_iter()
        .flatten()
        {
            match kind {
                NetEventKind::Send => counts.send_count += 1,
                NetEventKind::Deliver => counts.deliver_count += 1,
                NetEventKind::Drop => counts.drop_count += 1,
            }
        }
    }
    pub fn all_sends(&self) -> u64 {
        self.all.send_count
    }
    pub fn summary(&self) -> String {
        format!(
            "net: {} sent, {} delivered, {} dropped (servers {} sent)",
            self.all.send_count,
            self.all.deliver_count,
            self.all.drop_count,
            self.servers.send_count
        )
    }
}

#[derive(Debug, Default, Clone)]
pub struct RunCheckOptions {
    pub ordering: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct RunResults {
    pub valid: Validity,
}

impl RunResults {
    pub fn summary(&self) -> String {
        String::new()
    }
}

pub fn check_run(_workload: &str, _history: &[Event], _opts: &RunCheckOptions) -> RunResults {
    RunResults {
        valid: Validity::Unknown,
    }
}
