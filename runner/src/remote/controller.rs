//! The controller's side of a multi-machine run (`harness test --hosts`): reach every agent
//! (starting it over SSH when asked), set the run up, measure each agent's clock, and keep a
//! channel of what the agents say for the router.

use std::io::Write;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use crossbeam_channel::{Receiver, Sender};

use super::channel::{Channel, Incoming, drain, wake_pipe};
use super::clock::{ClockEstimate, Sample};
use super::frame::{Frame, Hello, Setup, VERSION, wall_ns};
use super::key::Key;
use super::link::{self, LinkError};

/// The port an agent listens on when `--hosts` names none.
pub const DEFAULT_PORT: u16 = 7077;
/// Clock probes per agent before the run starts.
const FIRST_PROBES: u32 = 8;
/// How long the agents have to link up with each other and say they are ready.
const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// `--hosts` and what goes with it.
#[derive(Debug, Clone)]
pub struct RemoteConfig {
    /// The `--hosts` entries, in order, as HOST:PORT (one host may appear several times).
    pub hosts: Vec<String>,
    pub key: Key,
    pub key_file: PathBuf,
    /// The node program's path on the agents' hosts, when not `--bin`'s.
    pub remote_bin: Option<String>,
    /// `--ssh USER@HOST` logins: the agents on those hosts are started over SSH.
    pub ssh: Vec<String>,
    /// `--ssh-private-key`, passed to ssh as `-i`.
    pub ssh_identity: Option<PathBuf>,
    /// The `harness` program on the SSH hosts.
    pub remote_harness: String,
}

impl RemoteConfig {
    /// Parse `--hosts HOST[:PORT],...`.
    pub fn parse_hosts(list: &str) -> anyhow::Result<Vec<String>> {
        let hosts: Vec<String> = list
            .split(',')
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .map(|h| {
                if h.starts_with('[')
                    || h.rsplit_once(':')
                        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
                {
                    h.to_owned()
                } else {
                    format!("{h}:{DEFAULT_PORT}")
                }
            })
            .collect();
        if hosts.is_empty() {
            bail!("--hosts names no host (HOST[:PORT],...)");
        }
        Ok(hosts)
    }

    /// The distinct agents, in order of first mention, and each node's agent (round-robin
    /// over the `--hosts` entries).
    pub fn placement(&self, nodes: usize) -> (Vec<String>, Vec<usize>) {
        let mut agents: Vec<String> = Vec::new();
        let mut entry_agent = Vec::new();
        for host in &self.hosts {
            let index = match agents.iter().position(|a| a == host) {
                Some(i) => i,
                None => {
                    agents.push(host.clone());
                    agents.len() - 1
                }
            };
            entry_agent.push(index);
        }
        let placement = (0..nodes)
            .map(|n| entry_agent[n % entry_agent.len()])
            .collect();
        (agents, placement)
    }
}

/// One agent, as the controller sees it.
pub struct AgentConn {
    pub addr: String,
    /// The host name the agent reported.
    pub host: String,
    channel: Channel,
    pub clock: ClockEstimate,
    pub firewall: bool,
    pub stopped: bool,
    /// Why its connection ended, if it did.
    pub gone: Option<String>,
}

impl AgentConn {
    pub fn send(&self, frame: &Frame) {
        self.channel.send(frame);
    }

    pub fn sender(&self) -> Sender<Vec<u8>> {
        self.channel.sender()
    }
}

/// An agent started over SSH: its standard input carries the key and, by closing, stops it.
struct SshAgent {
    login: String,
    child: Child,
}

/// Every agent of a run.
pub struct Agents {
    pub conns: Vec<AgentConn>,
    pub placement: Vec<usize>,
    pub rx: Receiver<(usize, Incoming)>,
    /// Becomes readable when something arrived (for the router's epoll).
    pub wake: OwnedFd,
    ssh: Vec<SshAgent>,
}

/// What the run asks of the agents, beside the nodes and their placement.
pub struct RunSpec<'a> {
    pub run: String,
    pub node_ids: &'a [String],
    pub bin: &'a Path,
    pub args: &'a [String],
    pub seed: u64,
    pub latency_ms: u64,
    pub latency_dist: &'a str,
    /// Where the SSH agents' own messages go.
    pub log_dir: &'a Path,
}

