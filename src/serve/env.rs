//! `DIR/env` and `DIR/env.sh`: the environment `regharness serve` hands to other shells.
//!
//! `DIR/env` is the contract scripts rely on: one `KEY=VALUE` line per variable, the
//! value raw (no quotes, no escapes; values never contain a newline), written
//! atomically (a temporary file renamed into place) and only once the world is ready.
//! `DIR/env.sh` holds the same variables as `export KEY='VALUE'` lines for a POSIX shell
//! (`. DIR/env.sh`): a service account's username contains `|`, which a shell would
//! read as a pipe in a bare `KEY=VALUE` line.

use std::path::{Path, PathBuf};

/// The file scripts wait for.
pub const ENV_FILE: &str = "env";
/// The same variables as shell `export` lines.
pub const ENV_SH_FILE: &str = "env.sh";

/// Errors writing or reading the env files.
#[derive(Debug, thiserror::Error)]
pub enum EnvFileError {
    /// A file could not be written, renamed or removed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A key or value cannot be written as one `KEY=VALUE` line.
    #[error("{0}: keys are [A-Za-z_][A-Za-z0-9_]* and values hold no newline")]
    Invalid(String),
}

/// Ordered `KEY=VALUE` pairs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnvVars(Vec<(String, String)>);

impl EnvVars {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends (or replaces) `key`.
    pub fn set(&mut self, key: impl Into<String>, value: impl Into<String>) {
        let (key, value) = (key.into(), value.into());
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some(entry) => entry.1 = value,
            None => self.0.push((key, value)),
        }
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The pairs, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// `KEY=VALUE` lines (the `DIR/env` format).
    pub fn to_env_file(&self) -> Result<String, EnvFileError> {
        let mut out = String::new();
        for (k, v) in self.iter() {
            check(k, v)?;
            out.push_str(&format!("{k}={v}\n"));
        }
        Ok(out)
    }

    /// `export KEY='VALUE'` lines (the `DIR/env.sh` format).
    pub fn to_shell(&self) -> Result<String, EnvFileError> {
        let mut out = String::new();
        for (k, v) in self.iter() {
            check(k, v)?;
            out.push_str(&format!("export {k}={}\n", shell_quote(v)));
        }
        Ok(out)
    }

    /// Parses `KEY=VALUE` lines (blank lines and `#` comments skipped).
    pub fn parse(text: &str) -> Self {
        let mut vars = Self::new();
        for line in text.lines() {
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some((k, v)) = line.split_once('=') {
                vars.set(k, v);
            }
        }
        vars
    }

    /// Writes `dir/env.sh`, then `dir/env`, each atomically: `dir/env` appearing means
    /// both are complete.
    pub fn write(&self, dir: &Path) -> Result<(), EnvFileError> {
        write_atomically(&dir.join(ENV_SH_FILE), &self.to_shell()?)?;
        write_atomically(&dir.join(ENV_FILE), &self.to_env_file()?)
    }
}

/// Removes `dir/env` (first: waiting scripts must not see a stale one) and `dir/env.sh`;
/// missing files are fine.
pub fn remove(dir: &Path) -> Result<(), EnvFileError> {
    for name in [ENV_FILE, ENV_SH_FILE] {
        let path = dir.join(name);
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(EnvFileError::Io { path, source }),
        }
    }
    Ok(())
}

fn check(key: &str, value: &str) -> Result<(), EnvFileError> {
    let mut chars = key.chars();
    let key_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if key_ok && !value.contains(['\n', '\r', '\0']) {
        Ok(())
    } else {
        Err(EnvFileError::Invalid(key.to_string()))
    }
}

/// `'VALUE'`, a single quote written as `'\''`.
pub fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

fn write_atomically(path: &Path, text: &str) -> Result<(), EnvFileError> {
    let tmp = path.with_extension("tmp-write");
    let fail = |path: &Path| {
        let path = path.to_path_buf();
        move |source| EnvFileError::Io { path, source }
    };
    std::fs::write(&tmp, text).map_err(fail(&tmp))?;
    std::fs::rename(&tmp, path).map_err(fail(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> EnvVars {
        let mut vars = EnvVars::new();
        vars.set("HTTPS_PROXY", "http://127.0.0.1:3128");
        vars.set("NO_PROXY", "");
        vars.set("REGHARNESS_DEMO_USERNAME", "7654321|regharness-demo");
        vars.set("ODD", "it's");
        vars
    }

    #[test]
    fn env_file_lines_are_raw_and_parse_back() {
        let text = sample().to_env_file().expect("env");
        assert_eq!(
            text,
            "HTTPS_PROXY=http://127.0.0.1:3128\nNO_PROXY=\n\
             REGHARNESS_DEMO_USERNAME=7654321|regharness-demo\nODD=it's\n"
        );
        assert_eq!(EnvVars::parse(&text), sample());
    }

    #[test]
    fn shell_lines_are_quoted() {
        let text = sample().to_shell().expect("sh");
        assert!(text.contains("export REGHARNESS_DEMO_USERNAME='7654321|regharness-demo'\n"));
        assert!(text.contains(r"export ODD='it'\''s'"));
        assert!(text.contains("export NO_PROXY=''\n"));
    }

    #[test]
    fn newlines_and_bad_keys_are_refused() {
        let mut vars = EnvVars::new();
        vars.set("PEM", "a\nb");
        assert!(vars.to_env_file().is_err());
        let mut vars = EnvVars::new();
        vars.set("1KEY", "v");
        assert!(vars.to_shell().is_err());
    }

    #[test]
    fn write_then_remove() {
        let dir = tempfile::tempdir().expect("tempdir");
        sample().write(dir.path()).expect("write");
        let read = std::fs::read_to_string(dir.path().join(ENV_FILE)).expect("env");
        assert_eq!(EnvVars::parse(&read), sample());
        assert!(dir.path().join(ENV_SH_FILE).is_file());
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .expect("dir")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(leftovers.len(), 2, "{leftovers:?}");
        remove(dir.path()).expect("remove");
        remove(dir.path()).expect("remove again");
        assert!(!dir.path().join(ENV_FILE).exists());
    }
}
