//! SSO accounts: Customer Portal people and registry service accounts.

/// What kind of account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountKind {
    /// A Customer Portal login.
    Person,
    /// A registry service account (`<prefix>|<name>`, password = a long token).
    ServiceAccount,
}

/// An account of the mock SSO.
///
/// ```
/// use regharness_mocks::Account;
/// let a = Account::service_account("1234567", "ci-puller", "long-token").entitled_to(["rhel8/*"]);
/// assert_eq!(a.username(), "1234567|ci-puller");
/// assert!(a.is_entitled("rhel8/pcp"));
/// assert!(!a.is_entitled("ubi8/ubi"));
/// ```
#[derive(Clone)]
pub struct Account {
    username: String,
    secret: String,
    kind: AccountKind,
    entitlements: Vec<String>,
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account")
            .field("username", &self.username)
            .field("kind", &self.kind)
            .field("entitlements", &self.entitlements)
            .finish_non_exhaustive()
    }
}

impl Account {
    /// A Customer Portal person.
    pub fn person(username: impl Into<String>, password: impl Into<String>) -> Self {
        Self {
            username: username.into(),
            secret: password.into(),
            kind: AccountKind::Person,
            entitlements: vec!["*".into()],
        }
    }

    /// A registry service account `prefix|name` with the given token.
    pub fn service_account(prefix: &str, name: &str, token: impl Into<String>) -> Self {
        Self {
            username: format!("{prefix}|{name}"),
            secret: token.into(),
            kind: AccountKind::ServiceAccount,
            entitlements: vec!["*".into()],
        }
    }

    /// A registry service account with a generated long token (see [`Account::secret`]).
    pub fn service_account_generated(prefix: &str, name: &str) -> Self {
        Self::service_account(prefix, name, generate_token())
    }

    /// Restricts the repositories the account may pull: `*` (all), `ns/*` (a prefix) or
    /// an exact repository.
    pub fn entitled_to<I, S>(mut self, patterns: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.entitlements = patterns.into_iter().map(Into::into).collect();
        self
    }

    /// The username.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The password or token.
    pub fn secret(&self) -> &str {
        &self.secret
    }

    /// The kind.
    pub fn kind(&self) -> AccountKind {
        self.kind
    }

    /// Whether the account may pull `repository`.
    pub fn is_entitled(&self, repository: &str) -> bool {
        self.entitlements.iter().any(|p| {
            p == "*"
                || p == repository
                || p.strip_suffix("/*")
                    .is_some_and(|prefix| repository.starts_with(&format!("{prefix}/")))
        })
    }

    pub(crate) fn set_secret(&mut self, secret: String) {
        self.secret = secret;
    }
}

/// A long random token, like the portal's service-account passwords.
pub fn generate_token() -> String {
    let mut out = String::with_capacity(1100);
    while out.len() < 1000 {
        out.push_str(&uuid::Uuid::new_v4().simple().to_string());
    }
    out
}
