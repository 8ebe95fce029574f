//! Network statistics: messages sent, delivered and dropped, for all traffic, client traffic
//! and server-to-server traffic, and messages per op (the cost of a broadcast algorithm).
//!
//! A message is a *client* message when its source or destination is a client (`c<digits>`);
//! otherwise both ends are servers (nodes and services). `servers.msgs_per_op` is the number
//! of server-to-server sends divided by the number of client invocations (final reads
//! included); `all.msgs_per_op` likewise with every send. For a broadcast run,
//! `servers.msgs_per_broadcast` divides the server-to-server sends by the broadcast
//! invocations alone (reads, final ones included, are not in the divisor): the cost of one
//! broadcast, which does not move with the share of reads in the workload; and
//! `servers.copies_per_broadcast` the copies of broadcast values that crossed a link, per
//! broadcast, whatever batching packed into one message ([`Copies`]).

use serde::{Serialize, Serializer};

use super::copies::Copies;

use crate::history::{Event, EventType, Process};
use crate::journal::{NetEvent, NetEventKind, is_client};

/// Counts for one class of messages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NetCounts {
    pub send_count: u64,
    pub deliver_count: u64,
    pub drop_count: u64,
}

impl NetCounts {
    fn record(&mut self, kind: NetEventKind) {
        match kind {
            NetEventKind::Send => self.send_count += 1,
            NetEventKind::Deliver => self.deliver_count += 1,
            NetEventKind::Drop => self.drop_count += 1,
        }
    }
}

/// Network statistics, filled as the run goes ([`NetStats::record`]) or from a journal.
/// Serializes as `{"all": {...}, "clients": {...}, "servers": {...}}`, each with
/// `send_count`, `deliver_count`, `drop_count`, and `msgs_per_op` on `all` and `servers`
/// (`null` without invocations), and `msgs_per_broadcast`, `copy_count` and
/// `copies_per_broadcast` on `servers` when the broadcasts were counted
/// ([`NetStats::count_broadcasts`]; `null` without broadcasts, and the copies `null` when the
/// values cannot be counted, see [`Copies`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NetStats {
    pub all: NetCounts,
    pub clients: NetCounts,
    pub servers: NetCounts,
    /// Client invocations, the denominator of msgs-per-op.
    pub client_invocations: u64,
    /// Broadcast invocations, the denominator of msgs-per-broadcast (broadcast runs only).
    pub broadcast_invocations: Option<u64>,
    /// Candidate broadcast values in server-to-server bodies ([`NetStats::record_body`]).
    pub copies: Copies,
    /// The copies of the run's broadcast values, once they are known
    /// ([`NetStats::count_broadcasts`]; `None` when they cannot be counted).
    pub copy_count: Option<u64>,
}

impl NetStats {
    /// Count one network event between `src` and `dest`.
    pub fn record(&mut self, kind: NetEventKind, src: &str, dest: &str) {
        self.all.record(kind);
        if is_client(src) || is_client(dest) {
            self.clients.record(kind);
        } else {
            self.servers.record(kind);
        }
    }

    /// Tally the broadcast values a message's body carries (`body` is its text), when both
    /// ends are servers: see [`Copies`].
    pub fn record_body(&mut self, src: &str, dest: &str, body: &str) {
        if !is_client(src) && !is_client(dest) {
            self.copies.record(body);
        }
    }

    /// Statistics of a whole journal (`messages.jsonl`).
    pub fn from_journal(events: &[NetEvent]) -> NetStats {
        let mut stats = NetStats::default();
        for e in events {
            stats.record(e.event, e.sender(), &e.dest);
            if let (NetEventKind::Send, Some(body)) = (e.event, &e.body) {
                stats.record_body(e.sender(), &e.dest, &body.to_string());
            }
        }
        stats
    }

    /// Count one client invocation.
    pub fn record_invocation(&mut self) {
        self.client_invocations += 1;
    }

    /// Set the invocation count from a history: its client `invoke` events.
    pub fn count_invocations(&mut self, history: &[Event]) {
        self.client_invocations = history
            .iter()
            .filter(|e| e.kind == EventType::Invoke && matches!(e.process, Process::Client(_)))
            .count() as u64;
    }

    /// Set the broadcast count from a history (its client `invoke` events of `broadcast`),
    /// and the copies of their values.
    pub fn count_broadcasts(&mut self, history: &[Event]) {
        let invokes = history.iter().filter(|e| {
            e.kind == EventType::Invoke
                && matches!(e.process, Process::Client(_))
                && e.f == "broadcast"
        });
        let values: Option<Vec<i64>> = invokes.clone().map(|e| e.value.as_i64()).collect();
        self.broadcast_invocations = Some(invokes.count() as u64);
        self.copy_count = values.and_then(|v| self.copies.of(&v));
    }

