//! The store: where a run's files go. `store/<workload>/<timestamp>/` holds `history.jsonl`,
//! `messages.jsonl`, `node-logs/`, `data/` (each node's stable storage), `results.json` and
//! `report.html`; `store/latest` and
//! `store/<workload>/latest` point at the newest run.
//!
//! A run that has not finished says so: `INCOMPLETE` is created when the run starts and removed
//! only once `results.json` is written whole (to a temporary file, synced, renamed into place).
//! While the harness runs, it holds a lock on the file, so a reader can tell a run in progress
//! from one whose harness died (SIGKILL, a crash, power loss), which leaves the file unlocked.
//! `harness check` and `harness report` give such a run the verdict unknown ([`incomplete`]).

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

/// The file in a run's folder that says the run has not finished.
pub const INCOMPLETE_FILE: &str = "INCOMPLETE";

/// A run in progress: its `INCOMPLETE` file, locked until this is dropped or the process
/// ends, however it ends.
#[derive(Debug)]
pub struct InProgress {
    lock: Flock<File>,
}

/// How `INCOMPLETE` begins when the harness could not run the test at all.
const COULD_NOT_RUN: &str = "The harness could not run this test: ";

impl InProgress {
    /// The harness could not run the test (a node would not start, ...): say why in the
    /// marker, which stays.
    pub fn could_not_run(&self, why: &str) {
        let file: &File = &self.lock;
        let why = why.lines().next().unwrap_or_default();
        let written = file
            .set_len(0)
            .and_then(|()| file.write_all_at(format!("{COULD_NOT_RUN}{why}\n").as_bytes(), 0))
            .and_then(|()| file.sync_all());
        if let Err(err) = written {
            tracing::warn!("writing why the run did not finish into {INCOMPLETE_FILE}: {err}");
        }
    }
}

/// The folder of one run.
#[derive(Debug, Clone)]
pub struct RunDir {
    pub root: PathBuf,
    pub dir: PathBuf,
}

impl RunDir {
    /// Create `root/<workload>/<timestamp>/` (with `node-logs/`), and point the `latest` links
    /// at it.
    pub fn create(root: &Path, workload: &str) -> std::io::Result<RunDir> {
        let base = root.join(workload);
        std::fs::create_dir_all(&base)?;
        let stamp = timestamp(SystemTime::now());
        let mut dir = base.join(&stamp);
        let mut n = 2;
        // `create_dir` fails if the folder exists, so runs started in the same millisecond
        // (side by side in one comparison) each get their own.
        loop {
            match std::fs::create_dir(&dir) {
                Ok(()) => break,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    dir = base.join(format!("{stamp}-{n}"));
                    n += 1;
                }
                Err(e) => return Err(e),
            }
        }
        std::fs::create_dir_all(dir.join("node-logs"))?;
        let name = dir.file_name().expect("has a name").to_owned();
        let rel = Path::new(workload).join(&name);
        point_link(&root.join("latest"), &rel)?;
        point_link(&base.join("latest"), Path::new(&name))?;
        Ok(RunDir {
            root: root.to_owned(),
            dir,
        })
    }

    pub fn history(&self) -> PathBuf {
        self.dir.join("history.jsonl")
    }
    pub fn messages(&self) -> PathBuf {
        self.dir.join("messages.jsonl")
    }
    pub fn results(&self) -> PathBuf {
        self.dir.join("results.json")
    }
    pub fn report(&self) -> PathBuf {
        self.dir.join("report.html")
    }
    pub fn node_logs(&self) -> PathBuf {
        self.dir.join("node-logs")
    }
    /// The nodes' data directories (stable storage), one folder per node.
    pub fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// Mark the run as not finished: create `INCOMPLETE` (saying what it means) and hold a lock
    /// on it while the returned guard lives.
    pub fn begin(&self) -> std::io::Result<InProgress> {
        let path = self.dir.join(INCOMPLETE_FILE);
        let mut file = File::create(&path)?;
        write!(
            file,
            "This run has not finished. The harness that runs it (pid {}, started {}) removes\n\
             this file once results.json is written whole. If the file is still here and no\n\
             harness runs the test any more, the harness stopped before the end (killed, crashed,\n\
             or the machine went down): history.jsonl and messages.jsonl hold what was recorded\n\
             until then, and `harness check` and `harness report` give the run the verdict\n\
             unknown.\n",
            std::process::id(),
            timestamp(SystemTime::now())
        )?;
        file.sync_all()?;
        sync_dir(&self.dir)?;
        let lock = Flock::lock(file, FlockArg::LockExclusiveNonblock)
            .map_err(|(_, errno)| std::io::Error::from(errno))?;
        Ok(InProgress { lock })
    }

    /// Write `results.json` whole (a temporary file, synced, renamed into place), then remove
    /// `INCOMPLETE`: from then on the run is complete.
    pub fn write_results(&self, text: &str) -> std::io::Result<()> {
        let tmp = self.dir.join(".results.json.tmp");
        let mut file = File::create(&tmp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, self.results())?;
        sync_dir(&self.dir)?;
        match std::fs::remove_file(self.dir.join(INCOMPLETE_FILE)) {
            Ok(()) => {}
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => return Err(err),
        }
        sync_dir(&self.dir)
    }
}