impl Agents {
    /// Reach every agent, set the run up, and measure the clocks; an error says which agent
    /// failed and why (a wrong key, an agent that is not running, a program it does not
    /// allow).
    pub fn connect(config: &RemoteConfig, spec: &RunSpec<'_>) -> anyhow::Result<Agents> {
        let (addrs, placement) = config.placement(spec.node_ids.len());
        let ssh = start_over_ssh(config, &addrs, spec)?;
        let (wake, wake_write) = wake_pipe().context("creating a pipe")?;
        let (tx, rx) = crossbeam_channel::unbounded();
        let hello = serde_json::to_vec(&Hello::Controller { version: VERSION })?;
        let mut agents = Agents {
            conns: Vec::new(),
            placement,
            rx,
            wake,
            ssh,
        };
        for (index, addr) in addrs.iter().enumerate() {
            // An agent started over SSH a moment ago may not listen yet.
            let patience = if agents.ssh.is_empty() {
                Duration::ZERO
            } else {
                Duration::from_secs(15)
            };
            let link =
                connect_patiently(addr, &config.key, &hello, patience).map_err(
                    |err| match err {
                        LinkError::WrongKey => anyhow::anyhow!(
                            "the agent at {addr} refused the handshake: it does not hold the key \
                         in {} (every host needs the same key file)",
                            config.key_file.display()
                        ),
                        other => anyhow::anyhow!(
                            "cannot reach the agent at {addr}: {other} (is `harness agent --listen \
                         {addr} --key-file FILE --allow PROGRAM` running there?)"
                        ),
                    },
                )?;
            let host = match serde_json::from_slice::<Hello>(&link.hello) {
                Ok(Hello::Agent { version, host }) if version == VERSION => host,
                other => bail!(
                    "the agent at {addr} speaks another version of the protocol ({other:?}; \
                     this harness speaks {VERSION})"
                ),
            };
            let (tx, wake) = (tx.clone(), wake_write.clone());
            let channel = Channel::spawn(link, &format!("agent {index}"), move |incoming| {
                let _ = tx.send((index, incoming));
                let _ = nix::unistd::write(wake.as_fd(), &[1]);
            })?;
            agents.conns.push(AgentConn {
                addr: addr.clone(),
                host,
                channel,
                clock: ClockEstimate::default(),
                firewall: false,
                stopped: false,
                gone: None,
            });
        }
        let bin = config
            .remote_bin
            .clone()
            .unwrap_or_else(|| spec.bin.display().to_string());
        for (index, conn) in agents.conns.iter().enumerate() {
            conn.send(&Frame::Setup(Setup {
                run: spec.run.clone(),
                agent: index,
                agents: addrs.clone(),
                node_ids: spec.node_ids.to_vec(),
                placement: agents.placement.clone(),
                bin: bin.clone(),
                args: spec.args.to_vec(),
                seed: spec.seed,
                latency_ms: spec.latency_ms,
                latency_dist: spec.latency_dist.to_owned(),
            }));
        }
        let deadline = Instant::now() + READY_TIMEOUT;
        let mut ready = vec![false; agents.conns.len()];
        while !ready.iter().all(|r| *r) {
            let wait = deadline.saturating_duration_since(Instant::now());
            let Ok((index, incoming)) = agents.rx.recv_timeout(wait) else {
                let missing: Vec<&str> = agents
                    .conns
                    .iter()
                    .zip(&ready)
                    .filter(|(_, r)| !**r)
                    .map(|(c, _)| c.addr.as_str())
                    .collect();
                bail!(
                    "the agents at {} did not link up with the others within {} s (can each \
                     agent reach every other one at the address given in --hosts?)",
                    missing.join(", "),
                    READY_TIMEOUT.as_secs()
                );
            };
            let conn = &mut agents.conns[index];
            match incoming {
                Incoming::Frame(frame, _) => match *frame {
                    Frame::Ready { firewall } => {
                        conn.firewall = firewall;
                        ready[index] = true;
                    }
                    Frame::Refused { reason } => {
                        bail!(
                            "the agent at {} ({}) refused the run: {reason}",
                            conn.addr,
                            conn.host
                        )
                    }
                    _ => {}
                },
                Incoming::Closed(why) => {
                    bail!("the agent at {} closed the connection: {why}", conn.addr)
                }
            }
        }
        drain(&agents.wake);
        agents.probe_clocks(FIRST_PROBES)?;
        Ok(agents)
    }

    /// Probe every agent's clock `count` times, one probe at a time (before the run: nothing
    /// else is in flight).
    fn probe_clocks(&mut self, count: u32) -> anyhow::Result<()> {
        let origin = Instant::now();
        let base = wall_ns();
        for index in 0..self.conns.len() {
            for _ in 0..count {
                let t0 = base + origin.elapsed().as_nanos() as u64;
                self.conns[index].send(&Frame::Ping { t0 });
                let deadline = Instant::now() + Duration::from_secs(2);
                loop {
                    let wait = deadline.saturating_duration_since(Instant::now());
                    match self.rx.recv_timeout(wait) {
                        Ok((i, Incoming::Frame(frame, _))) => {
                            if let Frame::Pong {
                                t0: sent,
                                received,
                                sent: answered,
                            } = *frame
                                && i == index
                                && sent == t0
                            {
                                let t3 = base + origin.elapsed().as_nanos() as u64;
                                self.conns[index].clock.add(Sample::from_timestamps(
                                    t0.into(),
                                    received.into(),
                                    answered.into(),
                                    t3.into(),
                                ));
                                break;
                            }
                        }
                        Ok((i, Incoming::Closed(why))) => {
                            bail!(
                                "the agent at {} closed the connection: {why}",
                                self.conns[i].addr
                            )
                        }
                        Err(_) => break,
                    }
                }
            }
        }
        drain(&self.wake);
        Ok(())
    }