    fn per_op(&self, sends: u64) -> Option<f64> {
        (self.client_invocations > 0).then(|| sends as f64 / self.client_invocations as f64)
    }

    /// Server-to-server sends per broadcast invocation: `None` when the broadcasts were not
    /// counted, `Some(None)` when there were none.
    pub fn msgs_per_broadcast(&self) -> Option<Option<f64>> {
        self.broadcast_invocations
            .map(|b| (b > 0).then(|| self.servers.send_count as f64 / b as f64))
    }

    /// Copies of broadcast values per broadcast invocation: `None` when the broadcasts were
    /// not counted, `Some(None)` when there were none or their copies cannot be counted.
    pub fn copies_per_broadcast(&self) -> Option<Option<f64>> {
        self.broadcast_invocations.map(|b| {
            self.copy_count
                .filter(|_| b > 0)
                .map(|c| c as f64 / b as f64)
        })
    }
}

#[derive(Serialize)]
struct CountsOut {
    send_count: u64,
    deliver_count: u64,
    drop_count: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    msgs_per_op: Option<Option<f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    msgs_per_broadcast: Option<Option<f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    copy_count: Option<Option<u64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    copies_per_broadcast: Option<Option<f64>>,
}

#[derive(Serialize)]
struct NetOut {
    all: CountsOut,
    clients: CountsOut,
    servers: CountsOut,
}

fn out(c: NetCounts, per_op: Option<Option<f64>>) -> CountsOut {
    CountsOut {
        send_count: c.send_count,
        deliver_count: c.deliver_count,
        drop_count: c.drop_count,
        msgs_per_op: per_op,
        msgs_per_broadcast: None,
        copy_count: None,
        copies_per_broadcast: None,
    }
}

impl Serialize for NetStats {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        NetOut {
            all: out(self.all, Some(self.per_op(self.all.send_count))),
            clients: out(self.clients, None),
            servers: CountsOut {
                msgs_per_broadcast: self.msgs_per_broadcast(),
                copy_count: self.broadcast_invocations.map(|_| self.copy_count),
                copies_per_broadcast: self.copies_per_broadcast(),
                ..out(self.servers, Some(self.per_op(self.servers.send_count)))
            },
        }
        .serialize(s)
    }
}

