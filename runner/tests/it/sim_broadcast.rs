//! The reference broadcast nodes under the simulator, over many seeds, node counts and fault
//! mixes, judged by the harness's own clients, nemesis and checkers (set-full, the FIFO /
//! causal / total order checker, Jepsen's stats rule) plus a few checks on the run's history.
//!
//! These were properties of the `nodes` crate's tests, on a workload, nemesis and checkers
//! of their own beside the harness's; each test here names the one it replaces. What each
//! old check became:
//!
//! - order (`check_fifo`, `check_causal`, `check_total`): `--ordering fifo|causal|total`, and
//!   `results["ordering"]["valid"]`. The harness checks the order of every ok read (of every
//!   node incarnation), where the old checks saw every incarnation's whole log.
//! - each value at most once (`check_no_duplicates`): set-full's `duplicated_count` and the
//!   ordering checker's duplicate violations (both part of the verdict).
//! - every acknowledged value everywhere, every node serving (`check_complete`): each node's
//!   final read (retried by the harness after recovery) ended ok and holds every value whose
//!   broadcast was acknowledged ([`Checked::complete`], from history.jsonl), and set-full lost
//!   nothing (`results["workload"]["lost_count"]`).
//! - no node forgets what it delivered (`check_never_goes_back`): every ok read of a node, in
//!   any incarnation, is a prefix of its final read ([`Checked::never_goes_back`]). The old
//!   check also compared the logs the nodes held at the instant of each crash, which no client
//!   can observe; the harness sees what the reads saw.
//! - "most broadcasts were acknowledged" (`busy`): the harness's verdict must be valid (Jepsen's
//!   stats rule: every operation succeeded at least once), and, of the broadcasts invoked in
//!   calm (no fault on, none for a second), at least a third acknowledged and at least 5 in
//!   all ([`Checked::busy`] says why calm: the harness's faults are on far longer than the old
//!   ones). Not asked under chaos, as before; the tests that did not ask it before (the
//!   reliability, fail-recovery and soak tests) accept a run the harness finds unavailable
//!   but not failed.
//!
//! A run that breaks a check is reported with the command that replays it and its folder.
//! The old scenario's shape: 2 s of warm-up then 2 s of clients (here one 6 s `--time-limit`:
//! the harness has no warm-up, so the first operations may fail while nodes start, and its
//! nemesis keeps faults on about half the time, so the clients need longer to be busy), about
//! 4 broadcasts and 3 reads per node per second, latency uniform in [0, 40] ms, 5 s of
//! recovery. Faults ([`Faults::flags`]): loss is `--nemesis loss` (the harness's fixed 20 %,
//! where the old tests lost 5 to 15 %), the minority cut off is `partition` (any of the
//! harness's shapes), a crash of one node is `kill` on `--nemesis-targets one`, of every node
//! at once `kill` on `all`, chaos is `partition,kill` every 0.3 s on average, on `one` or, to
//! kill any number of nodes at once, on `one,minority,majority,all`. A kill keeps the node's
//! stable storage, as the old crash did.

use std::path::{Path, PathBuf};

use checker::{Event, EventType, Process};
use runner::config::TestConfig;
use runner::explore::{Verdict, classify};
use runner::results::RunOutcome;
use serde_json::Value;

/// Faults to inject: the old fault mixes, as `harness test` flags.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Faults {
    loss: bool,
    /// Partitions (the old test cut a random minority off once).
    partition: bool,
    /// Kills of one node at a time (the old test crashed one node once).
    crash: bool,
    /// Frequent faults: kills, partitions, heals every few hundred ms (the old `chaos`).
    chaos: bool,
    /// With `chaos`: kills of any number of nodes at once, up to all of them.
    crash_any: bool,
    /// Kills of every node at once.
    crash_all: bool,
}

impl Faults {
    /// How many fault mixes [`Faults::of_kind`] knows.
    const KINDS: u64 = 8;

