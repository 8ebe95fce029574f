//! Talk to a real node binary over its stdin and stdout, line by line.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// A running node program.
pub struct Conversation {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
}

impl Conversation {
    /// Start `path` with `args`, stderr discarded.
    pub fn start(path: &str, args: &[&str]) -> Self {
        let mut child = Command::new(path)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {path}: {e}"));
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stdin = child.stdin.take();
        Conversation {
            child,
            stdin,
            lines,
        }
    }

    /// Write one raw line.
    pub fn send_line(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(line.as_bytes()).unwrap();
        stdin.write_all(b"\n").unwrap();
        stdin.flush().unwrap();
    }

    /// Write one message from `src` to `dest`.
    pub fn send(&mut self, src: &str, dest: &str, body: Value) {
        self.send_line(&json!({"src": src, "dest": dest, "body": body}).to_string());
    }

    /// The next line the node writes, parsed, within `timeout`.
    pub fn recv(&mut self, timeout: Duration) -> Option<Value> {
        let line = self.lines.recv_timeout(timeout).ok()?;
        Some(serde_json::from_str(&line).unwrap_or_else(|e| panic!("node wrote {line:?}: {e}")))
    }

    /// Read lines until one satisfies `pred`, within 5 s; returns it and the lines skipped.
    pub fn recv_until(&mut self, pred: impl Fn(&Value) -> bool) -> (Value, Vec<Value>) {
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut skipped = Vec::new();
        while let Some(msg) = self.recv(deadline.saturating_duration_since(Instant::now())) {
            if pred(&msg) {
                return (msg, skipped);
            }
            skipped.push(msg);
        }
        panic!("no matching line within 5 s; saw {skipped:?}");
    }

    /// The reply to `msg_id` sent to `client`, within 5 s.
    pub fn reply_to(&mut self, client: &str, msg_id: u64) -> Value {
        let client = client.to_owned();
        self.recv_until(move |m| m["dest"] == client && m["body"]["in_reply_to"] == msg_id)
            .0
    }

    /// Send `init` as `n0` of `nodes` and check the `init_ok`.
    pub fn init(&mut self, node: &str, nodes: &[&str]) {
        self.send(
            "c0",
            node,
            json!({"type": "init", "msg_id": 0, "node_id": node, "node_ids": nodes}),
        );
        let reply = self.reply_to("c0", 0);
        assert_eq!(reply["body"]["type"], "init_ok", "{reply}");
        assert_eq!(reply["src"], node);
    }

    /// Close stdin and wait (at most 5 s) for the program to exit; returns its status and
    /// every line it wrote after stdin closed.
    pub fn finish(mut self) -> (ExitStatus, Vec<Value>) {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let rest = self
                    .lines
                    .try_iter()
                    .map(|l| serde_json::from_str(&l).unwrap())
                    .collect();
                return (status, rest);
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("node did not exit within 5 s of end of input");
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Every line written within `wait`.
    pub fn drain(&mut self, wait: Duration) -> Vec<Value> {
        let mut out = Vec::new();
        while let Some(msg) = self.recv(wait) {
            out.push(msg);
        }
        out
    }
}

impl Drop for Conversation {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The protocol checks every node binary must pass: `init` -> `init_ok`; a request with
/// `msg_id` 0 (built by `request`) answered with `in_reply_to` 0 and the given reply type; a
/// garbage line followed by a valid request, which is still answered; an unknown type answered
/// by exactly one error 10; end of input -> exit 0. `serve` answers whatever the node asks of
/// services meanwhile (for nodes that need one).
pub fn protocol_checks(
    path: &str,
    args: &[&str],
    request: Value,
    reply_type: &str,
    serve: &dyn Fn(&mut Conversation, &Value) -> bool,
) {
    let mut node = Conversation::start(path, args);
    node.init("n0", &["n0"]);
    let answer = |node: &mut Conversation, msg_id: u64| -> Value {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let msg = node
                .recv(deadline.saturating_duration_since(Instant::now()))
                .unwrap_or_else(|| panic!("no reply to {msg_id}"));
            if msg["dest"] == "c1" && msg["body"]["in_reply_to"] == msg_id {
                return msg;
            }
            assert!(serve(node, &msg), "unexpected line {msg}");
        }
    };

    let mut first = request.clone();
    first["msg_id"] = json!(0);
    node.send("c1", "n0", first);
    let reply = answer(&mut node, 0);
    assert_eq!(reply["body"]["type"], reply_type, "{reply}");

    node.send_line("this is { not json");
    let mut second = request;
    second["msg_id"] = json!(1);
    node.send("c1", "n0", second);
    let reply = answer(&mut node, 1);
    assert_eq!(reply["body"]["type"], reply_type, "{reply}");

    node.send("c1", "n0", json!({"type": "no_such_request", "msg_id": 2}));
    let reply = answer(&mut node, 2);
    assert_eq!(reply["body"]["type"], "error", "{reply}");
    assert_eq!(reply["body"]["code"], 10, "{reply}");
    let extra: Vec<Value> = node
        .drain(Duration::from_millis(200))
        .into_iter()
        .filter(|m| m["body"]["in_reply_to"] == 2)
        .collect();
    assert!(
        extra.is_empty(),
        "more than one answer to an unknown type: {extra:?}"
    );

    let (status, _) = node.finish();
    assert!(status.success(), "exit status {status}");
}
