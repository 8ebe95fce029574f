//! The shared key every connection between a controller and its agents is authenticated with:
//! 32 random bytes, kept in a file as 64 hexadecimal digits (`harness agent --new-key FILE`
//! writes one, readable by its owner only). Every host of a run holds a copy.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, bail};

/// The shared key.
#[derive(Clone)]
pub struct Key([u8; 32]);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the key itself.
        f.write_str("Key(..)")
    }
}

impl Key {
    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Parse a key from its 64 hexadecimal digits (surrounding whitespace ignored).
    pub fn parse(text: &str) -> anyhow::Result<Key> {
        let text = text.trim();
        if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            bail!(
                "a key is 64 hexadecimal digits on one line (`harness agent --new-key FILE` \
                 writes one), not {} characters",
                text.len()
            );
        }
        let mut key = [0u8; 32];
        for (i, byte) in key.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).expect("hex digits");
        }
        Ok(Key(key))
    }

    /// Read the key file at `path`; `-` reads one line from standard input (how an agent
    /// started over SSH gets its key without a copy on the remote disk).
    pub fn load(path: &Path) -> anyhow::Result<Key> {
        if path == Path::new("-") {
            let mut line = String::new();
            std::io::stdin()
                .read_line(&mut line)
                .context("reading the key from standard input")?;
            return Key::parse(&line).context("the key on standard input");
        }
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the key file {}", path.display()))?;
        let key = Key::parse(&text).with_context(|| format!("the key file {}", path.display()))?;
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path)
            && meta.permissions().mode() & 0o077 != 0
        {
            eprintln!(
                "harness: warning: the key file {} may be read by other users (chmod 600 it)",
                path.display()
            );
        }
        Ok(key)
    }

    /// A fresh random key.
    pub fn generate() -> Key {
        use rand::TryRngCore;
        let mut key = [0u8; 32];
        rand::rngs::OsRng
            .try_fill_bytes(&mut key)
            .expect("the operating system's random source");
        Key(key)
    }

    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Write a fresh key to `path`, readable by its owner only; an existing file is kept.
    pub fn create_file(path: &Path) -> anyhow::Result<Key> {
        use std::os::unix::fs::OpenOptionsExt;
        let key = Key::generate();
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .with_context(|| format!("creating the key file {}", path.display()))?;
        writeln!(file, "{}", key.to_hex())
            .with_context(|| format!("writing the key file {}", path.display()))?;
        Ok(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_through_hex_and_bad_ones_are_refused() {
        let key = Key::generate();
        assert_eq!(Key::parse(&key.to_hex()).unwrap().bytes(), key.bytes());
        assert_eq!(
            Key::parse(&format!("  {}\n", key.to_hex()))
                .unwrap()
                .bytes(),
            key.bytes()
        );
        assert!(Key::parse("abc").is_err());
        assert!(Key::parse(&"g".repeat(64)).is_err());
        assert!(!format!("{key:?}").contains(&key.to_hex()[..8]));
    }
}