    /// The old ordering tests' fault mixes, by number: none, loss, partitions, kills of one
    /// node, all three, loss with chaos, loss with kills of every node at once, chaos that
    /// kills any number of nodes at once.
    fn of_kind(kind: u64) -> Faults {
        let none = Faults::default();
        match kind % Faults::KINDS {
            0 => none,
            1 => Faults { loss: true, ..none },
            2 => Faults {
                partition: true,
                ..none
            },
            3 => Faults {
                crash: true,
                ..none
            },
            4 => Faults {
                loss: true,
                partition: true,
                crash: true,
                ..none
            },
            5 => Faults {
                loss: true,
                chaos: true,
                ..none
            },
            6 => Faults {
                loss: true,
                crash_all: true,
                ..none
            },
            _ => Faults {
                chaos: true,
                crash_any: true,
                ..none
            },
        }
    }

    /// `--nemesis`, `--nemesis-targets` and `--nemesis-interval`.
    fn flags(self) -> Vec<String> {
        let mut kinds = Vec::new();
        if self.loss {
            kinds.push("loss");
        }
        if self.partition || self.chaos {
            kinds.push("partition");
        }
        if self.crash || self.chaos || self.crash_all {
            kinds.push("kill");
        }
        if kinds.is_empty() {
            return Vec::new();
        }
        let mut targets = Vec::new();
        if self.crash || (self.chaos && !self.crash_any) {
            targets.push("one");
        }
        if self.chaos && self.crash_any {
            targets.extend(["one", "minority", "majority", "all"]);
        }
        if self.crash_all {
            targets.push("all");
        }
        targets.dedup();
        // Chaos: a fault action every 300 ms or so. Otherwise one or two episodes of each kind
        // in a 6 s run (the first starts within `2 * interval`, lasts up to as long), as the
        // old schedule's one partition and one crash.
        let interval = if self.chaos { "0.3" } else { "2" };
        let mut flags = vec![
            "--nemesis".to_owned(),
            kinds.join(","),
            "--nemesis-interval".to_owned(),
            interval.to_owned(),
        ];
        if !targets.is_empty() {
            flags.extend(["--nemesis-targets".to_owned(), targets.join(",")]);
        }
        flags
    }
}

/// One simulated run.
#[derive(Debug, Clone)]
struct Case {
    /// The reference node (`broadcast-fifo`, ...).
    node: &'static str,
    /// Its flags (after `--`).
    node_args: Vec<String>,
    /// The order it promises.
    ordering: Option<&'static str>,
    nodes: usize,
    seed: u64,
    faults: Faults,
    time_limit: f64,
    recovery: f64,
}

impl Case {
    fn new(node: &'static str, nodes: usize, seed: u64, faults: Faults) -> Case {
        let ordering = match node {
            "broadcast-fifo" => Some("fifo"),
            "broadcast-causal" => Some("causal"),
            "broadcast-total-leader" | "broadcast-total-lamport" => Some("total"),
            _ => None,
        };
        Case {
            node,
            node_args: Vec::new(),
            ordering,
            nodes,
            seed,
            faults,
            time_limit: 6.0,
            recovery: 5.0,
        }
    }

    /// The `harness test` command of this run.
    fn words(&self, store: &Path) -> Vec<String> {
        let mut words: Vec<String> = ["harness", "test", "--sim", "-w", "broadcast", "--node"]
            .map(String::from)
            .to_vec();
        words.push(self.node.to_owned());
        if let Some(mode) = self.ordering {
            words.extend(["--ordering".to_owned(), mode.to_owned()]);
        }
        // About 4 broadcasts and 3 reads per node per second, as before.
        let rate = 7 * self.nodes;
        for (flag, value) in [
            ("--node-count", self.nodes.to_string()),
            ("--time-limit", self.time_limit.to_string()),
            ("--rate", rate.to_string()),
            ("--latency", "20".to_owned()),
            ("--latency-dist", "uniform".to_owned()),
            ("--recovery-time", self.recovery.to_string()),
            ("--seed", self.seed.to_string()),
        ] {
            words.extend([flag.to_owned(), value]);
        }
        words.extend(self.faults.flags());
        words.extend(["--store".to_owned(), store.display().to_string()]);
        if !self.node_args.is_empty() {
            words.push("--".to_owned());
            words.extend(self.node_args.iter().cloned());
        }
        words
    }