impl std::fmt::Display for NetStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ratio = |x: Option<f64>| x.map_or("n/a".to_owned(), |x| format!("{x:.2}"));
        let per_broadcast = self
            .msgs_per_broadcast()
            .map_or(String::new(), |x| format!(", {} per broadcast", ratio(x)));
        // Said only when counted (see [`Copies`]: not for values that start low).
        let copies = match self.copies_per_broadcast() {
            Some(Some(x)) => format!("; {x:.2} copies of each broadcast value"),
            _ => String::new(),
        };
        writeln!(
            f,
            "net: {} sent, {} delivered, {} dropped; servers: {} sent, {} msgs per op{per_broadcast}{copies}",
            self.all.send_count,
            self.all.deliver_count,
            self.all.drop_count,
            self.servers.send_count,
            ratio(self.per_op(self.servers.send_count)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn classifies_and_divides() {
        let mut s = NetStats::default();
        s.record(NetEventKind::Send, "c1", "n0");
        s.record(NetEventKind::Deliver, "c1", "n0");
        s.record(NetEventKind::Send, "n0", "n1");
        s.record(NetEventKind::Send, "n0", "lin-kv");
        s.record(NetEventKind::Drop, "n0", "n1");
        s.record_invocation();
        s.record_invocation();
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(
            v["clients"],
            json!({"send_count": 1, "deliver_count": 1, "drop_count": 0})
        );
        assert_eq!(v["servers"]["send_count"], json!(2));
        assert_eq!(v["servers"]["msgs_per_op"], json!(1.0));
        assert_eq!(v["all"]["msgs_per_op"], json!(1.5));
        assert_eq!(
            serde_json::to_value(NetStats::default()).unwrap()["servers"]["msgs_per_op"],
            json!(null)
        );
        assert!(v["servers"].get("msgs_per_broadcast").is_none());
    }

    #[test]
    fn a_forward_counts_as_a_message_of_the_node_that_wrote_it() {
        let text = r#"{"time":1,"event":"send","id":1,"src":"c3","dest":"n1","body":{"type":"read"}}
{"time":1,"event":"deliver","id":1,"src":"c3","dest":"n1"}
{"time":2,"event":"send","id":2,"src":"c3","via":"n1","dest":"n0","body":{"type":"read"}}
{"time":3,"event":"drop","id":2,"src":"c3","via":"n1","dest":"n0","reason":"partition"}"#;
        let events = crate::journal::parse_journal("j", text.as_bytes())
            .unwrap()
            .items;
        let v = serde_json::to_value(NetStats::from_journal(&events)).unwrap();
        assert_eq!(
            v["clients"],
            json!({"send_count": 1, "deliver_count": 1, "drop_count": 0})
        );
        assert_eq!(
            v["servers"],
            json!({"send_count": 1, "deliver_count": 0, "drop_count": 1, "msgs_per_op": null})
        );
    }

    #[test]
    fn messages_per_broadcast_divide_by_broadcasts_alone() {
        let text = r#"{"index":0,"time":1,"process":0,"node":"n0","type":"invoke","f":"broadcast","value":1}
{"index":1,"time":2,"process":0,"node":"n0","type":"ok","f":"broadcast","value":1}
{"index":2,"time":3,"process":1,"node":"n1","type":"invoke","f":"read","value":null}
{"index":3,"time":4,"process":1,"node":"n1","type":"ok","f":"read","value":[1]}
{"index":4,"time":5,"process":"nemesis","type":"info","f":"kill","value":["n1"]}
{"index":5,"time":6,"process":1,"node":"n1","type":"invoke","f":"read","value":null,"final":true}
{"index":6,"time":7,"process":1,"node":"n1","type":"ok","f":"read","value":[1],"final":true}"#;
        let history = crate::history::parse_history("h", text.as_bytes()).unwrap();
        let mut s = NetStats::default();
        for _ in 0..6 {
            s.record(NetEventKind::Send, "n0", "n1");
        }
        s.count_invocations(&history);
        s.count_broadcasts(&history);
        let v = serde_json::to_value(&s).unwrap();
        // Six server messages: two per client op (three, the final read included), six for
        // the one broadcast.
        assert_eq!(v["servers"]["msgs_per_op"], json!(2.0));
        assert_eq!(v["servers"]["msgs_per_broadcast"], json!(6.0));
        assert!(
            s.to_string()
                .contains("2.00 msgs per op, 6.00 per broadcast"),
            "{s}"
        );
        s.broadcast_invocations = Some(0);
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(v["servers"]["msgs_per_broadcast"], json!(null));
    }

    #[test]
    fn copies_per_broadcast_count_values_in_server_bodies_whatever_the_batching() {
        // Two broadcasts; n0 sends both to n1 in one batch and each alone to n2 (three
        // messages, four copies), and a client's read_ok carries both (not server traffic).
        let text = r#"{"time":1,"event":"send","id":1,"src":"n0","dest":"n1","body":{"type":"batch","session":1000000,"items":[[0,{"value":1000000}],[1,{"value":1000001}]]}}
{"time":1,"event":"send","id":2,"src":"n0","dest":"n2","body":{"type":"gossip","message":1000000,"msg_id":1000001}}
{"time":1,"event":"send","id":3,"src":"n0","dest":"n2","body":{"type":"gossip","message":1000001}}
{"time":2,"event":"send","id":4,"src":"n0","dest":"c1","body":{"type":"read_ok","messages":[1000000,1000001]}}"#;
        let events = crate::journal::parse_journal("j", text.as_bytes())
            .unwrap()
            .items;
        let history = r#"{"index":0,"time":1,"process":0,"node":"n0","type":"invoke","f":"broadcast","value":1000000}
{"index":1,"time":1,"process":1,"node":"n0","type":"invoke","f":"broadcast","value":1000001}"#;
        let history = crate::history::parse_history("h", history.as_bytes()).unwrap();
        let mut s = NetStats::from_journal(&events);
        s.count_invocations(&history);
        s.count_broadcasts(&history);
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(v["servers"]["copy_count"], json!(4));
        assert_eq!(v["servers"]["copies_per_broadcast"], json!(2.0));
        assert_eq!(v["servers"]["msgs_per_broadcast"], json!(1.5));
        assert!(
            s.to_string()
                .contains("2.00 copies of each broadcast value"),
            "{s}"
        );
        // Values from 0, as Maelstrom's: not told apart from counters, so not counted.
        let maelstrom = history_of_values(&[0, 1]);
        s.count_broadcasts(&maelstrom);
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(v["servers"]["copy_count"], json!(null));
        assert_eq!(v["servers"]["copies_per_broadcast"], json!(null));
        assert!(!s.to_string().contains("copies"), "{s}");
    }

    fn history_of_values(values: &[i64]) -> Vec<Event> {
        let text: Vec<String> = values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                format!(
                    r#"{{"index":{i},"time":1,"process":{i},"node":"n0","type":"invoke","f":"broadcast","value":{v}}}"#
                )
            })
            .collect();
        crate::history::parse_history("h", text.join("\n").as_bytes()).unwrap()
    }
}
