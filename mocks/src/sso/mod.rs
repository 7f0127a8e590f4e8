//! The mock Red Hat SSO: the Keycloak docker-v2 token endpoint of `sso.redhat.com`.
//!
//! `GET /auth/realms/{realm}/protocol/redhat-docker-v2/auth?service=..&scope=..` with
//! HTTP Basic answers 200 `{"token","access_token","expires_in","issued_at"}` with an
//! RS256 JWT, or 401 `{"errors":[{"code":"UNAUTHORIZED","message":"Invalid username or
//! password","detail":[<the requested scopes>]}]}` (seed 003's exact bodies).

pub mod account;
mod endpoint;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use wiremock::matchers::path;
use wiremock::{Mock, MockServer};

pub use account::{Account, AccountKind};
use endpoint::{EndpointState, TokenResponder};

use crate::signing::{SigningError, SigningKey};
use crate::{Clock, VerificationKey};

/// What the SSO says to a token request without credentials (FIDELITY.md).
pub const REDHAT_LOGIN_MESSAGE: &str = "Please login to the Red Hat Registry using your Customer Portal credentials. Further instructions can be found here: https://access.redhat.com/RegistryAuthentication";

/// Errors of the token service.
#[derive(Debug, thiserror::Error)]
pub enum SsoError {
    /// The signing key could not be created.
    #[error(transparent)]
    Signing(#[from] SigningError),
    /// The listener could not be bound.
    #[error("cannot bind the token service on 127.0.0.1: {0}")]
    Bind(std::io::Error),
    /// No such account.
    #[error("no account {0:?}")]
    UnknownAccount(String),
}

/// Builds a [`TokenService`].
#[derive(Debug)]
pub struct TokenServiceBuilder {
    realm: String,
    public_base_url: String,
    lifetime: u64,
    clock: Clock,
    accounts: Vec<Account>,
}

impl TokenServiceBuilder {
    /// Keycloak realm (default `rhcc`).
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        self.realm = realm.into();
        self
    }

    /// Public base URL, part of the issuer (default `https://sso.redhat.com`).
    pub fn public_base_url(mut self, url: impl Into<String>) -> Self {
        self.public_base_url = url.into().trim_end_matches('/').to_string();
        self
    }

    /// `expires_in` of issued tokens in seconds (default 300).
    pub fn token_lifetime(mut self, secs: u64) -> Self {
        self.lifetime = secs;
        self
    }

    /// The clock tokens are dated by (share it with the registries).
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Adds an account.
    pub fn account(mut self, account: Account) -> Self {
        self.accounts.push(account);
        self
    }

    /// Generates the signing key and starts the endpoint on 127.0.0.1 (random port).
    pub async fn start(self) -> Result<TokenService, SsoError> {
        let issuer = format!("{}/auth/realms/{}", self.public_base_url, self.realm);
        let key = SigningKey::generate(&format!(
            "regharness SSO token signer {}",
            uuid::Uuid::new_v4().simple()
        ))?;
        let state = Arc::new(EndpointState {
            issuer: issuer.clone(),
            lifetime: self.lifetime,
            clock: self.clock,
            key,
            accounts: Mutex::new(self.accounts),
        });
        let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(SsoError::Bind)?;
        let server = MockServer::builder().listener(listener).start().await;
        let token_path = format!("/auth/realms/{}/protocol/redhat-docker-v2/auth", self.realm);
        Mock::given(path(token_path.clone()))
            .respond_with(TokenResponder(state.clone()))
            .with_priority(10)
            .mount(&server)
            .await;
        Ok(TokenService {
            server,
            state,
            issuer,
            token_path,
        })
    }
}

/// A running mock SSO.
///
/// ```no_run
/// # async fn demo() -> Result<(), regharness_mocks::sso::SsoError> {
/// use regharness_mocks::{Account, TokenService};
/// let sso = TokenService::builder()
///     .account(Account::service_account("1234567", "ci-puller", "canary-token"))
///     .start()
///     .await?;
/// let url = format!("{}{}?service=docker-registry&scope=repository:rhel:pull", sso.uri(), sso.token_path());
/// # Ok(()) }
/// ```
pub struct TokenService {
    server: MockServer,
    state: Arc<EndpointState>,
    issuer: String,
    token_path: String,
}

impl std::fmt::Debug for TokenService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenService")
            .field("issuer", &self.issuer)
            .field("addr", self.server.address())
            .finish_non_exhaustive()
    }
}

impl TokenService {
    /// A builder with Red Hat's defaults.
    pub fn builder() -> TokenServiceBuilder {
        TokenServiceBuilder {
            realm: "rhcc".into(),
            public_base_url: "https://sso.redhat.com".into(),
            lifetime: 300,
            clock: Clock::new(),
            accounts: Vec::new(),
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

    /// The issuer: `https://sso.redhat.com/auth/realms/rhcc`.
    pub fn issuer(&self) -> String {
        self.issuer.clone()
    }

    /// `/auth/realms/rhcc/protocol/redhat-docker-v2/auth`.
    pub fn token_path(&self) -> String {
        self.token_path.clone()
    }

    /// The public token URL, as a registry's challenge names it.
    pub fn realm_url(&self) -> String {
        format!("{}/protocol/redhat-docker-v2/auth", self.issuer)
    }

    /// The signing certificate (PEM), for distribution's `auth.token.rootcertbundle`.
    pub fn signing_certificate_pem(&self) -> String {
        self.state.key.certificate_pem().to_string()
    }

    /// The libtrust key ID of the signing key.
    pub fn key_id(&self) -> String {
        self.state.key.key_id().to_string()
    }

    /// The key a registry trusts to accept this SSO's tokens.
    pub fn verification_key(&self) -> VerificationKey {
        self.state.key.verification_key()
    }

    /// The current secret of `username`.
    pub fn account_secret(&self, username: &str) -> Option<String> {
        self.with_accounts(|a| {
            a.iter()
                .find(|x| x.username() == username)
                .map(|x| x.secret().to_string())
        })
    }

    /// "Regenerate token": a new secret; the old one gets 401 from now on.
    pub fn regenerate_secret(&self, username: &str) -> Result<String, SsoError> {
        let secret = account::generate_token();
        self.with_accounts(|a| {
            let account = a
                .iter_mut()
                .find(|x| x.username() == username)
                .ok_or_else(|| SsoError::UnknownAccount(username.to_string()))?;
            account.set_secret(secret.clone());
            Ok(secret)
        })
    }

    /// "Delete account": the username gets 401 from now on.
    pub fn delete_account(&self, username: &str) -> Result<(), SsoError> {
        self.with_accounts(|a| {
            let before = a.len();
            a.retain(|x| x.username() != username);
            if a.len() == before {
                Err(SsoError::UnknownAccount(username.to_string()))
            } else {
                Ok(())
            }
        })
    }

    /// The wiremock server, to mount fault stubs at a higher priority (lower number
    /// than 10) than the token endpoint.
    pub fn mock_server(&self) -> &MockServer {
        &self.server
    }

    fn with_accounts<T>(&self, f: impl FnOnce(&mut Vec<Account>) -> T) -> T {
        let mut guard = match self.state.accounts.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut guard)
    }
}