    /// Run it: the outcome and its history.
    fn run(&self) -> Checked {
        let store = store();
        let words = self.words(&store);
        let command = words.join(" ");
        let args = runner::config::parse_test_command(&words)
            .unwrap_or_else(|e| panic!("{command}: {e:#}"));
        let mut config = TestConfig::from_args(&args, words.clone())
            .unwrap_or_else(|e| panic!("{command}: {e:#}"));
        config.quiet = true;
        config.progress = false;
        config.page = false;
        let outcome = runner::run::run_test(config).unwrap_or_else(|e| panic!("{command}: {e:#}"));
        let history = checker::read_history_file(&outcome.dir.join("history.jsonl"))
            .unwrap_or_else(|e| panic!("{command}: {e}"));
        Checked {
            case: self.clone(),
            command,
            outcome,
            history,
        }
    }
}

/// The folder this test's runs are written to: the failing ones stay, the others are removed
/// as they pass, and the folder with them when every run passed ([`tidy`]).
fn store() -> PathBuf {
    let test = std::thread::current()
        .name()
        .unwrap_or("main")
        .replace(|c: char| !c.is_ascii_alphanumeric(), "-");
    std::env::temp_dir().join(format!(
        "harness-sim-broadcast-{}-{test}",
        std::process::id()
    ))
}

/// Remove this test's store (call when every run passed).
fn tidy() {
    let _ = std::fs::remove_dir_all(store());
}

/// A finished run and what to check on it.
struct Checked {
    case: Case,
    command: String,
    outcome: RunOutcome,
    history: Vec<Event>,
}

impl Checked {
    fn results(&self) -> &Value {
        &self.outcome.results
    }

    /// The values whose broadcast was acknowledged.
    fn acknowledged(&self) -> Vec<&Value> {
        self.history
            .iter()
            .filter(|e| e.f == "broadcast" && e.kind == EventType::Ok)
            .map(|e| &e.value)
            .collect()
    }

    /// Ok reads (not the final ones) by node, with what they returned.
    fn reads(&self) -> impl Iterator<Item = (&str, &[Value])> {
        self.history.iter().filter_map(|e| {
            if e.f != "read" || e.kind != EventType::Ok || e.is_final {
                return None;
            }
            Some((e.node.as_deref()?, e.value.as_array()?.as_slice()))
        })
    }

    /// Each node's final read: the last completion of its final op, if it was ok.
    fn finals(&self) -> Result<Vec<(String, &[Value])>, String> {
        let mut finals = Vec::new();
        for i in 0..self.case.nodes {
            let node = format!("n{i}");
            let last = self.history.iter().rev().find(|e| {
                e.is_final && e.kind != EventType::Invoke && e.node.as_ref() == Some(&node)
            });
            match last {
                Some(e) if e.kind == EventType::Ok => {
                    let values = e.value.as_array().map(Vec::as_slice).unwrap_or_default();
                    finals.push((node, values));
                }
                Some(e) => {
                    return Err(format!(
                        "{node} not serving at the end: its final read ended {:?} ({:?})",
                        e.kind, e.error
                    ));
                }
                None => return Err(format!("{node}: no final read completed")),
            }
        }
        Ok(finals)
    }

    /// `check_complete`: every node serves at the end, every acknowledged value is in every
    /// node's final read, and set-full lost nothing.
    fn complete(&self) -> Result<(), String> {
        let lost = &self.results()["workload"]["lost_count"];
        if lost != 0 {
            return Err(format!("set-full lost {lost} values"));
        }
        let finals = self.finals()?;
        for value in self.acknowledged() {
            for (node, log) in &finals {
                if !log.contains(value) {
                    return Err(format!(
                        "acknowledged {value} missing from {node}'s final read {}",
                        Value::from(log.to_vec())
                    ));
                }
            }
        }
        Ok(())
    }

    /// `check_no_duplicates`: no read lists a value twice.
    fn no_duplicates(&self) -> Result<(), String> {
        let duplicated = &self.results()["workload"]["duplicated_count"];
        if duplicated != 0 {
            return Err(format!("set-full: {duplicated} values read twice"));
        }
        let kinds = &self.results()["ordering"]["violations_by_kind"];
        if kinds.get("duplicate").is_some_and(|n| n != 0) {
            return Err(format!("ordering: duplicate deliveries {kinds}"));
        }
        Ok(())
    }

