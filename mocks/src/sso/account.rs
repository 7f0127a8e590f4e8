//! SSO accounts: Customer Portal people and registry service accounts.

/// What kind of account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountKind {
    /// A Customer Portal login.
    Person,
    /// A registry service account: username `<prefix>|<name>`, password a long token.
    ServiceAccount,
}

/// An account of the mock SSO. Both kinds are entitled to every repository (`*`)
/// unless [`Account::entitled_to`] says otherwise, and may only pull.
///
/// ```
/// use regharness_mocks::sso::{Account, AccountKind};
/// let a = Account::service_account("1234567", "ci-puller", "long-token").entitled_to(["rhel8/*"]);
/// assert_eq!(a.username(), "1234567|ci-puller");
/// assert_eq!(a.kind(), AccountKind::ServiceAccount);
/// assert!(a.is_entitled("rhel8/pcp"));
/// assert!(!a.is_entitled("rhel8"));
/// assert!(!a.is_entitled("ubi8/ubi"));
/// let p = Account::person("jdoe", "secret");
/// assert!(p.is_entitled("anything/at/all"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Account {
    username: String,
    secret: String,
    kind: AccountKind,
    entitlements: Vec<String>,
}

/// The secret is left out.
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

    /// A registry service account `prefix|name` whose password is `token`.
    pub fn service_account(prefix: &str, name: &str, token: impl Into<String>) -> Self {
        Self {
            username: format!("{prefix}|{name}"),
            secret: token.into(),
            kind: AccountKind::ServiceAccount,
            entitlements: vec!["*".into()],
        }
    }

    /// A registry service account `prefix|name` with a generated token, as the portal
    /// creates them (read it back with [`Account::secret`]).
    ///
    /// ```
    /// use regharness_mocks::Account;
    /// let a = Account::service_account_generated("11009103", "builder");
    /// assert!(a.secret().len() >= 1000);
    /// ```
    pub fn service_account_generated(prefix: &str, name: &str) -> Self {
        Self::service_account(prefix, name, generate_token())
    }

    /// Restricts the repositories the account may pull: `*` (all), `ns/*` (every
    /// repository under `ns/`) or an exact repository name.
    pub fn entitled_to<I, S>(mut self, patterns: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.entitlements = patterns.into_iter().map(Into::into).collect();
        self
    }

    /// The username (`jdoe`, `1234567|ci-puller`).
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

    /// The repository patterns the account is entitled to.
    pub fn entitlements(&self) -> &[String] {
        &self.entitlements
    }

    /// Whether the account may pull `repository`.
    pub fn is_entitled(&self, repository: &str) -> bool {
        self.entitlements.iter().any(|pattern| {
            pattern == "*"
                || pattern == repository
                || pattern.strip_suffix("/*").is_some_and(|prefix| {
                    repository
                        .strip_prefix(prefix)
                        .is_some_and(|rest| rest.len() > 1 && rest.starts_with('/'))
                })
        })
    }

    /// Whether `password` is this account's current secret.
    pub(crate) fn accepts(&self, password: &str) -> bool {
        // Constant-time enough for a mock; compare lengths and bytes without early exit.
        let (a, b) = (self.secret.as_bytes(), password.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }

    pub(crate) fn set_secret(&mut self, secret: String) {
        self.secret = secret;
    }
}

/// A long random token, like the portal's service-account passwords (1024 characters
/// of `[0-9a-f]`).
pub fn generate_token() -> String {
    let mut out = String::with_capacity(1024);
    while out.len() < 1024 {
        out.push_str(&uuid::Uuid::new_v4().simple().to_string());
    }
    out.truncate(1024);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        let a = Account::person("p", "x").entitled_to(["rhel8/*", "ubi9", "openshift4/ose-*"]);
        assert!(a.is_entitled("rhel8/pcp"));
        assert!(a.is_entitled("rhel8/a/b"));
        assert!(!a.is_entitled("rhel8"));
        assert!(!a.is_entitled("rhel8/"));
        assert!(!a.is_entitled("rhel89/pcp"));
        assert!(a.is_entitled("ubi9"));
        assert!(!a.is_entitled("ubi9/ubi"));
        // Only a trailing "/*" is a wildcard.
        assert!(!a.is_entitled("openshift4/ose-cli"));
        assert!(!Account::person("p", "x")
            .entitled_to(Vec::<String>::new())
            .is_entitled("rhel"));
    }

    #[test]
    fn secrets_compare_exactly_and_stay_out_of_debug() {
        let a = Account::service_account("1234567", "ci-puller", "canary-secret");
        assert!(a.accepts("canary-secret"));
        assert!(!a.accepts("canary-secreT"));
        assert!(!a.accepts("canary-secret "));
        assert!(!a.accepts(""));
        assert!(!format!("{a:?}").contains("canary"));
        let g = generate_token();
        assert_eq!(g.len(), 1024);
        assert_ne!(g, generate_token());
    }
}
