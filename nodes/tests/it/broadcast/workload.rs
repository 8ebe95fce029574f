//! A broadcast workload on a simulated cluster: one synchronous client per node broadcasting
//! unique integers and reading, faults on a schedule, a recorded history, and the checkers of
//! the properties each algorithm promises (the definitions the harness's checkers use).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use nodes::broadcast::{Algorithm, Service};
use nodes::sim::Cluster;
use proto::Payload;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;

/// One broadcast operation.
#[derive(Debug, Clone)]
pub struct Op {
    pub value: u64,
    /// The node the client sent it to (its origin).
    pub node: String,
    pub invoked: Duration,
    /// When `broadcast_ok` was seen (None: never, or after the client gave up).
    pub acked: Option<Duration>,
}

/// A completed read.
#[derive(Debug, Clone)]
pub struct Read {
    pub node: String,
    pub completed: Duration,
    pub values: Vec<u64>,
}

#[derive(Debug, Clone, Default)]
pub struct History {
    pub ops: Vec<Op>,
    pub reads: Vec<Read>,
}

/// Faults to inject while the clients run.
#[derive(Debug, Clone, Copy, Default)]
pub struct Faults {
    /// Each node-to-node message is lost with this probability until the heal.
    pub loss: f64,
    /// Cut a random minority off for the middle third of the run.
    pub partition: bool,
    /// Crash a random node after a third of the run, restart it after another sixth.
    pub crash: bool,
    /// Every 300 ms one random change: crash a node, restart it, cut the cluster in two
    /// random parts, or heal. A node is crashed only when every node serves: one node at a
    /// time is down or still recovering.
    pub chaos: bool,
    /// With `chaos`: crash any number of nodes at once, up to all of them, whether they serve
    /// or are still recovering, and several times over (nodes keep their stable storage).
    pub crash_any: bool,
    /// Crash every node at once after a third of the run, restart them all after another
    /// sixth.
    pub crash_all: bool,
}

impl Faults {
    /// How many fault mixes [`Faults::of_kind`] knows.
    pub const KINDS: u64 = 8;

    /// One of the fault mixes the ordering tests run under, by number (modulo [`Faults::KINDS`]):
    /// none, loss, a partition, a crash, all three, loss with chaos, a crash of every node at
    /// once with loss, or chaos that crashes any number of nodes at once.
    pub fn of_kind(kind: u64) -> Faults {
        match kind % Faults::KINDS {
            0 => Faults::default(),
            1 => Faults {
                loss: 0.1,
                ..Faults::default()
            },
            2 => Faults {
                partition: true,
                ..Faults::default()
            },
            3 => Faults {
                crash: true,
                ..Faults::default()
            },
            4 => Faults {
                loss: 0.05,
                partition: true,
                crash: true,
                ..Faults::default()
            },
            5 => Faults {
                loss: 0.05,
                chaos: true,
                ..Faults::default()
            },
            6 => Faults {
                loss: 0.05,
                crash_all: true,
                ..Faults::default()
            },
            _ => Faults {
                chaos: true,
                crash_any: true,
                ..Faults::default()
            },
        }
    }
}

/// How a run goes.
#[derive(Debug, Clone, Copy)]
pub struct Scenario {
    pub nodes: usize,
    pub seed: u64,
    /// How long the clients run.
    pub duration: Duration,
    /// Per node and per 10 ms, the chance its client starts a broadcast / a read.
    pub broadcast_rate: f64,
    pub read_rate: f64,
    /// Latencies are uniform in [0, max_latency].
    pub max_latency: Duration,
    pub faults: Faults,
    /// How long to run after the heal before the final state is taken.
    pub recovery: Duration,
    /// How long the cluster runs, without faults or clients, before the clients start.
    pub warm_up: Duration,
}

impl Scenario {
    pub fn new(nodes: usize, seed: u64) -> Self {
        Scenario {
            nodes,
            seed,
            duration: Duration::from_secs(2),
            broadcast_rate: 0.04,
            read_rate: 0.03,
            max_latency: Duration::from_millis(40),
            faults: Faults::default(),
            recovery: Duration::from_secs(5),
            warm_up: Duration::from_secs(2),
        }
    }

    pub fn with_faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }
}

/// What a run produced.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub history: History,
    /// The delivered log of every node incarnation: crashed ones as they were at the crash,
    /// and each node's final one.
    pub logs: Vec<(String, Vec<u64>)>,
    /// Each node's final delivered log.
    pub finals: BTreeMap<String, Vec<u64>>,
    /// Nodes that were not serving at the end.
    pub not_serving: Vec<String>,
}

const STEP: Duration = Duration::from_millis(10);
const CLIENT_TIMEOUT: Duration = Duration::from_millis(1500);