    /// `check_never_goes_back`: every ok read of a node is a prefix of its final read.
    fn never_goes_back(&self) -> Result<(), String> {
        let finals = self.finals()?;
        for (node, read) in self.reads() {
            let (_, fin) = finals.iter().find(|(n, _)| n == node).expect("every node");
            if !fin.starts_with(read) {
                return Err(format!(
                    "{node} went back: it read {}, its final read is {}",
                    Value::from(read.to_vec()),
                    Value::from(fin.to_vec())
                ));
            }
        }
        Ok(())
    }

    /// The order the node promises (`--ordering`), when it promises one.
    fn order(&self) -> Result<(), String> {
        match self.case.ordering {
            Some(mode) if self.results()["ordering"]["valid"] != true => Err(format!(
                "{mode} order broken: {}",
                self.results()["ordering"]["violations"]
            )),
            _ => Ok(()),
        }
    }

    /// Broadcasts invoked and acknowledged.
    fn broadcasts(&self) -> (u64, u64) {
        let b = &self.results()["stats"]["by_f"]["broadcast"];
        (
            b["count"].as_u64().unwrap_or(0),
            b["ok_count"].as_u64().unwrap_or(0),
        )
    }

    /// Broadcasts of calm (invoked with no fault on, at least [`SETTLE_NS`] since the start and
    /// since the last fault ended, and completed before the next fault started), and how many
    /// of them were acknowledged.
    fn calm_broadcasts(&self) -> (u64, u64) {
        let (mut active, mut calm_from) = (0i64, SETTLE_NS);
        let mut invoked_in_calm = std::collections::BTreeSet::new();
        let (mut calm, mut calm_ok) = (0u64, 0u64);
        for e in &self.history {
            if matches!(e.process, Process::Nemesis(_)) {
                let starts =
                    matches!(e.f.as_str(), "kill" | "pause" | "wipe") || e.f.starts_with("start-");
                if starts {
                    // A broadcast a fault overtook is not one of calm.
                    calm -= invoked_in_calm.len() as u64;
                    invoked_in_calm.clear();
                }
                match e.f.as_str() {
                    "kill" | "pause" | "wipe" => active += 1,
                    "restart" | "resume" => {
                        active -= 1;
                        calm_from = e.time + SETTLE_NS;
                    }
                    f if f.starts_with("start-") => active += 1,
                    f if f.starts_with("stop-") => {
                        active -= 1;
                        calm_from = e.time + SETTLE_NS;
                    }
                    _ => {}
                }
                continue;
            }
            let Process::Client(process) = e.process else {
                continue;
            };
            if e.f != "broadcast" {
                continue;
            }
            match e.kind {
                EventType::Invoke if active == 0 && e.time >= calm_from => {
                    invoked_in_calm.insert(process);
                    calm += 1;
                }
                EventType::Invoke => {}
                kind => {
                    if invoked_in_calm.remove(&process) && kind == EventType::Ok {
                        calm_ok += 1;
                    }
                }
            }
        }
        (calm, calm_ok)
    }

    /// `busy`: most broadcasts were acknowledged, so the checks had work (not asked under
    /// chaos, under which the ordered nodes are rightly unavailable much of the time).
    ///
    /// The old test had 2 s of warm-up, one short fault of each kind, and clients that gave
    /// up after 1.5 s; the harness's nemesis has its faults on about half the time, no
    /// warm-up, and its clients wait 5 s for a request lost in a kill before the next. So
    /// "most" is asked of the broadcasts invoked in calm ([`Checked::calm_broadcasts`]): when
    /// at least 3 were, at least a third of them must be acknowledged, and when at least 5
    /// were, at least 5 broadcasts must be acknowledged in all.
    fn busy(&self) -> Result<(), String> {
        if self.case.faults.chaos {
            return Ok(());
        }
        let (count, ok) = self.broadcasts();
        let (calm, calm_ok) = self.calm_broadcasts();
        if calm >= 5 && ok < 5 {
            return Err(format!(
                "only {ok} of {count} broadcasts acknowledged ({calm} invoked in calm)"
            ));
        }
        if calm >= 3 && calm_ok * 3 < calm {
            return Err(format!(
                "only {calm_ok} of {calm} broadcasts invoked in calm acknowledged ({ok} of {count} in all)"
            ));
        }
        Ok(())
    }

