//! Bending a node process's wall clock with libfaketime (Debian's `faketime` package): the
//! library, preloaded into the node, answers the node's reads of the time of day with the
//! true time plus the offset written in a control file of its own, which the harness rewrites
//! whenever the clock nemesis changes it. The monotonic clock is left alone
//! (`FAKETIME_DONT_FAKE_MONOTONIC`), as the course says of monotonic clocks.
//!
//! This reaches any program that asks the C library for the time (C, Rust, Python, Java,
//! ...); one that reads the kernel's clock without it (Go) keeps the true time.

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;

/// Names the library when it is not in one of the usual places.
pub const LIB_ENV: &str = "HARNESS_LIBFAKETIME";

/// Where Debian, Ubuntu and a `make install` put the library.
const LIB_PLACES: [&str; 5] = [
    "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
    "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
    "/usr/lib/arm-linux-gnueabihf/faketime/libfaketime.so.1",
    "/usr/lib/faketime/libfaketime.so.1",
    "/usr/local/lib/faketime/libfaketime.so.1",
];

/// The library to preload, or why there is none.
pub fn find_library() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os(LIB_ENV) {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!(
                "{LIB_ENV} names {}, which is not a file",
                path.display()
            ))
        };
    }
    LIB_PLACES
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .ok_or_else(|| {
            "bending the clocks of node processes needs libfaketime (Debian: apt-get install \
             faketime; or name the library in HARNESS_LIBFAKETIME), or run the nodes under --sim"
                .to_owned()
        })
}

/// The clocks of one run's node processes: the library and a folder of control files.
#[derive(Debug, Clone)]
pub struct FakeTime {
    pub lib: PathBuf,
    pub dir: PathBuf,
}

impl FakeTime {
    /// Node `id`'s control file.
    pub fn control_file(&self, id: &str) -> PathBuf {
        self.dir.join(id)
    }

    /// The environment that puts node `id`'s wall clock under its control file, which is
    /// created with no offset if missing. An `LD_PRELOAD` the harness was given is kept.
    pub fn env(&self, id: &str) -> std::io::Result<Vec<(&'static str, OsString)>> {
        let file = std::path::absolute(self.control_file(id))?;
        if !file.exists() {
            self.write_offset(id, 0)?;
        }
        let mut preload = self.lib.clone().into_os_string();
        if let Some(more) = std::env::var_os("LD_PRELOAD").filter(|p| !p.is_empty()) {
            preload.push(":");
            preload.push(more);
        }
        Ok(vec![
            ("LD_PRELOAD", preload),
            ("FAKETIME_TIMESTAMP_FILE", file.into_os_string()),
            ("FAKETIME_NO_CACHE", "1".into()),
            ("FAKETIME_DONT_FAKE_MONOTONIC", "1".into()),
        ])
    }

    /// Set node `id`'s clock to the true time plus `offset_ns`. The file is replaced whole
    /// (written aside, then renamed), so a node never reads half of it.
    pub fn write_offset(&self, id: &str, offset_ns: i64) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let file = self.control_file(id);
        let aside = self.dir.join(format!(".{id}.new"));
        let mut out = std::fs::File::create(&aside)?;
        out.write_all(spec(offset_ns).as_bytes())?;
        drop(out);
        std::fs::rename(&aside, &file)
    }
}

/// libfaketime's spec of a relative offset: `+1.250000000` or `-0.300000000` (seconds).
fn spec(offset_ns: i64) -> String {
    let sign = if offset_ns < 0 { '-' } else { '+' };
    let abs = offset_ns.unsigned_abs();
    format!("{sign}{}.{:09}\n", abs / 1_000_000_000, abs % 1_000_000_000)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// The offset a control file written by [`FakeTime::write_offset`] holds.
    fn read_offset(path: &Path) -> Option<i64> {
        let text = std::fs::read_to_string(path).ok()?;
        let text = text.trim();
        let (sign, rest) = match text.strip_prefix('-') {
            Some(rest) => (-1, rest),
            None => (1, text.strip_prefix('+')?),
        };
        let (secs, nanos) = rest.split_once('.')?;
        let ns = secs.parse::<i64>().ok()? * 1_000_000_000 + nanos.parse::<i64>().ok()?;
        Some(sign * ns)
    }

    #[test]
    fn offsets_are_written_as_libfaketime_reads_them_and_read_back() {
        assert_eq!(spec(1_250_000_000), "+1.250000000\n");
        assert_eq!(spec(-300_000_000), "-0.300000000\n");
        assert_eq!(spec(0), "+0.000000000\n");
        let dir = std::env::temp_dir().join(format!("faketime-test-{}", std::process::id()));
        let clocks = FakeTime {
            lib: PathBuf::from("/nonexistent/libfaketime.so.1"),
            dir: dir.clone(),
        };
        clocks.write_offset("n1", -2_500_000_123).unwrap();
        assert_eq!(
            read_offset(&clocks.control_file("n1")),
            Some(-2_500_000_123)
        );
        let env = clocks.env("n2").unwrap();
        assert_eq!(read_offset(&clocks.control_file("n2")), Some(0));
        assert!(
            env.iter()
                .any(|(k, v)| *k == "FAKETIME_DONT_FAKE_MONOTONIC" && v == "1")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
