//! Stable storage on a real disk, for the stdin/stdout driver: each log of [`crate::storage`]
//! is one file `<log>.jsonl` in the node's data directory, one record per line.
//!
//! An append is one `write(2)` of the record and its newline; a replace writes a new file
//! beside the old one, syncs it and renames it over the old one, so a crash leaves either the
//! old log or the new one. [`Disk::sync`] makes every write since the last sync durable
//! (`fdatasync` of each file written, and of the directory when a file was created or
//! renamed); the driver calls it before it sends anything that depends on those writes.
//!
//! At start, [`Disk::open`] reads every log back. A last line without its newline is a write
//! that a crash cut short: it was never synced, so nothing that depends on it was sent; it is
//! dropped and the file cut back to its last whole line. A leftover temporary file of an
//! interrupted replace is removed (the rename did not happen, so the old log is current).

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write as _};
use std::path::{Path, PathBuf};

use crate::storage::{Stable, Write, valid_log_name};

const EXTENSION: &str = "jsonl";
const TEMPORARY: &str = "jsonl.tmp";

/// A node's data directory, open for writing.
#[derive(Debug)]
pub struct Disk {
    dir: PathBuf,
    files: BTreeMap<String, File>,
    /// Logs written since the last sync.
    dirty: BTreeSet<String>,
    /// A file was created or renamed since the last sync: the directory must be synced too.
    dir_dirty: bool,
}

fn invalid(text: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, text)
}