    /// The harness's verdict: valid; under chaos, not failed (unavailability is allowed).
    fn verdict(&self) -> Result<(), String> {
        if self.case.faults.chaos {
            return self.not_failed();
        }
        match classify(&self.outcome) {
            Verdict::Valid => Ok(()),
            verdict => Err(self.verdict_error(verdict)),
        }
    }

    /// The harness's verdict is not a failure: valid, or unavailable only (Jepsen's stats
    /// rule: an operation that never succeeded), which the old tests without a `busy` check
    /// allowed, or undecided.
    fn not_failed(&self) -> Result<(), String> {
        match classify(&self.outcome) {
            Verdict::Failed => Err(self.verdict_error(Verdict::Failed)),
            _ => Ok(()),
        }
    }

    fn verdict_error(&self, verdict: Verdict) -> String {
        format!(
            "{verdict:?}: {}",
            self.results()["headline"].as_str().unwrap_or("?")
        )
    }

    /// All of `checks`; the run's folder is removed when they pass, and kept otherwise.
    fn all(&self, checks: &[Check]) -> Result<(), String> {
        for check in checks {
            if let Err(why) = check(self) {
                return Err(format!(
                    "{}, {} nodes, {:?}: {why}\n  replay: {}\n  run: {}",
                    self.case.node,
                    self.case.nodes,
                    self.case.faults,
                    self.command,
                    self.outcome.dir.display()
                ));
            }
        }
        let _ = std::fs::remove_dir_all(&self.outcome.dir);
        Ok(())
    }
}

/// One check of a run: why it fails, if it does.
type Check = fn(&Checked) -> Result<(), String>;

/// How long after the start, and after a fault ends, before [`Checked::busy`] counts
/// broadcasts as invoked in calm.
const SETTLE_NS: u64 = 1_000_000_000;

/// Every check of an ordered node: the verdict, busy, order, duplicates, completeness.
const ORDERED: [Check; 5] = [
    Checked::verdict,
    Checked::busy,
    Checked::order,
    Checked::no_duplicates,
    Checked::complete,
];

/// The checks of the reliability and fail-recovery tests (no availability asked, as before): a
/// verdict that is not a failure, order, duplicates, completeness, and
/// no node forgets.
const DURABLE: [Check; 5] = [
    Checked::not_failed,
    Checked::order,
    Checked::no_duplicates,
    Checked::complete,
    Checked::never_goes_back,
];

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// Run every case, collect every failure, and fail with all of them.
fn run_all(cases: impl IntoIterator<Item = Case>, checks: &[Check]) {
    let failures: Vec<String> = cases
        .into_iter()
        .filter_map(|case| case.run().all(checks).err())
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    tidy();
}

/// Seeds of the ordered nodes' property tests: every (fault mix, node count) pair of 3..=5
/// nodes twice.
const SEEDS: u64 = Faults::KINDS * 3 * 2;

/// The seeds of a property test: `0..default`, or `SIM_FIRST..SIM_FIRST + SIM_SEEDS` when
/// these are set (`SIM_SEEDS=1000 cargo test -p runner --test it sim_` for a long search).
fn seeds(default: u64) -> std::ops::Range<u64> {
    let first = env("SIM_FIRST", 0);
    first..first + env("SIM_SEEDS", default)
}

/// A case of an ordered node for `seed`: fault mix `seed % 8`, 3 + `seed / 8 % 3` nodes.
fn ordered_case(node: &'static str, seed: u64) -> Case {
    let nodes = 3 + (seed / Faults::KINDS % 3) as usize;
    Case::new(node, nodes, seed, Faults::of_kind(seed))
}

/// Replaces `ordering.rs`'s `fifo_nodes_deliver_each_origin_in_order` (proptest, 12 cases).
#[test]
fn sim_fifo_nodes_deliver_each_origin_in_order() {
    run_all(
        seeds(SEEDS).map(|s| ordered_case("broadcast-fifo", s)),
        &ORDERED,
    );
}