fn as_ints(values: &[serde_json::Value]) -> Vec<u64> {
    values
        .iter()
        .filter_map(serde_json::Value::as_u64)
        .collect()
}

fn log_of<A: Algorithm>(cluster: &Cluster<Service<A>>, node: &str) -> Option<Vec<u64>> {
    cluster.node(node).map(|n| as_ints(n.delivered().values()))
}

enum Pending {
    Broadcast { msg_id: u64, op: usize },
    Read { msg_id: u64, invoked: Duration },
}

/// Run `scenario` on a cluster of `make()` nodes.
pub fn run<A: Algorithm + 'static>(scenario: Scenario, make: impl Fn() -> A + 'static) -> Outcome {
    let mut rng = ChaCha8Rng::seed_from_u64(scenario.seed ^ 0x5eed);
    let mut cluster = Cluster::new(
        scenario.nodes,
        scenario.seed,
        scenario.max_latency,
        move |_| Service::new(make()),
    );
    let ids: Vec<String> = (0..scenario.nodes).map(|i| format!("n{i}")).collect();
    let mut history = History::default();
    let mut logs = Vec::new();
    let mut pending: Vec<Option<Pending>> = (0..scenario.nodes).map(|_| None).collect();
    let mut next_value = 1u64;

    let third = scenario.duration / 3;
    let minority: Vec<String> = {
        let size = (scenario.nodes - 1) / 2;
        let mut shuffled = ids.clone();
        for i in (1..shuffled.len()).rev() {
            let j = rng.random_range(0..=i);
            shuffled.swap(i, j);
        }
        shuffled.into_iter().take(size.max(1)).collect()
    };
    let victim = ids[rng.random_range(0..ids.len())].clone();
    cluster.run_for(scenario.warm_up);
    cluster.set_loss(scenario.faults.loss);

    let start = cluster.now();
    let end = start + scenario.duration;
    let mut partitioned = false;
    let mut crashed = false;
    let mut restarted = false;
    let mut all_crashed = false;
    let mut all_restarted = false;
    let mut down: Vec<String> = Vec::new();
    let mut next_chaos = start;
    while cluster.now() < end {
        let elapsed = cluster.now() - start;
        if scenario.faults.chaos && cluster.now() >= next_chaos {
            next_chaos = cluster.now() + Duration::from_millis(300);
            let all_serving = ids
                .iter()
                .all(|n| cluster.node(n).is_some_and(|x| x.serving()));
            let may_crash = if scenario.faults.crash_any {
                down.len() < ids.len()
            } else {
                down.is_empty() && all_serving
            };
            match rng.random_range(0..4) {
                0 if may_crash => {
                    let up: Vec<String> =
                        ids.iter().filter(|n| !down.contains(n)).cloned().collect();
                    let count = if scenario.faults.crash_any {
                        rng.random_range(1..=up.len())
                    } else {
                        1
                    };
                    for _ in 0..count {
                        let candidates: Vec<&String> =
                            up.iter().filter(|n| !down.contains(n)).collect();
                        let node = candidates[rng.random_range(0..candidates.len())].clone();
                        trace(format!(
                            "{:?} crash {node} serving {:?}",
                            cluster.now(),
                            ids.iter()
                                .map(|n| cluster.node(n).is_some_and(|x| x.serving()))
                                .collect::<Vec<_>>()
                        ));
                        if let Some(log) = log_of(&cluster, &node) {
                            logs.push((node.clone(), log));
                        }
                        cluster.crash(&node);
                        down.push(node);
                    }
                }
                0 | 1 if !down.is_empty() => {
                    for node in std::mem::take(&mut down) {
                        trace(format!("{:?} restart {node}", cluster.now()));
                        cluster.restart(&node);
                    }
                }
                2 => {
                    cluster.heal();
                    let cut: Vec<&str> = ids
                        .iter()
                        .filter(|_| rng.random_bool(0.5))
                        .map(String::as_str)
                        .collect();
                    let rest: Vec<&str> = ids
                        .iter()
                        .map(String::as_str)
                        .filter(|n| !cut.contains(n))
                        .collect();
                    trace(format!("{:?} partition {cut:?} | {rest:?}", cluster.now()));
                    cluster.partition(&cut, &rest);
                }
                _ => {
                    trace(format!("{:?} heal", cluster.now()));
                    cluster.heal()
                }
            }
        }
        if scenario.faults.partition && !partitioned && elapsed >= third {
            let a: Vec<&str> = minority.iter().map(String::as_str).collect();
            let b: Vec<&str> = ids
                .iter()
                .filter(|n| !minority.contains(n))
                .map(String::as_str)
                .collect();
            cluster.partition(&a, &b);
            partitioned = true;
        }
        if scenario.faults.partition && partitioned && elapsed >= 2 * third {
            cluster.heal();
        }
        if scenario.faults.crash && !crashed && elapsed >= third {
            if let Some(log) = log_of(&cluster, &victim) {
                logs.push((victim.clone(), log));
            }
            cluster.crash(&victim);
            crashed = true;
        }
        if scenario.faults.crash && crashed && !restarted && elapsed >= third + third / 2 {
            cluster.restart(&victim);
            restarted = true;
        }
        if scenario.faults.crash_all && !all_crashed && elapsed >= third {
            trace(format!("{:?} crash every node", cluster.now()));
            for node in &ids {
                if let Some(log) = log_of(&cluster, node) {
                    logs.push((node.clone(), log));
                }
                cluster.crash(node);
            }
            all_crashed = true;
        }
        if scenario.faults.crash_all
            && all_crashed
            && !all_restarted
            && elapsed >= third + third / 2
        {
            trace(format!("{:?} restart every node", cluster.now()));
            for node in &ids {
                cluster.restart(node);
            }
            all_restarted = true;
        }
        for (i, node) in ids.iter().enumerate() {
            if pending[i].is_some() {
                continue;
            }
            let client = format!("c{i}");
            let roll: f64 = rng.random();
            if roll < scenario.broadcast_rate {
                let value = next_value;
                next_value += 1;
                let msg_id = cluster.request(
                    &client,
                    node,
                    &Payload::Broadcast {
                        message: json!(value),
                    },
                );
                history.ops.push(Op {
                    value,
                    node: node.clone(),
                    invoked: cluster.now(),
                    acked: None,
                });
                pending[i] = Some(Pending::Broadcast {
                    msg_id,
                    op: history.ops.len() - 1,
                });
            } else if roll < scenario.broadcast_rate + scenario.read_rate {
                let msg_id = cluster.request(&client, node, &Payload::Read { key: None });
                pending[i] = Some(Pending::Read {
                    msg_id,
                    invoked: cluster.now(),
                });
            }
        }
        cluster.run_for(STEP);
        let now = cluster.now();
        for (i, node) in ids.iter().enumerate() {
            let client = format!("c{i}");
            let (msg_id, invoked) = match &pending[i] {
                Some(Pending::Broadcast { msg_id, op }) => (*msg_id, history.ops[*op].invoked),
                Some(Pending::Read { msg_id, invoked }) => (*msg_id, *invoked),
                None => continue,
            };
            if let Some(reply) = cluster.reply_to(&client, msg_id) {
                match (&pending[i], &reply.body.payload) {
                    (Some(Pending::Broadcast { op, .. }), Payload::BroadcastOk) => {
                        trace(format!(
                            "{now:?} acked {} at {node}",
                            history.ops[*op].value
                        ));
                        history.ops[*op].acked = Some(now);
                    }
                    (
                        Some(Pending::Read { .. }),
                        Payload::ReadOk {
                            messages: Some(m), ..
                        },
                    ) => {
                        history.reads.push(Read {
                            node: node.clone(),
                            completed: now,
                            values: as_ints(m),
                        });
                    }
                    _ => {}
                }
                pending[i] = None;
            } else if now - invoked > CLIENT_TIMEOUT {
                pending[i] = None;
            }
        }
    }
    cluster.heal();
    cluster.set_loss(0.0);
    if scenario.faults.crash && crashed && !restarted {
        cluster.restart(&victim);
    }
    for node in down {
        cluster.restart(&node);
    }
    if scenario.faults.crash_all && all_crashed && !all_restarted {
        for node in &ids {
            cluster.restart(node);
        }
    }
    cluster.run_for(scenario.recovery);
    let mut finals = BTreeMap::new();
    let mut not_serving = Vec::new();
    for node in &ids {
        let log = log_of(&cluster, node).unwrap_or_default();
        logs.push((node.clone(), log.clone()));
        finals.insert(node.clone(), log);
        if !cluster.node(node).is_some_and(|n| n.serving()) {
            not_serving.push(node.clone());
        }
    }
    Outcome {
        history,
        logs,
        finals,
        not_serving,
    }
}

