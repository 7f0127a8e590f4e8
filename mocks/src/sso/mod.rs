//! The mock Red Hat SSO: the Keycloak docker-v2 token endpoint of `sso.redhat.com`.
//!
//! `GET /auth/realms/{realm}/protocol/redhat-docker-v2/auth?service=..&client_id=..&scope=..&account=..`
//! with HTTP Basic credentials answers (seed 003's exact bodies):
//!
//! - 200 `{"token":JWT,"access_token":JWT,"expires_in":300,"issued_at":"2018-08-13T21:28:03Z"}`
//!   with an RS256 JWT (header `alg, typ, kid, jwk`; claims `jti, exp, nbf, iat, iss, aud,
//!   sub, typ, azp, access`), `access` holding the requested repositories the account
//!   is entitled to, pull only;
//! - 401 `{"errors":[{"code":"UNAUTHORIZED","message":"Invalid username or password","detail":[<requested scopes>]}]}`
//!   for wrong, unknown, deleted or regenerated credentials, and the same shape with
//!   [`REDHAT_LOGIN_MESSAGE`] when no credentials were sent; no `WWW-Authenticate`
//!   (Keycloak's docker authenticator sends none);
//! - 400 `{"error":"invalid_request","error_description":"service parameter must be provided"}`
//!   without `service` (Keycloak's text), 405 for other methods than GET/HEAD.

pub mod account;
mod endpoint;
pub mod request;

#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use wiremock::matchers::path;
use wiremock::{Mock, MockServer};

pub use account::{Account, AccountKind};
pub use request::{Credentials, TokenOutcome, TokenRequest};

use endpoint::{lock, EndpointState, TokenResponder};

use crate::signing::{SigningError, SigningKey};
use crate::{Clock, VerificationKey};

/// What the SSO says to a token request without credentials (FIDELITY.md).
pub const REDHAT_LOGIN_MESSAGE: &str = "Please login to the Red Hat Registry using your Customer Portal credentials. Further instructions can be found here: https://access.redhat.com/RegistryAuthentication";

/// What the SSO says to wrong credentials (seed 003; upstream Keycloak adds a period).
pub const INVALID_CREDENTIALS_MESSAGE: &str = "Invalid username or password";

/// The wiremock priority of the token endpoint: mount fault stubs with a lower number
/// (higher priority) to override it.
pub const ENDPOINT_PRIORITY: u8 = 10;

/// Errors of the token service.
#[derive(Debug, thiserror::Error)]
pub enum SsoError {
    /// The signing key could not be created.
    #[error(transparent)]
    Signing(#[from] SigningError),
    /// The listener could not be bound.
    #[error("cannot bind the token service on 127.0.0.1: {0}")]
    Bind(std::io::Error),
    /// No account has this username.
    #[error("no SSO account {0:?}")]
    UnknownAccount(String),
    /// Two accounts with one username.
    #[error("the SSO already has an account {0:?}")]
    DuplicateAccount(String),
}

/// Builds a [`TokenService`]; see [`TokenService::builder`].
#[derive(Debug)]
pub struct TokenServiceBuilder {
    realm: String,
    public_base_url: String,
    lifetime: u64,
    clock: Clock,
    accounts: Vec<Account>,
    services: Option<Vec<String>>,
    key: Option<SigningKey>,
}

impl TokenServiceBuilder {
    /// Keycloak realm (default `rhcc`).
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        self.realm = realm.into();
        self
    }

    /// Public base URL, the start of the issuer (default `https://sso.redhat.com`).
    pub fn public_base_url(mut self, url: impl Into<String>) -> Self {
        self.public_base_url = url.into().trim_end_matches('/').to_string();
        self
    }

    /// Token lifetime and `expires_in` in seconds (default 300).
    pub fn token_lifetime(mut self, secs: u64) -> Self {
        self.lifetime = secs;
        self
    }

    /// The clock tokens are dated by; share it with the registries.
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Adds an account.
    pub fn account(mut self, account: Account) -> Self {
        self.accounts.push(account);
        self
    }

