//! Three "hosts" as Linux network namespaces on this machine (`scripts/netns.sh`: veth pairs
//! to a bridge, an `unreachable` route for the subnet outside them so no packet leaves the
//! machine), one `harness agent` in each, the controller in a fourth namespace: `harness test
//! -w broadcast --hosts ...` with the reference gossip node and with a Python node, with and
//! without `--nemesis partition,kill`, is valid, and the journal shows messages crossing
//! between the namespaces. With `nft` installed, the agents cut partitions in each namespace's
//! own firewall, and leave no rule behind.
//!
//! Needs root and iproute2; prints `skipped` (and passes) without them. The namespaces, the
//! route and the agents are removed at the end, also when the test fails.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::agents::{Agent, key_file};
use crate::harness::{harness_test_in, node_bin, test_node};

const HOSTS: usize = 3;

/// The namespaces of one test; dropping this removes them and the route.
struct Namespaces {
    prefix: String,
    net: String,
}

fn script() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/netns.sh")
}

impl Namespaces {
    fn up() -> Result<Namespaces, String> {
        if !nix::unistd::geteuid().is_root() {
            return Err("not root".into());
        }
        if Command::new("ip").arg("-V").output().is_err() {
            return Err("no `ip` (iproute2)".into());
        }
        let pid = std::process::id();
        let spaces = Namespaces {
            prefix: format!("hx{pid}"),
            net: format!("10.213.{}", 20 + pid % 200),
        };
        let out = Command::new(script())
            .args(["up", &spaces.prefix, &HOSTS.to_string(), &spaces.net])
            .output()
            .map_err(|e| format!("running scripts/netns.sh: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "scripts/netns.sh up: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(spaces)
    }

    fn host(&self, i: usize) -> String {
        format!("{}-{i}", self.prefix)
    }

    fn addr(&self, i: usize) -> String {
        format!("{}.{}:7077", self.net, 10 + i)
    }
}

impl Drop for Namespaces {
    fn drop(&mut self) {
        let _ = Command::new(script())
            .args(["down", &self.prefix, &HOSTS.to_string(), &self.net])
            .status();
    }
}

/// The controller's side of the test: `harness test -w broadcast` in the controller's
/// namespace against the three agents.
#[derive(Clone)]
struct Controller {
    namespace: String,
    hosts: String,
    key: PathBuf,
}

impl Controller {
    /// A run of `bin` with `flags` (beside the workload, the hosts and the key).
    fn run(&self, bin: &Path, flags: &[&str]) -> crate::harness::Run {
        let mut args = vec![
            "-w",
            "broadcast",
            "--bin",
            bin.to_str().unwrap(),
            "--hosts",
            &self.hosts,
            "--key-file",
            self.key.to_str().unwrap(),
            "--no-progress",
        ];
        args.extend_from_slice(flags);
        harness_test_in(&["ip", "netns", "exec", &self.namespace], &args)
    }
}

/// The nftables tables of host namespace `ns`.
fn tables(ns: &str) -> String {
    let out = Command::new("ip")
        .args(["netns", "exec", ns, "nft", "list", "tables"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn nft_available() -> bool {
    Command::new("nft")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn broadcast_across_three_namespaces_is_valid_with_and_without_partitions_and_kills() {
    let spaces = match Namespaces::up() {
        Ok(spaces) => spaces,
        Err(why) => {
            println!("skipped: {why}");
            return;
        }
    };
    let key_guard = key_file();
    let key = key_guard.path.clone();
    let gossip = node_bin("broadcast-gossip");
    let python = test_node("durable_gossip.py");
    let agents: Vec<Agent> = (0..HOSTS)
        .map(|i| {
            let ns = spaces.host(i);
            Agent::start_with(
                &["ip", "netns", "exec", &ns],
                &spaces.addr(i),
                &key,
                &[&gossip, &python],
                &[],
            )
        })
        .collect();
    let hosts = (0..HOSTS)
        .map(|i| spaces.addr(i))
        .collect::<Vec<_>>()
        .join(",");
    let controller = Controller {
        namespace: format!("{}-c", spaces.prefix),
        hosts: hosts.clone(),
        key: key.clone(),
    };
    let firewall = nft_available();
    for bin in [&gossip, &python] {
        for nemesis in ["", "partition,kill"] {
            // One node per host, so every partition cuts links between hosts; and a seed
            // whose fault plan has both partitions and kills within the 6 s.
            let mut flags = vec![
                "--node-count",
                "3",
                "--seed",
                "1",
                "--time-limit",
                "6",
                "--rate",
                "30",
                "--nemesis-interval",
                "1.5",
                "--recovery-time",
                "3",
            ];
            if !nemesis.is_empty() {
                flags.extend(["--nemesis", nemesis]);
            }
            if bin == &gossip {
                // Pushes every 100 ms rather than the default 600: plenty of traffic between
                // hosts in a short run.
                flags.extend(["--", "--interval-ms", "100"]);
            }
            let run = controller.run(bin, &flags);
            let what = format!("{} --nemesis {nemesis:?}", bin.display());
            assert_eq!(run.code, 0, "{what}\n{}\n{}", run.stdout, run.stderr);
            assert_eq!(run.results["valid"], true, "{what}");
            assert_eq!(run.results["run"]["backend"], "agents");
            let placed = &run.results["hosts"]["hosts"];
            for (i, host) in placed.as_array().unwrap().iter().enumerate() {
                assert_eq!(host["agent"], spaces.addr(i));
                assert_eq!(host["firewall"], firewall, "{what}: {host}");
            }
            // Messages crossed between namespaces: node-to-node deliveries whose ends are on
            // different hosts (n0 on the first, n1 on the second, n2 on the third).
            let host_of = |n: &str| n[1..].parse::<usize>().unwrap() % HOSTS;
            let journal = std::fs::read_to_string(run.dir.join("messages.jsonl")).unwrap();
            let mut across = 0;
            let mut partitioned = 0;
            for line in journal.lines() {
                let e: serde_json::Value = serde_json::from_str(line).unwrap();
                let (src, dest) = (e["src"].as_str().unwrap(), e["dest"].as_str().unwrap());
                if !(src.starts_with('n') && dest.starts_with('n')) {
                    continue;
                }
                if host_of(src) != host_of(dest) {
                    across += u32::from(e["event"] == "deliver");
                    partitioned += u32::from(e["reason"] == "partition");
                }
            }
            assert!(across > 20, "{what}: {across} deliveries across namespaces");
            let delays = &run.results["hosts"]["measured_delay_ms"]["across_hosts"];
            assert!(delays["count"].as_u64().unwrap() > 20, "{what}: {delays}");
            if !nemesis.is_empty() {
                let faults: Vec<&str> = run
                    .history
                    .iter()
                    .filter(|e| e.process == checker::Process::NEMESIS)
                    .map(|e| e.f.as_str())
                    .collect();
                assert!(faults.contains(&"kill"), "{what}: {faults:?}");
                assert!(faults.contains(&"start-partition"), "{what}: {faults:?}");
                assert!(partitioned > 0, "{what}: no message was cut by a partition");
            } else {
                assert_eq!(partitioned, 0, "{what}");
            }
            drop(run);
        }
    }
    // Pull a host's cable for five seconds during a run: its messages wait in TCP, the
    // controller says the host is silent and when it answers again, and the run is valid.
    let veth = "veth1".to_owned();
    let cable = {
        let (namespace, veth) = (controller.namespace.clone(), veth.clone());
        std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_secs(3));
            let set = |state: &str| {
                Command::new("ip")
                    .args(["-n", &namespace, "link", "set", &veth, state])
                    .status()
                    .is_ok_and(|s| s.success())
            };
            let down = set("down");
            std::thread::sleep(std::time::Duration::from_secs(5));
            down && set("up")
        })
    };
    let run = controller.run(
        &gossip,
        &[
            "--node-count",
            "5",
            "--time-limit",
            "10",
            "--rate",
            "20",
            "--recovery-time",
            "5",
        ],
    );
    assert!(
        cable.join().unwrap(),
        "could not pull and plug back the cable"
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("has not answered for 3 s"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("answers again"), "{}", run.stderr);
    assert!(
        run.stdout.contains(&format!(
            "({}) answered no clock probe from",
            spaces.addr(1)
        )),
        "{}",
        run.stdout
    );
    drop(run);
    // Partitions were cut in the firewall, and no rule is left behind in any namespace.
    if firewall {
        assert!(
            agents.iter().any(|a| a
                .stderr()
                .contains("in the firewall (table inet harness_agent_7077)")),
            "no agent cut a link in its firewall"
        );
        for i in 0..HOSTS {
            let tables = tables(&spaces.host(i));
            assert!(
                !tables.contains("harness_agent"),
                "{}: {tables}",
                spaces.host(i)
            );
        }
    }
    // Ctrl-C on an agent in the middle of a run with partitions: it stops its node and
    // removes its table; the controller says it lost that agent.
    let mut agents = agents;
    if firewall {
        let controller_run = {
            let (controller, gossip) = (controller.clone(), gossip.clone());
            std::thread::spawn(move || {
                controller.run(
                    &gossip,
                    &[
                        "--node-count",
                        "3",
                        "--seed",
                        "1",
                        "--time-limit",
                        "20",
                        "--rate",
                        "10",
                        "--nemesis",
                        "partition",
                        "--nemesis-interval",
                        "1",
                    ],
                )
            })
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        let cuts = |a: &Agent| a.stderr().matches("in the firewall").count();
        let before = cuts(&agents[0]);
        while cuts(&agents[0]) == before && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        assert!(
            cuts(&agents[0]) > before,
            "no cut within 15 s: {}",
            agents[0].stderr()
        );
        let first = spaces.host(0);
        assert!(
            tables(&first).contains("harness_agent_7077"),
            "{}",
            tables(&first)
        );
        assert!(agents[0].interrupt(), "the agent did not stop on SIGINT");
        assert!(
            !tables(&first).contains("harness_agent_7077"),
            "{}",
            tables(&first)
        );
        let run = controller_run.join().unwrap();
        assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
        assert!(
            run.stdout.contains("lost the connection to the agent at")
                || run.stderr.contains("lost the connection to the agent at"),
            "{}\n{}",
            run.stdout,
            run.stderr
        );
    }
    drop(agents);
}