/// Make the entries of `dir` (a file created, renamed or removed) durable.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Why the run in `dir` has not finished, in one line that starts with "incomplete run: ", or
/// `None` when it has no `INCOMPLETE` file.
pub fn incomplete(dir: &Path) -> Option<String> {
    let path = dir.join(INCOMPLETE_FILE);
    let file = match File::open(&path) {
        Ok(file) => file,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return None,
        Err(err) => {
            return Some(format!(
                "incomplete run: {INCOMPLETE_FILE} is there ({err}), so the run did not finish"
            ));
        }
    };
    let text = std::io::read_to_string(&file).unwrap_or_default();
    if let Some(why) = text.strip_prefix(COULD_NOT_RUN) {
        let why = why.lines().next().unwrap_or_default();
        return Some(format!(
            "incomplete run: the harness could not run it ({why})"
        ));
    }
    Some(match Flock::lock(file, FlockArg::LockSharedNonblock) {
        Err((_, Errno::EWOULDBLOCK)) => {
            "incomplete run: the harness is still running it, so it has no verdict yet".to_owned()
        }
        _ => "incomplete run: the harness stopped before the end (killed, crashed, or the \
              machine went down), so the files hold only what was recorded until then"
            .to_owned(),
    })
}

/// Point `root/latest` at the run folder `run` (one of `root/<workload>/<timestamp>`): after a
/// comparison, at the run it wants a reader to open first.
pub fn point_latest(root: &Path, run: &Path) -> std::io::Result<()> {
    let rel = run.strip_prefix(root).map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{} is not under {}", run.display(), root.display()),
        )
    })?;
    point_link(&root.join("latest"), rel)
}

/// Replace the symlink `link` so it points at `target`, atomically.
fn point_link(link: &Path, target: &Path) -> std::io::Result<()> {
    static LINKS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let unique = LINKS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = link.with_extension(format!("tmp-{}-{unique}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(target, &tmp)?;
    std::fs::rename(&tmp, link)
}

/// `20261128T193012.123Z`: UTC, sortable, safe in a path.
pub fn timestamp(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, day) = civil_from_days(days as i64);
    format!(
        "{y:04}{m:02}{day:02}T{:02}{:02}{:02}.{:03}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        d.subsec_millis()
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (Howard Hinnant's
/// algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn timestamps_are_utc_and_sortable() {
        assert_eq!(timestamp(UNIX_EPOCH), "19700101T000000.000Z");
        let t = UNIX_EPOCH + Duration::from_millis(1_795_894_212_345);
        assert_eq!(timestamp(t), "20261128T193012.345Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(&timestamp(leap)[..8], "20000229");
    }

    #[test]
    fn creates_the_layout_and_latest_links() {
        let root = std::env::temp_dir().join(format!("store-test-{}", std::process::id()));
        let a = RunDir::create(&root, "echo").unwrap();
        let b = RunDir::create(&root, "echo").unwrap();
        assert_ne!(a.dir, b.dir);
        assert!(b.node_logs().is_dir());
        let latest = std::fs::canonicalize(root.join("latest")).unwrap();
        assert_eq!(latest, std::fs::canonicalize(&b.dir).unwrap());
        let latest = std::fs::canonicalize(root.join("echo/latest")).unwrap();
        assert_eq!(latest, std::fs::canonicalize(&b.dir).unwrap());
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn a_run_is_incomplete_until_its_results_are_written() {
        let root = std::env::temp_dir().join(format!("store-marker-{}", std::process::id()));
        let run = RunDir::create(&root, "echo").unwrap();
        assert_eq!(
            incomplete(&run.dir),
            None,
            "no marker before the run begins"
        );
        let guard = run.begin().unwrap();
        let marker = std::fs::read_to_string(run.dir.join(INCOMPLETE_FILE)).unwrap();
        assert!(marker.starts_with("This run has not finished."), "{marker}");
        let why = incomplete(&run.dir).unwrap();
        assert!(why.contains("still running it"), "{why}");
        // The harness dies: its lock goes with it, the file stays.
        drop(guard);
        let why = incomplete(&run.dir).unwrap();
        assert!(why.starts_with("incomplete run: the harness stopped before the end"));
        assert!(!why.contains('\n'), "one line: {why}");
        let guard = run.begin().unwrap();
        guard.could_not_run("cannot start ./node: Permission denied\nmore");
        assert_eq!(
            incomplete(&run.dir).unwrap(),
            "incomplete run: the harness could not run it (cannot start ./node: Permission denied)"
        );
        drop(guard);
        let _guard = run.begin().unwrap();
        run.write_results("{\"valid\": true}\n").unwrap();
        assert_eq!(incomplete(&run.dir), None);
        assert_eq!(
            std::fs::read_to_string(run.results()).unwrap(),
            "{\"valid\": true}\n"
        );
        let names: Vec<_> = std::fs::read_dir(&run.dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(!names.iter().any(|n| n.contains("tmp")), "{names:?}");
        std::fs::remove_dir_all(&root).unwrap();
    }
}