    /// Restricts `service` to these Keycloak clients; another service gets Keycloak's
    /// 400 `invalid_client`. By default every service is accepted.
    pub fn services<I, S>(mut self, services: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.services = Some(services.into_iter().map(Into::into).collect());
        self
    }

    /// Signs with `key` instead of a freshly generated one.
    pub fn signing_key(mut self, key: SigningKey) -> Self {
        self.key = Some(key);
        self
    }

    /// Generates the signing key (unless given) and starts the endpoint on
    /// 127.0.0.1, random port, plain HTTP.
    pub async fn start(self) -> Result<TokenService, SsoError> {
        for (i, a) in self.accounts.iter().enumerate() {
            if self.accounts[..i]
                .iter()
                .any(|b| b.username() == a.username())
            {
                return Err(SsoError::DuplicateAccount(a.username().to_string()));
            }
        }
        let issuer = format!("{}/auth/realms/{}", self.public_base_url, self.realm);
        let key = match self.key {
            Some(key) => key,
            None => SigningKey::generate(&format!(
                "regharness SSO token signer {}",
                uuid::Uuid::new_v4().simple()
            ))?,
        };
        let state = Arc::new(EndpointState {
            issuer: issuer.clone(),
            lifetime: self.lifetime,
            clock: self.clock,
            key,
            services: self.services,
            accounts: Mutex::new(self.accounts),
            requests: Mutex::new(Vec::new()),
        });
        let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(SsoError::Bind)?;
        let server = MockServer::builder().listener(listener).start().await;
        let token_path = format!("/auth/realms/{}/protocol/redhat-docker-v2/auth", self.realm);
        Mock::given(path(token_path.clone()))
            .respond_with(TokenResponder(state.clone()))
            .with_priority(ENDPOINT_PRIORITY)
            .named("docker-v2 token endpoint")
            .mount(&server)
            .await;
        Ok(TokenService {
            server,
            state,
            realm: self.realm,
            issuer,
            token_path,
        })
    }
}

/// A running mock SSO.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use regharness_mocks::{Account, TokenService};
/// let sso = TokenService::builder()
///     .account(Account::service_account("1234567", "ci-puller", "canary-token"))
///     .start()
///     .await?;
/// assert_eq!(sso.issuer(), "https://sso.redhat.com/auth/realms/rhcc");
/// assert_eq!(sso.token_path(), "/auth/realms/rhcc/protocol/redhat-docker-v2/auth");
/// assert_eq!(sso.realm_url(), "https://sso.redhat.com/auth/realms/rhcc/protocol/redhat-docker-v2/auth");
/// assert!(sso.uri().starts_with("http://127.0.0.1:"));
/// let new_secret = sso.regenerate_secret("1234567|ci-puller")?;
/// assert_eq!(sso.account_secret("1234567|ci-puller"), Some(new_secret));
/// sso.delete_account("1234567|ci-puller")?;
/// assert_eq!(sso.account_secret("1234567|ci-puller"), None);
/// # Ok(()) }
/// ```
pub struct TokenService {
    server: MockServer,
    state: Arc<EndpointState>,
    realm: String,
    issuer: String,
    token_path: String,
}

impl std::fmt::Debug for TokenService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenService")
            .field("issuer", &self.issuer)
            .field("addr", self.server.address())
            .field("kid", &self.state.key.key_id())
            .finish_non_exhaustive()
    }
}

impl TokenService {
    /// A builder with Red Hat's defaults: realm `rhcc`, `https://sso.redhat.com`,
    /// 300 s tokens, no accounts, any service.
    pub fn builder() -> TokenServiceBuilder {
        TokenServiceBuilder {
            realm: "rhcc".into(),
            public_base_url: "https://sso.redhat.com".into(),
            lifetime: 300,
            clock: Clock::new(),
            accounts: Vec::new(),
            services: None,
            key: None,
        }
    }

