//! Secret redaction for transcripts, snapshots, reports and logs.

use std::collections::BTreeSet;
use std::sync::{Arc, RwLock};

use base64::Engine;

/// What replaces a known secret.
pub const REDACTED: &str = "[redacted]";
/// What replaces a JSON Web Token.
pub const JWT: &str = "[jwt]";

/// The secrets of one scenario run: passwords, tokens and the `auth` strings built from
/// them. Everything the harness prints or snapshots goes through [`SecretSet::redact`].
///
/// ```
/// use regharness::redact::SecretSet;
/// let secrets = SecretSet::default();
/// secrets.add_credentials("jdoe", "hunter2-canary");
/// let text = "password=hunter2-canary auth=amRvZTpodW50ZXIyLWNhbmFyeQ==";
/// assert_eq!(secrets.redact(text), "password=[redacted] auth=[redacted]");
/// ```
#[derive(Debug, Clone, Default)]
pub struct SecretSet {
    secrets: Arc<RwLock<BTreeSet<String>>>,
}

impl SecretSet {
    /// Registers one secret value (values shorter than 4 characters are ignored: they
    /// would redact ordinary text).
    pub fn add(&self, secret: impl Into<String>) {
        let secret = secret.into();
        if secret.len() >= 4 {
            if let Ok(mut set) = self.secrets.write() {
                set.insert(secret);
            }
        }
    }

    /// Registers a password and every encoded form it travels in:
    /// `base64(username:password)` (HTTP Basic, auth files).
    pub fn add_credentials(&self, username: &str, password: &str) {
        self.add(password);
        let pair = format!("{username}:{password}");
        self.add(base64::engine::general_purpose::STANDARD.encode(&pair));
        self.add(base64::engine::general_purpose::STANDARD_NO_PAD.encode(&pair));
    }

    /// Replaces every registered secret with `[redacted]` and every JWT with `[jwt]`.
    pub fn redact(&self, text: &str) -> String {
        let mut out = redact_jwts(text);
        if let Ok(set) = self.secrets.read() {
            // Longest first, so a secret containing another is replaced whole.
            let mut all: Vec<&String> = set.iter().collect();
            all.sort_by_key(|s| std::cmp::Reverse(s.len()));
            for secret in all {
                if out.contains(secret.as_str()) {
                    out = out.replace(secret.as_str(), REDACTED);
                }
            }
        }
        out
    }
}

/// Replaces compact JWS tokens (`eyJ...` `.` `...` `.` `...`) with `[jwt]`.
pub fn redact_jwts(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let is_b64 = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
    while i < bytes.len() {
        if bytes[i..].starts_with(b"eyJ") && (i == 0 || !is_b64(bytes[i - 1])) {
            let mut j = i;
            let mut dots = 0;
            while j < bytes.len() && (is_b64(bytes[j]) || (bytes[j] == b'.' && dots < 2)) {
                if bytes[j] == b'.' {
                    dots += 1;
                }
                j += 1;
            }
            if dots == 2 && bytes[j - 1] != b'.' {
                out.push_str(JWT);
                i = j;
                continue;
            }
        }
        let ch = text[i..].chars().next().unwrap_or('\u{fffd}');
        out.push(ch);
        i += ch.len_utf8().max(1);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jwts_are_replaced_but_not_other_text() {
        let t = "Bearer eyJhbGciOi.eyJzdWIi.c2ln and eyJonly and a.b.c";
        assert_eq!(redact_jwts(t), "Bearer [jwt] and eyJonly and a.b.c");
    }

    #[test]
    fn longest_secret_wins_and_short_values_are_ignored() {
        let s = SecretSet::default();
        s.add("abc");
        s.add("canary-1");
        s.add("canary-1-long");
        assert_eq!(
            s.redact("abc canary-1-long canary-1"),
            "abc [redacted] [redacted]"
        );
    }
}