/// Stable storage: no node ever forgets what it delivered. Each node's log at each of its
/// crashes is a prefix of its log at its next crash and of its final log, and every read a
/// node answered is a prefix of its final log.
pub fn check_never_goes_back(outcome: &Outcome) -> Result<(), String> {
    let mut last: BTreeMap<&str, &[u64]> = BTreeMap::new();
    for (node, log) in &outcome.logs {
        if let Some(before) = last.get(node.as_str())
            && !log.starts_with(before)
        {
            return Err(format!(
                "{node} went back: it had delivered {before:?}, later only {log:?}"
            ));
        }
        last.insert(node, log);
    }
    for read in &outcome.history.reads {
        let fin = &outcome.finals[&read.node];
        if !fin.starts_with(&read.values) {
            return Err(format!(
                "{} read {:?} at {:?}, but its final log is {fin:?}",
                read.node, read.values, read.completed
            ));
        }
    }
    Ok(())
}

fn position(log: &[u64]) -> BTreeMap<u64, usize> {
    log.iter().enumerate().map(|(i, v)| (*v, i)).collect()
}

/// No log holds a value twice.
pub fn check_no_duplicates(outcome: &Outcome) -> Result<(), String> {
    for (node, log) in &outcome.logs {
        let distinct: BTreeSet<&u64> = log.iter().collect();
        if distinct.len() != log.len() {
            return Err(format!("{node} delivered a value twice: {log:?}"));
        }
    }
    Ok(())
}