    /// The loopback address (plain HTTP).
    pub fn addr(&self) -> SocketAddr {
        *self.server.address()
    }

    /// `http://127.0.0.1:PORT`.
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// The realm name (`rhcc`).
    pub fn realm(&self) -> &str {
        &self.realm
    }

    /// The issuer, `iss` of every token: `https://sso.redhat.com/auth/realms/rhcc`.
    pub fn issuer(&self) -> String {
        self.issuer.clone()
    }

    /// The endpoint's path: `/auth/realms/rhcc/protocol/redhat-docker-v2/auth`.
    pub fn token_path(&self) -> String {
        self.token_path.clone()
    }

    /// The public token URL a registry's challenge names:
    /// `https://sso.redhat.com/auth/realms/rhcc/protocol/redhat-docker-v2/auth`.
    pub fn realm_url(&self) -> String {
        format!("{}/protocol/redhat-docker-v2/auth", self.issuer)
    }

    /// The token URL on the loopback listener: [`TokenService::uri`] +
    /// [`TokenService::token_path`].
    pub fn local_realm_url(&self) -> String {
        format!("{}{}", self.server.uri(), self.token_path)
    }

    /// The signing certificate (PEM), for distribution's `auth.token.rootcertbundle`.
    pub fn signing_certificate_pem(&self) -> String {
        self.state.key.certificate_pem()
    }

    /// The libtrust key ID of the signing key (`kid` of every token).
    pub fn key_id(&self) -> String {
        self.state.key.key_id().to_string()
    }

    /// The key a registry trusts to accept this SSO's tokens.
    pub fn verification_key(&self) -> VerificationKey {
        self.state.key.verification_key()
    }

    /// The signing key, to mint tokens the endpoint would not (other claims, headers).
    pub fn signing_key(&self) -> &SigningKey {
        &self.state.key
    }

    /// The current secret of `username`, if the account exists.
    pub fn account_secret(&self, username: &str) -> Option<String> {
        lock(&self.state.accounts)
            .iter()
            .find(|a| a.username() == username)
            .map(|a| a.secret().to_string())
    }

    /// The accounts as they are now.
    pub fn accounts(&self) -> Vec<Account> {
        lock(&self.state.accounts).clone()
    }

    /// Adds an account while running ("create service account").
    pub fn add_account(&self, account: Account) -> Result<(), SsoError> {
        let mut accounts = lock(&self.state.accounts);
        if accounts.iter().any(|a| a.username() == account.username()) {
            return Err(SsoError::DuplicateAccount(account.username().to_string()));
        }
        accounts.push(account);
        Ok(())
    }

    /// "Regenerate token": a new long secret, returned; the old one gets 401 from now
    /// on, the username stays.
    pub fn regenerate_secret(&self, username: &str) -> Result<String, SsoError> {
        let secret = account::generate_token();
        let mut accounts = lock(&self.state.accounts);
        let account = accounts
            .iter_mut()
            .find(|a| a.username() == username)
            .ok_or_else(|| SsoError::UnknownAccount(username.to_string()))?;
        account.set_secret(secret.clone());
        Ok(secret)
    }

    /// "Delete account": the username gets 401 from now on.
    pub fn delete_account(&self, username: &str) -> Result<(), SsoError> {
        let mut accounts = lock(&self.state.accounts);
        let before = accounts.len();
        accounts.retain(|a| a.username() != username);
        if accounts.len() == before {
            return Err(SsoError::UnknownAccount(username.to_string()));
        }
        Ok(())
    }

    /// Every request the token endpoint answered, in arrival order (no passwords).
    /// Requests answered by stubs mounted over it are not included.
    pub fn requests(&self) -> Vec<TokenRequest> {
        lock(&self.state.requests).clone()
    }

    /// The wiremock server, to mount fault stubs over the endpoint: give them a
    /// priority below [`ENDPOINT_PRIORITY`] (wiremock: lower numbers win).
    pub fn mock_server(&self) -> &MockServer {
        &self.server
    }
}
