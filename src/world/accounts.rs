//! The accounts of a world and the history of their secrets.

use std::sync::{Arc, Mutex};

use serde_saphyr::Spanned;

use crate::scenario::model::AccountSpec;

use super::WorldError;

/// An account as the harness knows it: username, kind and every secret it has had.
#[derive(Debug, Clone)]
pub struct WorldAccount {
    /// Full username (`1234567|ci-puller` for a service account).
    pub username: String,
    /// A registry service account (else a Customer Portal person).
    pub service_account: bool,
    /// Repository patterns it may pull.
    pub entitled: Vec<String>,
    /// Secrets, oldest first; the last is current.
    pub secrets: Vec<String>,
}

impl WorldAccount {
    /// The secret in force.
    pub fn current_secret(&self) -> &str {
        self.secrets.last().map(String::as_str).unwrap_or("")
    }

    /// The secret before the last regeneration.
    pub fn previous_secret(&self) -> Option<&str> {
        let n = self.secrets.len();
        (n >= 2).then(|| self.secrets[n - 2].as_str())
    }
}

/// The accounts of a world.
#[derive(Debug, Clone, Default)]
pub struct AccountBook {
    accounts: Arc<Mutex<Vec<WorldAccount>>>,
}

impl AccountBook {
    /// Builds the book from a scenario, generating service-account tokens where the
    /// scenario gives none.
    pub fn from_spec(specs: &[Spanned<AccountSpec>]) -> Result<Self, WorldError> {
        let mut accounts = Vec::new();
        for spec in specs.iter().map(|s| &s.value) {
            let (username, service_account) = match (&spec.person, &spec.service_account) {
                (Some(p), None) => (p.clone(), false),
                (None, Some(s)) => (s.clone(), true),
                _ => {
                    return Err(WorldError::Invalid(
                        "an account needs exactly one of `person` or `service_account`".into(),
                    ))
                }
            };
            let secret = match &spec.password {
                Some(p) => p.clone(),
                None if service_account => generated_token(&username),
                None => {
                    return Err(WorldError::Invalid(format!(
                        "person {username:?} needs a password"
                    )))
                }
            };
            accounts.push(WorldAccount {
                username,
                service_account,
                entitled: spec.entitled.clone().unwrap_or_else(|| vec!["*".into()]),
                secrets: vec![secret],
            });
        }
        Ok(Self {
            accounts: Arc::new(Mutex::new(accounts)),
        })
    }

    /// A snapshot of every account.
    pub fn all(&self) -> Vec<WorldAccount> {
        self.accounts.lock().map(|a| a.clone()).unwrap_or_default()
    }

    /// Finds an account by full username, or by the name after a service account's
    /// `prefix|`.
    pub fn find(&self, name: &str) -> Option<WorldAccount> {
        let all = self.all();
        all.iter()
            .find(|a| a.username == name)
            .or_else(|| {
                all.iter()
                    .find(|a| a.username.split_once('|').map(|(_, n)| n) == Some(name))
            })
            .cloned()
    }

    /// Records a new current secret.
    pub fn push_secret(&self, username: &str, secret: String) {
        if let Ok(mut all) = self.accounts.lock() {
            if let Some(a) = all.iter_mut().find(|a| a.username == username) {
                a.secrets.push(secret);
            }
        }
    }
}

/// A long, random-looking registry token like the ones the portal issues.
fn generated_token(username: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut out = String::from("eyJhbGciOiJSUzUxMiJ9.");
    let mut seed = format!(
        "{username}-{:?}-{}",
        std::time::SystemTime::now(),
        std::process::id()
    );
    while out.len() < 900 {
        let digest = Sha256::digest(seed.as_bytes());
        seed = hex::encode(digest);
        out.push_str(&seed);
    }
    out.push_str(".sig");
    out
}