    /// The agent of node `node`.
    pub fn agent_of(&self, node: usize) -> usize {
        self.placement[node]
    }

    /// Send `frame` to every agent.
    pub fn broadcast(&self, frame: &Frame) {
        for conn in &self.conns {
            conn.send(frame);
        }
    }

    /// Close every connection and stop the agents started over SSH.
    pub fn close(&mut self) {
        for conn in &self.conns {
            conn.channel.close();
        }
        for mut agent in self.ssh.drain(..) {
            // Closing its standard input stops the agent (it reads its key from there).
            drop(agent.child.stdin.take());
            let deadline = Instant::now() + Duration::from_secs(5);
            loop {
                match agent.child.try_wait() {
                    Ok(Some(_)) => break,
                    Ok(None) if Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    _ => {
                        eprintln!(
                            "harness: the SSH session of {} did not end; killed",
                            agent.login
                        );
                        let _ = agent.child.kill();
                        let _ = agent.child.wait();
                        break;
                    }
                }
            }
        }
    }
}

impl Drop for Agents {
    fn drop(&mut self) {
        self.close();
    }
}

fn connect_patiently(
    addr: &str,
    key: &Key,
    hello: &[u8],
    patience: Duration,
) -> Result<link::Link, LinkError> {
    let deadline = Instant::now() + patience;
    loop {
        match link::connect(addr, key, hello) {
            Err(LinkError::Io(err)) if Instant::now() < deadline => {
                tracing::debug!("waiting for the agent at {addr}: {err}");
                std::thread::sleep(Duration::from_millis(200));
            }
            other => return other,
        }
    }
}

/// The host part of `HOST:PORT` (or `[V6]:PORT`).
fn host_of(addr: &str) -> &str {
    let host = addr.rsplit_once(':').map_or(addr, |(h, _)| h);
    host.trim_start_matches('[').trim_end_matches(']')
}

/// Start the agents of the `--ssh` logins: `ssh LOGIN HARNESS agent --listen 0.0.0.0:PORT
/// --key-file - --allow BIN`, with the key written to its standard input (so no key file is
/// needed on that host) and the input kept open until the run ends.
fn start_over_ssh(
    config: &RemoteConfig,
    addrs: &[String],
    spec: &RunSpec<'_>,
) -> anyhow::Result<Vec<SshAgent>> {
    let bin = config
        .remote_bin
        .clone()
        .unwrap_or_else(|| spec.bin.display().to_string());
    let mut started = Vec::new();
    for login in &config.ssh {
        let host = login.rsplit_once('@').map_or(login.as_str(), |(_, h)| h);
        let Some(addr) = addrs.iter().find(|a| host_of(a) == host) else {
            bail!("--ssh {login}: {host} is not one of the hosts in --hosts");
        };
        let port = addr.rsplit_once(':').map_or("", |(_, p)| p);
        std::fs::create_dir_all(spec.log_dir)?;
        let log_path = spec.log_dir.join(format!("agent-{host}.log"));
        let log = std::fs::File::create(&log_path)
            .with_context(|| format!("creating {}", log_path.display()))?;
        let mut cmd = Command::new("ssh");
        cmd.arg("-o").arg("BatchMode=yes");
        if let Some(identity) = &config.ssh_identity {
            cmd.arg("-i").arg(identity);
        }
        cmd.arg(login)
            .arg(&config.remote_harness)
            .args(["agent", "--listen"])
            .arg(format!("0.0.0.0:{port}"))
            .args(["--key-file", "-", "--allow"])
            .arg(&bin)
            .stdin(Stdio::piped())
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log));
        let mut child = cmd
            .spawn()
            .with_context(|| format!("starting ssh {login} (is ssh installed?)"))?;
        if let Some(stdin) = child.stdin.as_mut() {
            writeln!(stdin, "{}", config.key.to_hex())
                .with_context(|| format!("sending the key to ssh {login}"))?;
        }
        started.push(SshAgent {
            login: login.clone(),
            child,
        });
    }
    Ok(started)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_get_default_ports_and_nodes_go_round_robin() {
        let hosts = RemoteConfig::parse_hosts("a, b:9000,a,[::1]:7").unwrap();
        assert_eq!(hosts, ["a:7077", "b:9000", "a:7077", "[::1]:7"]);
        let config = RemoteConfig {
            hosts,
            key: Key::generate(),
            key_file: PathBuf::from("k"),
            remote_bin: None,
            ssh: Vec::new(),
            ssh_identity: None,
            remote_harness: "harness".into(),
        };
        let (agents, placement) = config.placement(6);
        assert_eq!(agents, ["a:7077", "b:9000", "[::1]:7"]);
        assert_eq!(placement, [0, 1, 0, 2, 0, 1]);
        assert!(RemoteConfig::parse_hosts(" , ").is_err());
        assert_eq!(host_of("[::1]:7"), "::1");
        assert_eq!(host_of("pi.local:7077"), "pi.local");
    }
}
