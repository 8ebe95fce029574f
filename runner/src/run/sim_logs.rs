//! Node logs under the simulator: what a simulated node logs (through `tracing`, as the node
//! library does) goes to `node-logs/<id>.log`, as a node process's stderr does, so a run's
//! folder looks the same under both backends. The router says which node is running
//! ([`NodeLogs::enter`]); events logged while none is go to the harness's stderr.
//!
//! Lines carry no wall-clock time (a simulated run has none worth printing); the node's own
//! fields (`node=n1`) say who wrote them.

use std::cell::Cell;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};

use tracing_subscriber::fmt::MakeWriter;

thread_local! {
    /// The node whose code runs on this thread now, if any.
    static CURRENT: Cell<Option<usize>> = const { Cell::new(None) };
}

/// The log files of a simulated run's nodes.
#[derive(Clone)]
pub struct NodeLogs {
    files: Arc<Vec<Mutex<Option<BufWriter<File>>>>>,
}

/// While alive, what is logged on this thread is node `node`'s.
pub struct Entered {
    previous: Option<usize>,
}

impl Drop for Entered {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.previous));
    }
}

impl NodeLogs {
    /// `node-logs/<id>.log` for each node id, created empty. A file that cannot be created is
    /// said once on stderr, and that node's lines are dropped.
    pub fn create(dir: &Path, ids: &[String]) -> NodeLogs {
        let files = ids
            .iter()
            .map(|id| {
                let path = dir.join(format!("{id}.log"));
                match File::create(&path) {
                    Ok(file) => Mutex::new(Some(BufWriter::new(file))),
                    Err(err) => {
                        tracing::warn!("cannot create {}: {err}", path.display());
                        Mutex::new(None)
                    }
                }
            })
            .collect();
        NodeLogs {
            files: Arc::new(files),
        }
    }

    /// Mark node `node` as the one running on this thread until the guard is dropped.
    pub fn enter(node: usize) -> Entered {
        let previous = CURRENT.with(|c| c.replace(Some(node)));
        Entered { previous }
    }

    /// True while a node's code runs on this thread.
    pub fn running() -> bool {
        CURRENT.with(|c| c.get().is_some())
    }

    /// Write what is buffered.
    pub fn flush(&self) {
        for file in self.files.iter() {
            if let Ok(mut file) = file.lock()
                && let Some(file) = file.as_mut()
            {
                let _ = file.flush();
            }
        }
    }
}

/// Where one log line goes: the running node's file, or stderr.
pub struct LineWriter {
    logs: NodeLogs,
    node: Option<usize>,
}

impl Write for LineWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.node.and_then(|n| self.logs.files.get(n)) {
            Some(file) => match file.lock() {
                Ok(mut file) => match file.as_mut() {
                    Some(file) => file.write(buf),
                    None => Ok(buf.len()),
                },
                Err(_) => Ok(buf.len()),
            },
            None => std::io::stderr().write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for NodeLogs {
    type Writer = LineWriter;

    fn make_writer(&'a self) -> Self::Writer {
        LineWriter {
            logs: self.clone(),
            node: CURRENT.with(Cell::get),
        }
    }
}