impl Disk {
    /// Open (creating it if needed) the data directory `dir` and read back every log in it.
    pub fn open(dir: &Path) -> io::Result<(Disk, Stable)> {
        std::fs::create_dir_all(dir)?;
        let mut stable = Stable::new();
        let mut names: Vec<PathBuf> = std::fs::read_dir(dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        names.sort();
        for path in names {
            let Some(file_name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if file_name.ends_with(&format!(".{TEMPORARY}")) {
                std::fs::remove_file(&path)?;
                continue;
            }
            let Some(log) = file_name.strip_suffix(&format!(".{EXTENSION}")) else {
                continue;
            };
            if !valid_log_name(log) {
                continue;
            }
            stable.set(log, read_log(&path)?);
        }
        let disk = Disk {
            dir: dir.to_owned(),
            files: BTreeMap::new(),
            dirty: BTreeSet::new(),
            dir_dirty: false,
        };
        Ok((disk, stable))
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, log: &str, extension: &str) -> PathBuf {
        self.dir.join(format!("{log}.{extension}"))
    }

    fn file(&mut self, log: &str) -> io::Result<&mut File> {
        if !self.files.contains_key(log) {
            let path = self.path(log, EXTENSION);
            if !path.exists() {
                self.dir_dirty = true;
            }
            let file = OpenOptions::new().create(true).append(true).open(path)?;
            self.files.insert(log.to_owned(), file);
        }
        Ok(self.files.get_mut(log).expect("just opened"))
    }

    /// Carry out `write` (not yet durable: see [`Disk::sync`]).
    pub fn write(&mut self, write: &Write) -> io::Result<()> {
        let log = write.log();
        if !valid_log_name(log) {
            return Err(invalid(format!("{log:?} is not a valid log name")));
        }
        match write {
            Write::Append { record, .. } => {
                if record.contains('\n') {
                    return Err(invalid(format!("a record of log {log} holds a newline")));
                }
                let mut line = Vec::with_capacity(record.len() + 1);
                line.extend_from_slice(record.as_bytes());
                line.push(b'\n');
                self.file(log)?.write_all(&line)?;
            }
            Write::Replace { records, .. } => {
                let tmp = self.path(log, TEMPORARY);
                let mut out = io::BufWriter::new(File::create(&tmp)?);
                for record in records {
                    if record.contains('\n') {
                        return Err(invalid(format!("a record of log {log} holds a newline")));
                    }
                    out.write_all(record.as_bytes())?;
                    out.write_all(b"\n")?;
                }
                let file = out.into_inner().map_err(io::IntoInnerError::into_error)?;
                file.sync_data()?;
                self.files.remove(log);
                std::fs::rename(&tmp, self.path(log, EXTENSION))?;
                self.dir_dirty = true;
            }
        }
        self.dirty.insert(log.to_owned());
        Ok(())
    }

    /// True when writes wait for [`Disk::sync`].
    pub fn has_unsynced(&self) -> bool {
        !self.dirty.is_empty() || self.dir_dirty
    }

    /// Make every write so far durable.
    pub fn sync(&mut self) -> io::Result<()> {
        for log in std::mem::take(&mut self.dirty) {
            self.file(&log)?.sync_data()?;
        }
        if std::mem::take(&mut self.dir_dirty) {
            File::open(&self.dir)?.sync_all()?;
        }
        Ok(())
    }
}

/// The records of one log file; a torn last line is cut off the file.
fn read_log(path: &Path) -> io::Result<Vec<String>> {
    let mut bytes = Vec::new();
    File::open(path)?.read_to_end(&mut bytes)?;
    let whole = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    if whole < bytes.len() {
        tracing::warn!(
            "stable storage: {} ends in a torn write of {} bytes; dropped",
            path.display(),
            bytes.len() - whole
        );
        let file = OpenOptions::new().write(true).open(path)?;
        file.set_len(whole as u64)?;
        file.sync_all()?;
    }
    Ok(String::from_utf8_lossy(&bytes[..whole])
        .split('\n')
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("disk-test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    fn append(log: &str, record: &str) -> Write {
        Write::Append {
            log: log.into(),
            record: record.into(),
        }
    }

    #[test]
    fn what_was_written_and_synced_is_read_back_after_a_restart() {
        let dir = scratch("restart");
        let (mut disk, stable) = Disk::open(&dir).unwrap();
        assert!(stable.is_empty());
        disk.write(&append("values", "1")).unwrap();
        disk.write(&append("values", "2")).unwrap();
        disk.write(&append("meta", r#"{"gen":3}"#)).unwrap();
        assert!(disk.has_unsynced());
        disk.sync().unwrap();
        assert!(!disk.has_unsynced());
        drop(disk);
        let (mut disk, stable) = Disk::open(&dir).unwrap();
        assert_eq!(stable.records("values"), ["1", "2"]);
        assert_eq!(stable.records("meta"), [r#"{"gen":3}"#]);
        disk.write(&Write::Replace {
            log: "values".into(),
            records: vec!["[1,2]".into()],
        })
        .unwrap();
        disk.write(&append("values", "3")).unwrap();
        disk.sync().unwrap();
        let (_, stable) = Disk::open(&dir).unwrap();
        assert_eq!(stable.records("values"), ["[1,2]", "3"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_torn_last_line_and_a_leftover_temporary_file_are_dropped() {
        let dir = scratch("torn");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("values.jsonl"), "1\n2\n{\"half").unwrap();
        std::fs::write(dir.join("values.jsonl.tmp"), "9\n").unwrap();
        std::fs::write(dir.join("README"), "not a log").unwrap();
        let (mut disk, stable) = Disk::open(&dir).unwrap();
        assert_eq!(stable.records("values"), ["1", "2"]);
        assert!(!dir.join("values.jsonl.tmp").exists());
        disk.write(&append("values", "3")).unwrap();
        disk.sync().unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.join("values.jsonl")).unwrap(),
            "1\n2\n3\n"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn bad_log_names_and_records_are_refused() {
        let dir = scratch("bad");
        let (mut disk, _) = Disk::open(&dir).unwrap();
        assert!(disk.write(&append("../escape", "1")).is_err());
        assert!(disk.write(&append("values", "1\n2")).is_err());
        assert!(!disk.has_unsynced());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
