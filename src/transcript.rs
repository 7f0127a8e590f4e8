//! The record of what a step sent and received, redacted for snapshots.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::redact::SecretSet;

/// Response headers worth keeping in a transcript.
pub const SALIENT_HEADERS: &[&str] = &[
    "content-type",
    "www-authenticate",
    "docker-content-digest",
    "location",
    "link",
];

/// One request and what came back.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Exchange {
    /// `METHOD URL` with the virtual host name (no loopback port).
    pub request: String,
    /// The Authorization scheme that was sent, with the credential redacted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization: Option<String>,
    /// The HTTP status, when a response arrived.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Salient response headers (see [`SALIENT_HEADERS`]).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// The response body: JSON for JSON answers, else a size summary.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<serde_json::Value>,
    /// Why no response arrived.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What happened on the way when a proxy was involved, like the `*` lines of
    /// `curl -v`: `Connected to proxy ...`, `CONNECT host:443 HTTP/1.1`,
    /// `HTTP/1.1 200 Connection established`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub connection: Vec<String>,
}

impl Exchange {
    /// Redacts secrets, tokens and timestamps in place.
    pub fn redact(&mut self, secrets: &SecretSet) {
        self.request = secrets.redact(&self.request);
        for value in self.headers.values_mut() {
            *value = secrets.redact(value);
        }
        if let Some(body) = self.body.as_mut() {
            redact_json(body, secrets);
        }
        if let Some(error) = self.error.as_mut() {
            *error = secrets.redact(error);
        }
        for line in self.connection.iter_mut() {
            *line = normalize_loopback_ports(&secrets.redact(line));
        }
        if let Some(error) = self.error.as_mut() {
            *error = normalize_loopback_ports(error);
        }
    }
}

/// Replaces the random port of every `127.0.0.1:PORT` (the world's proxy and firewall
/// endpoints) with `[port]`, so that snapshots are stable.
///
/// ```
/// use regharness::transcript::normalize_loopback_ports;
/// assert_eq!(
///     normalize_loopback_ports("dial tcp 127.0.0.1:41234: connect: connection refused"),
///     "dial tcp 127.0.0.1:[port]: connect: connection refused"
/// );
/// ```
pub fn normalize_loopback_ports(text: &str) -> String {
    const LOOPBACK: &str = "127.0.0.1:";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(LOOPBACK) {
        out.push_str(&rest[..i + LOOPBACK.len()]);
        rest = &rest[i + LOOPBACK.len()..];
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        if digits > 0 {
            out.push_str("[port]");
            rest = &rest[digits..];
        }
    }
    out.push_str(rest);
    out
}

/// Keys whose values change every run and are replaced in snapshots.
const VOLATILE_KEYS: &[&str] = &["issued_at", "jti", "iat", "exp", "nbf"];

/// Redacts secrets in every string of a JSON value and replaces volatile values.
pub fn redact_json(value: &mut serde_json::Value, secrets: &SecretSet) {
    match value {
        serde_json::Value::String(s) => *s = secrets.redact(s),
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| redact_json(v, secrets)),
        serde_json::Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if VOLATILE_KEYS.contains(&key.as_str()) {
                    *v = serde_json::Value::String(format!("[{key}]"));
                } else {
                    redact_json(v, secrets);
                }
            }
        }
        _ => {}
    }
}

/// The exchanges of one step, in order.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
#[serde(transparent)]
pub struct Transcript {
    /// The exchanges.
    pub exchanges: Vec<Exchange>,
}

impl Transcript {
    /// Appends an exchange.
    pub fn push(&mut self, exchange: Exchange) {
        self.exchanges.push(exchange);
    }

    /// Redacts every exchange.
    pub fn redact(&mut self, secrets: &SecretSet) {
        self.exchanges.iter_mut().for_each(|e| e.redact(secrets));
    }

    /// The last exchange that got a response.
    pub fn last_status(&self) -> Option<u16> {
        self.exchanges.iter().rev().find_map(|e| e.status)
    }
}