/// Replaces `ordering.rs`'s `causal_nodes_respect_happens_before` (proptest, 12 cases).
///
/// Known failure outside the default seeds (`SIM_SEEDS=400`): seed 210 (5 nodes, partitions
/// only), `harness test --sim -w broadcast --node broadcast-causal --ordering causal
/// --node-count 5 --time-limit 6 --rate 35 --latency 20 --latency-dist uniform
/// --recovery-time 5 --seed 210 --nemesis partition --nemesis-interval 2`: value 101,
/// acknowledged at 5.8 s by n4 just before n4 was cut off until 6.0 s, is missing from n3's
/// final read after 5 s without faults (n3 delivers it 8 to 9 s after the heal). The harness
/// calls the run valid (set-full's `stable` only asks the last read to hold it: n3's final
/// read is not the last one); `Checked::complete`, the old test's check, does not.
#[test]
fn sim_causal_nodes_respect_happens_before() {
    run_all(
        seeds(SEEDS).map(|s| ordered_case("broadcast-causal", s)),
        &ORDERED,
    );
}

/// Replaces `ordering.rs`'s `leader_nodes_agree_on_one_order` (proptest, 12 cases).
#[test]
fn sim_leader_nodes_agree_on_one_order() {
    run_all(
        seeds(SEEDS).map(|s| ordered_case("broadcast-total-leader", s)),
        &ORDERED,
    );
}

/// Replaces `ordering.rs`'s `lamport_nodes_agree_on_one_order` (proptest, 12 cases).
#[test]
fn sim_lamport_nodes_agree_on_one_order() {
    run_all(
        seeds(SEEDS).map(|s| ordered_case("broadcast-total-lamport", s)),
        &ORDERED,
    );
}

/// Replaces `ordering.rs`'s `fifo_order_is_weaker_than_causal_order`: the order checker is not
/// vacuous. Under message loss some seed shows the FIFO node keeping FIFO order but breaking
/// causal order, while the causal node on the same seed keeps causal order.
#[test]
fn sim_fifo_order_is_weaker_than_causal_order() {
    let lossy = Faults {
        loss: true,
        ..Faults::default()
    };
    let as_mode = |node: &'static str, mode: &'static str, seed: u64| {
        let mut case = Case::new(node, 5, seed, lossy);
        case.ordering = Some(mode);
        let run = case.run();
        let valid = run.results()["ordering"]["valid"] == true;
        let _ = std::fs::remove_dir_all(&run.outcome.dir);
        valid
    };
    let violating = (0..40u64).find(|&seed| {
        !as_mode("broadcast-fifo", "causal", seed) && as_mode("broadcast-fifo", "fifo", seed)
    });
    let Some(seed) = violating else {
        panic!("no seed made the FIFO node break causal order");
    };
    assert!(
        as_mode("broadcast-causal", "causal", seed),
        "broadcast-causal broke causal order on seed {seed}"
    );
    tidy();
}

/// Random fault mixes of the reliability tests, drawn from the seed: each of loss,
/// partitions, kills, chaos, chaos killing any nodes, kills of every node, on or off.
fn any_faults(seed: u64) -> Faults {
    let bits = splitmix(seed);
    let on = |i: u32| bits >> i & 1 == 1;
    Faults {
        loss: on(0),
        partition: on(1),
        crash: on(2),
        chaos: on(3),
        crash_any: on(3) && on(4),
        crash_all: on(5),
    }
}

