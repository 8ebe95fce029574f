//! What the controller and the agents say to each other, one [`Frame`] per link frame, as
//! JSON. Times an agent stamps are its own wall clock in nanoseconds since the Unix epoch; the
//! controller corrects them by the agent's measured offset (`remote/clock.rs`).

use serde::{Deserialize, Serialize};

use crate::net::Grudge;

/// The protocol's version: a controller and an agent of different versions refuse each other
/// with a message that says so.
pub const VERSION: u32 = 1;

/// The first thing each side says, inside the handshake.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum Hello {
    /// A controller starting a run.
    Controller { version: u32 },
    /// Agent `agent` of run `run`, linking up with another agent of that run.
    Peer {
        version: u32,
        run: String,
        agent: usize,
    },
    /// The agent's answer: which host it runs on.
    Agent { version: u32, host: String },
}

/// What a run's agent needs to know.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Setup {
    /// The run's name, shared by its agents (agents link up only within one run).
    pub run: String,
    /// This agent's index in `agents`.
    pub agent: usize,
    /// Every agent's address, as the controller reached it.
    pub agents: Vec<String>,
    pub node_ids: Vec<String>,
    /// Which agent runs each node.
    pub placement: Vec<usize>,
    /// The node program, as a path on the agent's host, and its arguments.
    pub bin: String,
    pub args: Vec<String>,
    pub seed: u64,
    /// Latency added on top of the real network: mean in milliseconds and distribution.
    pub latency_ms: u64,
    pub latency_dist: String,
}

/// A network event an agent saw, for the journal: a line of `messages.jsonl` as the agent
/// sees it, stamped with its own clock and with the body as the node wrote it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NetEvent {
    pub event: checker::NetEventKind,
    /// The agent's wall clock.
    pub at: u64,
    pub id: u64,
    pub src: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    pub dest: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A change of the network's faults, sent by the controller to every agent.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum NetChange {
    Partition { grudge: Grudge },
    Heal,
    Loss { p: f64 },
    Duplicate { p: f64 },
}

/// One frame.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum Frame {
    // Controller to agent.
    Setup(Setup),
    Start {
        node: usize,
        incarnation: u32,
    },
    Kill {
        node: usize,
    },
    Pause {
        node: usize,
    },
    Resume {
        node: usize,
    },
    Wipe {
        node: usize,
    },
    /// A line for a node's input from a client, a service or the harness; the agent counts
    /// it `taken` once the node's pipe has taken it whole.
    Deliver {
        node: usize,
        incarnation: u32,
        line: String,
    },
    Network(NetChange),
    /// A clock probe: `t0` is the controller's time when it sent it.
    Ping {
        t0: u64,
    },
    /// End the run: kill every node, remove every rule, send the node logs.
    Stop,

    // Agent to controller.
    /// The agent has its peer links and is ready; whether it makes partitions in the
    /// kernel's firewall (nftables), or only drops messages itself.
    Ready {
        firewall: bool,
    },
    /// The agent will not take part, and why (a binary it does not allow, a bad setup).
    Refused {
        reason: String,
    },
    Started {
        node: usize,
        incarnation: u32,
        pid: u32,
    },
    StartFailed {
        node: usize,
        incarnation: u32,
        error: String,
    },
    /// A line a node wrote that the agent does not route itself (to a client, a service, an
    /// unknown destination, or one it cannot read).
    Line {
        node: usize,
        incarnation: u32,
        line: String,
    },
    /// The node wrote more than the flood threshold of lines within one second.
    Flood {
        node: usize,
        incarnation: u32,
    },
    /// How many `Deliver`ed lines the node's pipe has taken whole.
    Taken {
        node: usize,
        incarnation: u32,
        count: u64,
    },
    Exited {
        node: usize,
        incarnation: u32,
        status: String,
    },
    Net(NetEvent),
    /// The answer to a `Ping`: the agent's wall clock when it read the ping and when it
    /// answered (NTP's t1 and t2).
    Pong {
        t0: u64,
        received: u64,
        sent: u64,
    },
    /// What node `node_id` wrote to its standard error, at the end of the run.
    Log {
        node_id: String,
        text: String,
    },
    /// Something the user should know (a firewall rule that could not be added).
    Warning {
        text: String,
    },
    /// Every node is stopped and every rule removed.
    Stopped,

    // Agent to agent.
    /// A node-to-node message: journal id `id`, from node `src_node`, for node `dest`.
    Message {
        id: u64,
        src_node: usize,
        dest: usize,
        line: String,
    },
}

impl Frame {
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("frames serialize")
    }

    pub fn decode(bytes: &[u8]) -> Result<Frame, serde_json::Error> {
        serde_json::from_slice(bytes)
    }
}

/// The wall clock in nanoseconds since the Unix epoch.
pub fn wall_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_garbage_is_an_error() {
        let frames = [
            Frame::Deliver {
                node: 1,
                incarnation: 2,
                line: "{\"src\":\"c1\"}".into(),
            },
            Frame::Network(NetChange::Partition {
                grudge: [("n1".to_owned(), ["n2".to_owned()].into())].into(),
            }),
            Frame::Net(NetEvent {
                event: checker::NetEventKind::Send,
                at: 5,
                id: 7,
                src: "n1".into(),
                via: None,
                dest: "n2".into(),
                body: Some("{}".into()),
                reason: None,
            }),
        ];
        for frame in frames {
            assert_eq!(Frame::decode(&frame.encode()).unwrap(), frame);
        }
        assert!(Frame::decode(b"{\"t\":\"nonsense\"}").is_err());
        assert!(Frame::decode(b"\xff").is_err());
    }
}
