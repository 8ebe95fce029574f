//! `harness agent` and `harness test --hosts` on this machine's loopback: runs across agents
//! are checked as runs on one machine are, and an agent refuses what it must refuse (a wrong
//! key, a frame over the size limit, a program it was not started to allow), logging it and
//! going on serving. (The test across network namespaces, with real partitions, is
//! `hosts_netns.rs`.)

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use runner::remote::frame::{Frame, Hello, VERSION};
use runner::remote::key::Key;
use runner::remote::link::{self, LinkError, MAX_FRAME};

use crate::harness::{ScratchDir, harness_test, node_bin, scratch_store, test_node};

/// A `harness agent` started by a test, stopped (by its pid) when dropped.
pub struct Agent {
    child: Child,
    pub addr: String,
    stderr: Arc<Mutex<String>>,
    /// The agent's working folder, removed when the agent is.
    _dir: ScratchDir,
}

impl Agent {
    /// Start an agent listening on `listen` (port 0 for any), wrapped in `prefix` (such as
    /// `ip netns exec NS`), allowing `allow`.
    pub fn start_with(
        prefix: &[&str],
        listen: &str,
        key: &Path,
        allow: &[&Path],
        extra: &[&str],
    ) -> Agent {
        let dir = scratch_store();
        let (program, rest) = match prefix.split_first() {
            Some((first, rest)) => (first.to_string(), rest.to_vec()),
            None => (env!("CARGO_BIN_EXE_harness").to_owned(), Vec::new()),
        };
        let mut cmd = Command::new(program);
        cmd.args(rest);
        if !prefix.is_empty() {
            cmd.arg(env!("CARGO_BIN_EXE_harness"));
        }
        cmd.args(["agent", "--listen", listen, "--key-file"])
            .arg(key)
            .arg("--dir")
            .arg(&dir)
            .args(extra);
        for program in allow {
            cmd.arg("--allow").arg(program);
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting harness agent");
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        let mut first = String::new();
        out.read_line(&mut first).expect("the agent's first line");
        let addr = first
            .split("listening on ")
            .nth(1)
            .and_then(|rest| rest.split(';').next())
            .unwrap_or_else(|| panic!("no address in {first:?}"))
            .to_owned();
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = stderr.clone();
        let mut err = child.stderr.take().expect("stderr");
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Agent {
            child,
            addr,
            stderr,
            _dir: dir,
        }
    }

    pub fn start(key: &Path, allow: &[&Path]) -> Agent {
        Agent::start_with(&[], "127.0.0.1:0", key, allow, &["--no-firewall"])
    }

    /// Send SIGINT (Ctrl-C) to the agent and wait for it to exit; true if it exited by itself
    /// within 10 s.
    pub fn interrupt(&mut self) -> bool {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// What the agent has written to its standard error so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Wait up to 5 s for the agent's standard error to contain `text`.
    pub fn wait_for_log(&self, text: &str) -> bool {
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if self.stderr().contains(text) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("agent {} said:\n{}", self.addr, self.stderr());
        }
    }
}

/// A fresh key file in a fresh folder, removed with this.
pub struct KeyFile {
    pub path: PathBuf,
    pub key: Key,
    _dir: ScratchDir,
}

pub fn key_file() -> KeyFile {
    let dir = scratch_store();
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("key");
    let key = Key::create_file(&path).unwrap();
    KeyFile {
        path,
        key,
        _dir: dir,
    }
}

/// `harness test -w WORKLOAD --bin BIN --hosts HOSTS --key-file KEY` with `flags`.
fn run_on_hosts(
    workload: &str,
    bin: &Path,
    hosts: &str,
    key: &Path,
    flags: &[&str],
) -> crate::harness::Run {
    let mut args = vec![
        "-w",
        workload,
        "--bin",
        bin.to_str().unwrap(),
        "--hosts",
        hosts,
        "--key-file",
        key.to_str().unwrap(),
        "--no-progress",
    ];
    args.extend_from_slice(flags);
    harness_test(&args)
}

fn controller_hello() -> Vec<u8> {
    serde_json::to_vec(&Hello::Controller { version: VERSION }).unwrap()
}

#[test]
fn a_run_across_agents_is_checked_and_journals_messages_between_hosts() {
    let key_guard = key_file();
    let key = key_guard.path.clone();
    let node = test_node("durable_gossip.py");
    let (a, b) = (Agent::start(&key, &[&node]), Agent::start(&key, &[&node]));
    let hosts = format!("{},{}", a.addr, b.addr);
    let run = run_on_hosts(
        "broadcast",
        &node,
        &hosts,
        &key,
        &["--node-count", "3", "--time-limit", "3", "--rate", "20"],
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.results["valid"], true);
    assert_eq!(run.results["run"]["backend"], "agents");
    let hosts = run.results["hosts"]["hosts"].as_array().unwrap();
    assert_eq!(hosts.len(), 2);
    assert_eq!(hosts[0]["nodes"], serde_json::json!(["n0", "n2"]));
    assert_eq!(hosts[1]["nodes"], serde_json::json!(["n1"]));
    for host in hosts {
        assert!(host["clock_probes"].as_u64().unwrap() >= 8, "{host}");
        assert!(host["clock_uncertainty_ms"].as_f64().unwrap() >= 0.0);
    }
    assert!(run.stdout.contains("clock offset"), "{}", run.stdout);
    // Node-to-node messages were carried by the agents (their ids are the agents'), from one
    // host to the other, and journaled in time order.
    let journal = std::fs::read_to_string(run.dir.join("messages.jsonl")).unwrap();
    let mut last = 0;
    let mut across = 0;
    for line in journal.lines() {
        let event: serde_json::Value = serde_json::from_str(line).unwrap();
        let time = event["time"].as_u64().unwrap();
        assert!(time >= last, "the journal goes back in time at {line}");
        last = time;
        let (src, dest) = (
            event["src"].as_str().unwrap(),
            event["dest"].as_str().unwrap(),
        );
        let host = |n: &str| if n == "n1" { 1 } else { 0 };
        if event["event"] == "deliver"
            && src.starts_with('n')
            && dest.starts_with('n')
            && host(src) != host(dest)
        {
            assert!(
                event["id"].as_u64().unwrap() >= runner::remote::agent::ID_SPACE,
                "{line}"
            );
            across += 1;
        }
    }
    assert!(across > 10, "{across} messages delivered across hosts");
    let delays = &run.results["hosts"]["measured_delay_ms"]["across_hosts"];
    assert!(delays["count"].as_u64().unwrap() > 10, "{delays}");
    // The nodes' logs came back to the run's folder.
    assert!(run.dir.join("node-logs/n1.log").is_file());
}

#[test]
fn an_agent_refuses_a_wrong_key_and_the_controller_says_so_with_exit_3() {
    let key_guard = key_file();
    let key = key_guard.path.clone();
    let wrong_guard = key_file();
    let wrong = wrong_guard.path.clone();
    let node = test_node("durable_gossip.py");
    let agent = Agent::start(&key, &[&node]);
    let err = link::connect(&agent.addr, &Key::generate(), &controller_hello())
        .err()
        .expect("a wrong key is refused");
    assert!(matches!(err, LinkError::WrongKey), "{err}");
    assert!(
        agent.wait_for_log("refused 127.0.0.1:"),
        "{}",
        agent.stderr()
    );
    assert!(agent.stderr().contains("does not hold the same key"));
    let run = run_on_hosts(
        "broadcast",
        &node,
        &agent.addr,
        &wrong,
        &["--time-limit", "1"],
    );
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("refused the handshake: it does not hold the key"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_frame_over_the_limit_closes_that_connection_and_nothing_else() {
    let key_guard = key_file();
    let (key_path, key) = (key_guard.path.clone(), key_guard.key.clone());
    let node = test_node("durable_gossip.py");
    let agent = Agent::start(&key_path, &[&node]);
    let mut link = link::connect(&agent.addr, &key, &controller_hello()).unwrap();
    link.writer
        .send_claiming(MAX_FRAME as u32 + 1, b"{}")
        .unwrap();
    assert!(matches!(link.reader.recv(), Err(LinkError::Closed)));
    assert!(agent.wait_for_log("over the limit"), "{}", agent.stderr());
    // A frame that is not one the protocol knows closes its connection too.
    let mut other = link::connect(&agent.addr, &key, &controller_hello()).unwrap();
    other.writer.send(b"{\"t\":\"nonsense\"}").unwrap();
    assert!(matches!(other.reader.recv(), Err(LinkError::Closed)));
    assert!(agent.wait_for_log("malformed frame"), "{}", agent.stderr());
    // The agent still serves: a ping is answered.
    let mut good = link::connect(&agent.addr, &key, &controller_hello()).unwrap();
    good.writer.send(&Frame::Ping { t0: 7 }.encode()).unwrap();
    match Frame::decode(&good.reader.recv().unwrap()).unwrap() {
        Frame::Pong { t0, .. } => assert_eq!(t0, 7),
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_agent_runs_only_the_programs_it_allows() {
    let key_guard = key_file();
    let key = key_guard.path.clone();
    let allowed = test_node("durable_gossip.py");
    let agent = Agent::start(&key, &[&allowed]);
    let other = node_bin("broadcast-gossip");
    let run = run_on_hosts(
        "broadcast",
        &other,
        &agent.addr,
        &key,
        &["--time-limit", "1"],
    );
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("refused the run: this agent does not run"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--allow"), "{}", run.stderr);
}

#[test]
fn ssh_starts_the_agent_with_the_key_on_its_input_and_the_end_of_the_run_stops_it() {
    // An `ssh` of our own on PATH: it drops its options and the login, as ssh does, and runs
    // the remote command here, recording it.
    let dir = scratch_store();
    std::fs::create_dir_all(&dir).unwrap();
    let record = dir.join("ssh-command");
    let ssh = dir.join("ssh");
    std::fs::write(
        &ssh,
        format!(
            "#!/bin/sh\nwhile [ \"$1\" = -o ] || [ \"$1\" = -i ]; do shift 2; done\n\
             echo \"$@\" > {}\nshift\nexec \"$@\" --no-firewall --dir {}\n",
            record.display(),
            dir.join("agent").display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&ssh, std::fs::Permissions::from_mode(0o755)).unwrap();
    let key_guard = key_file();
    let key = key_guard.path.clone();
    let node = test_node("durable_gossip.py");
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let store = scratch_store();
    let path = format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let output = Command::new(env!("CARGO_BIN_EXE_harness"))
        .env("PATH", path)
        .args(["test", "-w", "broadcast", "--bin"])
        .arg(&node)
        .args(["--node-count", "2", "--time-limit", "2", "--rate", "10"])
        .args(["--hosts", &format!("127.0.0.1:{port}"), "--key-file"])
        .arg(&key)
        .args([
            "--ssh",
            "pi@127.0.0.1",
            "--remote-harness",
            env!("CARGO_BIN_EXE_harness"),
        ])
        .arg("--no-progress")
        .arg("--store")
        .arg(&store)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let command = std::fs::read_to_string(&record).unwrap();
    assert!(command.starts_with("pi@127.0.0.1 "), "{command}");
    assert!(
        command.contains(&format!(
            "agent --listen 0.0.0.0:{port} --key-file - --allow"
        )),
        "{command}"
    );
    // The agent's own log is kept beside the run, and the agent is gone (its input closed).
    let log = std::fs::read_to_string(store.join("latest/agent-127.0.0.1.log")).unwrap();
    assert!(log.contains("standard input closed; stopping"), "{log}");
}

/// `harness test -w echo` of the test node `script` on two nodes, one on each of two agents.
fn echo_across_agents(script: &str) -> crate::harness::Run {
    let key_guard = key_file();
    let key = key_guard.path.clone();
    let node = test_node(script);
    let (a, b) = (Agent::start(&key, &[&node]), Agent::start(&key, &[&node]));
    run_on_hosts(
        "echo",
        &node,
        &format!("{},{}", a.addr, b.addr),
        &key,
        &["--node-count", "2", "--time-limit", "2", "--rate", "20"],
    )
}

#[test]
fn odd_bodies_and_replies_to_nobody_between_hosts_are_named_as_on_one_machine() {
    // Bodies Maelstrom routes without a word (no type, a string msg_id, 500 levels deep)
    // sent node to node across hosts: routed, and named as warnings, once per node.
    let run = echo_across_agents("odd_bodies.py");
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    for kind in ["no-body-type", "non-integer-id"] {
        let problems = run.problems(kind);
        assert_eq!(problems.len(), 2, "{kind}: {:?}", run.results["problems"]);
        assert!(problems.iter().all(|p| p["error"] == false), "{kind}");
    }
    // A node flooding its output with replies to a client nobody is, on another host: the
    // run ends, the replies are named. (Whether the flood itself is named depends on the
    // agent reading more than 10,000 lines in a second, which a loaded machine may not; the
    // count is `problems::FloodWindow`, tested on its own.)
    let run = echo_across_agents("flood.py");
    assert!(
        run.code == 0 || run.code == 1,
        "{}\n{}",
        run.stdout,
        run.stderr
    );
    assert!(
        !run.problems("reply-to-nobody").is_empty(),
        "{:?}",
        run.problem_kinds()
    );
    assert!(run.problems("flood").iter().all(|p| p["error"] == false));
}
