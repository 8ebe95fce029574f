//! Real partitions: while a partition cuts every node of this agent's host off from every node
//! of another host, the agent drops that peer link's packets in the kernel (nftables), so the
//! cut is on the wire, not only in the agent.
//!
//! The agent owns one table, `inet harness_agent_PORT`, with one input chain; each cut link is
//! one rule matching that link's exact addresses and ports (the connection between the two
//! agents and nothing else: the controller's connection, SSH and other traffic pass). The
//! table is deleted when the run ends, when the agent stops (Ctrl-C included), and when an
//! agent starts and finds one left by an agent that was killed.
//!
//! Without root, or without the `nft` program, there is no firewall and the agents only drop
//! messages at delivery, as the simulated network does.

use std::net::SocketAddr;
use std::process::{Command, Stdio};

/// The agent's nftables table.
#[derive(Debug)]
pub struct Firewall {
    table: String,
}

fn nft(args: &[&str]) -> Result<(), String> {
    let output = Command::new("nft")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run nft: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "nft {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

impl Firewall {
    /// The table of the agent listening on `port`, created empty; `Err` says why there is
    /// none (not root, no `nft`, no nf_tables in the kernel).
    pub fn create(port: u16) -> Result<Firewall, String> {
        if !nix::unistd::geteuid().is_root() {
            return Err("not root".into());
        }
        let table = format!("harness_agent_{port}");
        // A table left by an agent that was killed goes first.
        let _ = nft(&["delete", "table", "inet", &table]);
        nft(&["add", "table", "inet", &table])?;
        let firewall = Firewall { table };
        nft(&[
            "add",
            "chain",
            "inet",
            &firewall.table,
            "input",
            "{ type filter hook input priority 0 ; policy accept ; }",
        ])?;
        Ok(firewall)
    }

    /// Drop what arrives on the link from `peer` to `local`.
    pub fn cut(&self, local: SocketAddr, peer: SocketAddr) -> Result<(), String> {
        let family = if peer.is_ipv4() { "ip" } else { "ip6" };
        let rule = format!(
            "{family} saddr {} tcp sport {} tcp dport {} drop",
            peer.ip(),
            peer.port(),
            local.port()
        );
        let mut args = vec!["add", "rule", "inet", &self.table, "input"];
        args.extend(rule.split(' '));
        nft(&args)
    }

    /// Remove every cut.
    pub fn mend(&self) -> Result<(), String> {
        nft(&["flush", "chain", "inet", &self.table, "input"])
    }

    pub fn table(&self) -> &str {
        &self.table
    }
}

impl Drop for Firewall {
    fn drop(&mut self) {
        if let Err(err) = nft(&["delete", "table", "inet", &self.table]) {
            eprintln!("harness agent: removing the firewall table: {err}");
        }
    }
}