fn splitmix(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Replaces `reliability.rs`'s `eager_delivers_every_acknowledged_value_everywhere` (proptest,
/// 12 cases of 2..=6 nodes and any fault mix): whatever the faults, after the heal every
/// acknowledged value reaches every node, each at most once, and no node forgets.
#[test]
fn sim_eager_delivers_every_acknowledged_value_everywhere() {
    let cases = seeds(60).map(|seed| {
        let nodes = 2 + (splitmix(seed ^ 1) % 5) as usize;
        Case::new("broadcast-eager", nodes, seed, any_faults(seed))
    });
    run_all(cases, &DURABLE);
}

/// Replaces `reliability.rs`'s `gossip_delivers_every_acknowledged_value_everywhere`
/// (proptest, 12 cases of 2..=7 nodes, fanout 1..=3, tree or random peers, any fault mix).
#[test]
fn sim_gossip_delivers_every_acknowledged_value_everywhere() {
    let cases = seeds(60).map(|seed| {
        let draw = splitmix(seed ^ 2);
        let nodes = 2 + (draw % 6) as usize;
        let fanout = 1 + (draw >> 8) % 3;
        let peers = if draw >> 16 & 1 == 1 {
            "random"
        } else {
            "tree"
        };
        let mut case = Case::new("broadcast-gossip", nodes, seed, any_faults(seed));
        case.node_args = vec![
            "--peers".to_owned(),
            peers.to_owned(),
            "--fanout".to_owned(),
            fanout.to_string(),
        ];
        case
    });
    run_all(cases, &DURABLE);
}

/// Replaces `reliability.rs`'s `without_faults_broadcasts_are_acknowledged`: without faults
/// nearly every broadcast is acknowledged (at least 10, and 80 %), and every acknowledged
/// value reaches every node, so the properties above are not checked on empty histories.
#[test]
fn sim_without_faults_broadcasts_are_acknowledged() {
    for node in ["broadcast-eager", "broadcast-gossip"] {
        for seed in 0..5 {
            let run = Case::new(node, 4, seed, Faults::default()).run();
            let (count, ok) = run.broadcasts();
            if let Err(why) = run.all(&[Checked::verdict, Checked::complete]) {
                panic!("{why}");
            }
            assert!(
                ok >= 10 && ok * 10 >= count * 8,
                "{node}, seed {seed}: {ok} of {count} broadcasts acknowledged"
            );
        }
    }
    tidy();
}

/// Every broadcast reference node, in the order of the course.
const ALL_NODES: [&str; 6] = runner::compare::VARIANTS;

/// Replaces `durability.rs`'s `every_algorithm_survives_the_kill_of_every_node_at_once`:
/// every node killed at once (`--nemesis kill --nemesis-targets all`), then restarted; with
/// stable storage nothing acknowledged is lost, each node's order holds, no node forgets, and
/// some broadcast was acknowledged. The run must have killed every node at least once.
#[test]
fn sim_every_node_survives_the_kill_of_every_node_at_once() {
    let faults = Faults {
        crash_all: true,
        ..Faults::default()
    };
    let killed_all = |run: &Checked| {
        let all = run.case.nodes;
        let kills = run
            .history
            .iter()
            .filter(|e| matches!(e.process, Process::Nemesis(_)) && e.f == "kill")
            .filter(|e| e.value.as_array().is_some_and(|v| v.len() == all))
            .count();
        if kills == 0 {
            return Err("no kill of every node at once".to_owned());
        }
        // Some broadcast acknowledged, when some was invoked in calm (`Checked::busy`).
        if run.broadcasts().1 == 0 && run.calm_broadcasts().0 > 0 {
            return Err("nothing was acknowledged: the check had no work".to_owned());
        }
        Ok(())
    };
    let mut failures = Vec::new();
    for node in ALL_NODES {
        for seed in seeds(6) {
            let run = Case::new(node, 5, seed, faults).run();
            let mut checks = DURABLE.to_vec();
            checks.insert(0, killed_all);
            if let Err(why) = run.all(&checks) {
                failures.push(why);
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    tidy();
}

/// Replaces `durability.rs`'s `every_algorithm_survives_repeated_kills_of_any_nodes`
/// (proptest, 12 cases): chaos that kills any number of nodes at once, up to all of them,
/// with partitions and heals in between, 3..=5 nodes, 8 s of recovery.
#[test]
fn sim_every_node_survives_repeated_kills_of_any_nodes() {
    let faults = Faults::of_kind(7);
    let cases = seeds(60).map(|seed| {
        let node = ALL_NODES[(seed % 6) as usize];
        let nodes = 3 + (seed / 6 % 3) as usize;
        let mut case = Case::new(node, nodes, seed, faults);
        case.recovery = 8.0;
        case
    });
    run_all(cases, &DURABLE);
}

/// Replaces `soak.rs`'s `ordered_broadcasts_survive_every_fault_on_many_seeds` (ignored
/// before, as it ran for minutes): the four ordered nodes, 3..=5 nodes, every fault mix,
/// 4 s of clients after a 2 s start and 8 s of recovery, every property. A few seeds here;
/// more on demand with `SOAK_SEEDS=2000 SOAK_FIRST=0 cargo test -p runner --test it sim_soak`.
#[test]
fn sim_soak_ordered_broadcasts_survive_every_fault_on_many_seeds() {
    let first = env("SOAK_FIRST", 0);
    let seeds = env("SOAK_SEEDS", 12);
    let cases = (first..first + seeds).flat_map(|seed| {
        let nodes = 3 + (seed % 3) as usize;
        let faults = Faults::of_kind(seed / 3);
        [
            "broadcast-fifo",
            "broadcast-causal",
            "broadcast-total-leader",
            "broadcast-total-lamport",
        ]
        .map(move |node| {
            let mut case = Case::new(node, nodes, seed, faults);
            case.time_limit = 6.0;
            case.recovery = 8.0;
            case
        })
    });
    run_all(
        cases,
        &[
            Checked::not_failed,
            Checked::order,
            Checked::no_duplicates,
            Checked::complete,
        ],
    );
}

/// The checks this module makes on the history itself are not vacuous: on a made-up history of
/// two nodes where n0 read `[1, 2]`, then its final read held only `[1]` (it forgot 2, whose
/// broadcast was acknowledged), and n1's final read failed, each of them fails.
#[test]
fn sim_history_checks_catch_a_forgetful_node() {
    let events = [
        (
            Some("n0"),
            EventType::Invoke,
            "broadcast",
            serde_json::json!(1),
            false,
        ),
        (
            Some("n0"),
            EventType::Ok,
            "broadcast",
            serde_json::json!(1),
            false,
        ),
        (
            Some("n0"),
            EventType::Invoke,
            "broadcast",
            serde_json::json!(2),
            false,
        ),
        (
            Some("n0"),
            EventType::Ok,
            "broadcast",
            serde_json::json!(2),
            false,
        ),
        (Some("n0"), EventType::Invoke, "read", Value::Null, false),
        (
            Some("n0"),
            EventType::Ok,
            "read",
            serde_json::json!([1, 2]),
            false,
        ),
        (Some("n0"), EventType::Invoke, "read", Value::Null, true),
        (
            Some("n0"),
            EventType::Ok,
            "read",
            serde_json::json!([1]),
            true,
        ),
        (Some("n1"), EventType::Invoke, "read", Value::Null, true),
        (Some("n1"), EventType::Fail, "read", Value::Null, true),
    ];
    let history: Vec<Event> = events
        .into_iter()
        .enumerate()
        .map(|(i, (node, kind, f, value, is_final))| Event {
            index: i as u64,
            time: i as u64 * 1_000_000,
            process: Process::Client(u64::from(is_final) * 10 + u64::from(node == Some("n1"))),
            node: node.map(str::to_owned),
            kind,
            f: f.to_owned(),
            value,
            error: None,
            is_final,
        })
        .collect();
    let results = serde_json::json!({
        "workload": {"lost_count": 0, "duplicated_count": 0},
        "ordering": {"valid": true, "violations_by_kind": {}},
        "stats": {"by_f": {"broadcast": {"count": 2, "ok_count": 2}}},
    });
    let run = Checked {
        case: Case::new("broadcast-eager", 2, 0, Faults::default()),
        command: String::new(),
        outcome: RunOutcome {
            exit_code: 0,
            valid: checker::Validity::Valid,
            dir: PathBuf::new(),
            results,
        },
        history,
    };
    let not_serving = run.complete().expect_err("n1 is not serving");
    assert!(not_serving.contains("n1 not serving"), "{not_serving}");
    assert!(run.never_goes_back().is_err(), "n1's final read failed");
    // With n1's final read ok and holding everything, n0 alone is at fault.
    let mut run = run;
    let n1_final = run.history.last_mut().expect("events");
    n1_final.kind = EventType::Ok;
    n1_final.value = serde_json::json!([1, 2]);
    let missing = run.complete().expect_err("2 missing at n0");
    assert!(
        missing.contains("acknowledged 2 missing from n0"),
        "{missing}"
    );
    let back = run.never_goes_back().expect_err("n0 forgot 2");
    assert!(back.contains("n0 went back"), "{back}");
    assert_eq!(run.no_duplicates(), Ok(()));
    assert_eq!(run.calm_broadcasts(), (0, 0), "all within the first second");
}
