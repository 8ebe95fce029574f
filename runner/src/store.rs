//! The store: where a run's files go. `store/<workload>/<timestamp>/` holds `history.jsonl`,
//! `messages.jsonl`, `node-logs/`, `data/` (each node's stable storage), `results.json` and
//! `report.html`; `store/latest` and
//! `store/<workload>/latest` point at the newest run.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

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
}