/// Every acknowledged value is in every node's final log, and every node serves.
pub fn check_complete(outcome: &Outcome) -> Result<(), String> {
    if !outcome.not_serving.is_empty() {
        return Err(format!("not serving at the end: {:?}", outcome.not_serving));
    }
    for op in outcome.history.ops.iter().filter(|op| op.acked.is_some()) {
        for (node, log) in &outcome.finals {
            if !log.contains(&op.value) {
                return Err(format!(
                    "acknowledged {} (origin {}) missing at {node}: {log:?}",
                    op.value, op.node
                ));
            }
        }
    }
    Ok(())
}

/// Every log delivers `before` ahead of `after` whenever it delivers `after`.
fn check_edges(outcome: &Outcome, edges: &BTreeSet<(u64, u64)>, what: &str) -> Result<(), String> {
    for (node, log) in &outcome.logs {
        let at = position(log);
        for (before, after) in edges {
            if let Some(j) = at.get(after) {
                match at.get(before) {
                    Some(i) if i < j => {}
                    Some(_) => {
                        return Err(format!(
                            "{what}: {node} delivered {after} before {before}: {log:?}"
                        ));
                    }
                    None => {
                        return Err(format!(
                            "{what}: {node} delivered {after} without {before}: {log:?}"
                        ));
                    }
                }
            }
        }
    }
    Ok(())
}

/// FIFO: if `m1`'s broadcast was acknowledged before `m2`'s was invoked at the same origin,
/// every log with `m2` has `m1` before it.
pub fn fifo_edges(history: &History) -> BTreeSet<(u64, u64)> {
    let mut edges = BTreeSet::new();
    for m1 in &history.ops {
        let Some(acked) = m1.acked else { continue };
        for m2 in history
            .ops
            .iter()
            .filter(|m2| m2.node == m1.node && m2.invoked > acked)
        {
            edges.insert((m1.value, m2.value));
        }
    }
    edges
}

pub fn check_fifo(outcome: &Outcome) -> Result<(), String> {
    check_edges(outcome, &fifo_edges(&outcome.history), "FIFO")
}

/// Causal: FIFO edges, plus `m1 -> m2` when `m1` was in a read at `m2`'s origin completed
/// before `m2` was invoked; closed transitively.
pub fn check_causal(outcome: &Outcome) -> Result<(), String> {
    let history = &outcome.history;
    let mut edges = fifo_edges(history);
    for m2 in &history.ops {
        for read in history
            .reads
            .iter()
            .filter(|r| r.node == m2.node && r.completed < m2.invoked)
        {
            for &m1 in &read.values {
                edges.insert((m1, m2.value));
            }
        }
    }
    // Transitive closure.
    let mut after: BTreeMap<u64, BTreeSet<u64>> = BTreeMap::new();
    for &(a, b) in &edges {
        after.entry(a).or_default().insert(b);
    }
    let mut closed = BTreeSet::new();
    for &start in after.keys() {
        let mut stack: Vec<u64> = after[&start].iter().copied().collect();
        let mut seen = BTreeSet::new();
        while let Some(next) = stack.pop() {
            if seen.insert(next) {
                closed.insert((start, next));
                if let Some(more) = after.get(&next) {
                    stack.extend(more.iter().copied());
                }
            }
        }
    }
    check_edges(outcome, &closed, "causal")
}

/// Total order: every log is a prefix of one common order (pairwise prefix-compatible).
pub fn check_total(outcome: &Outcome) -> Result<(), String> {
    for (a, log_a) in &outcome.logs {
        for (b, log_b) in &outcome.logs {
            let k = log_a.len().min(log_b.len());
            if log_a[..k] != log_b[..k] {
                let i = (0..k).find(|&i| log_a[i] != log_b[i]).unwrap_or(k);
                return Err(format!(
                    "total order: {a} and {b} differ at position {i}: {log_a:?} vs {log_b:?}"
                ));
            }
        }
    }
    Ok(())
}

fn trace(line: String) {
    if std::env::var_os("WORKLOAD_TRACE").is_some() {
        println!("{line}");
    }
}
