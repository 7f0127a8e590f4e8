//! The step flows: login, token, ping, pull, and the world-changing steps.

pub mod check_secret;
pub mod cluster_objects;
pub mod drivers;
pub mod login;
pub mod node_config;
pub mod node_pull;
pub mod ping;
pub mod pod_pull;
pub mod pull;
pub mod registry_auth;
pub mod token;

use serde_json::Value;

use crate::client::auth_file::Sandbox;
use crate::client::http::{HttpSession, NetworkError};
use crate::diagnosis::{Diagnosis, DiagnosisClass};
use crate::scenario::model::{CredentialsSpec, Outcome};
use crate::transcript::Transcript;
use crate::world::World;

/// A file a step generated, for snapshots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    /// Display path (`${XDG_RUNTIME_DIR}/containers/auth.json`).
    pub path: String,
    /// Content.
    pub content: String,
}

/// What a step produced.
#[derive(Debug, Clone)]
pub struct StepResult {
    /// ok / failed.
    pub outcome: Outcome,
    /// The HTTP status of the deciding response.
    pub status: Option<u16>,
    /// Class and detail.
    pub diagnosis: Diagnosis,
    /// One line for people.
    pub message: String,
    /// The deciding response's JSON body.
    pub body: Option<Value>,
    /// Every exchange.
    pub transcript: Transcript,
    /// Files written.
    pub files: Vec<GeneratedFile>,
    /// Claims of a token the step obtained (decoded, not verified).
    pub claims: Option<Value>,
    /// The access token a `token` step obtained, for later `ping` steps.
    pub access_token: Option<String>,
    /// The finding codes of a `check-pull-secret` step.
    pub findings: Option<Vec<String>>,
}

impl StepResult {
    /// A success.
    pub fn ok(message: impl Into<String>) -> Self {
        Self {
            outcome: Outcome::Ok,
            status: None,
            diagnosis: Diagnosis::ok(),
            message: message.into(),
            body: None,
            transcript: Transcript::default(),
            files: Vec::new(),
            claims: None,
            access_token: None,
            findings: None,
        }
    }

    /// A failure.
    pub fn failed(diagnosis: Diagnosis, message: impl Into<String>) -> Self {
        Self {
            outcome: Outcome::Failed,
            diagnosis,
            ..Self::ok(message)
        }
    }

    /// Sets the status.
    pub fn with_status(mut self, status: Option<u16>) -> Self {
        self.status = status;
        self
    }

    /// Sets the body.
    pub fn with_body(mut self, body: Option<Value>) -> Self {
        self.body = body;
        self
    }

    /// Sets the transcript.
    pub fn with_transcript(mut self, transcript: Transcript) -> Self {
        self.transcript = transcript;
        self
    }
}

/// A failure inside a flow, before it becomes a [`StepResult`].
#[derive(Debug, Clone)]
pub struct FlowFailure {
    /// Class and detail.
    pub diagnosis: Diagnosis,
    /// The status of the response that decided it.
    pub status: Option<u16>,
    /// Its JSON body (boxed: failures travel in `Result`s and should stay small).
    pub body: Option<Box<Value>>,
    /// One line for people, worded like the real client where it helps.
    pub message: String,
}

impl FlowFailure {
    /// A failure of `class`.
    pub fn new(
        class: DiagnosisClass,
        detail: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            diagnosis: Diagnosis::new(class, detail),
            status: None,
            body: None,
            message: message.into(),
        }
    }

    /// Into a step result with `transcript`.
    pub fn into_result(self, transcript: Transcript) -> StepResult {
        StepResult::failed(self.diagnosis, self.message)
            .with_status(self.status)
            .with_body(self.body.map(|b| *b))
            .with_transcript(transcript)
    }
}

impl From<NetworkError> for FlowFailure {
    fn from(e: NetworkError) -> Self {
        let (class, detail) = classify_network(&e);
        FlowFailure::new(class, detail, e.to_string())
    }
}

/// The diagnosis of a request that got no HTTP answer, by the connection step that
/// failed.
pub fn classify_network(e: &NetworkError) -> (DiagnosisClass, String) {
    use crate::client::transport::{ConnectError as C, IoKind, TlsFailure};
    if e.reset {
        return (
            DiagnosisClass::ConnectionReset,
            format!("the connection was reset during {} {}", e.method, e.url),
        );
    }
    let Some(connect) = &e.connect else {
        let what = if e.timed_out {
            "no answer before the timeout"
        } else {
            "no HTTP answer"
        };
        return (DiagnosisClass::Network, format!("{what}: {}", e.message));
    };
    match connect {
        C::Dns { host } => (
            DiagnosisClass::DnsFailure,
            format!("{host} does not resolve"),
        ),
        C::Refused { target, via_proxy: true } | C::ConnectTimeout { target, via_proxy: true, .. } => (
            DiagnosisClass::ProxyUnreachable,
            format!("the proxy {target} cannot be reached: {connect}"),
        ),
        C::Refused { target, .. } => (
            DiagnosisClass::FirewallReject,
            format!("the connection to {target} was refused"),
        ),
        C::ConnectTimeout { target, timeout, .. } => (
            DiagnosisClass::FirewallTimeout,
            format!("the connection to {target} got no answer within {timeout:?}"),
        ),
        C::ProxyStatus {
            target, status: 403, proxy_error, ..
        } => (
            DiagnosisClass::ProxyDeniedHost,
            format!(
                "the proxy refuses CONNECT to {target} (403{}): allow-list {}",
                proxy_error.as_deref().map(|e| format!(", {e}")).unwrap_or_default(),
                target.rsplit_once(':').map(|(h, _)| h).unwrap_or(target)
            ),
        ),
        C::ProxyStatus { target, status: 407, .. } => (
            DiagnosisClass::ProxyAuthRequired,
            format!("the proxy asks for credentials (407) to CONNECT to {target}"),
        ),
        C::ProxyStatus {
            target, status, reason, proxy_error,
        } => (
            DiagnosisClass::ProxyTunnelFailed,
            format!(
                "the proxy answered CONNECT {target} with {status} {reason}{}",
                proxy_error.as_deref().map(|e| format!(" ({e})")).unwrap_or_default()
            ),
        ),
        C::ProxyNoAnswer { target, what } => (
            DiagnosisClass::ProxyTunnelFailed,
            format!("CONNECT {target}: {what}"),
        ),
        C::Tls { target, kind: TlsFailure::UnknownAuthority { issuer }, .. } => (
            DiagnosisClass::TlsUnknownAuthority,
            format!("the certificate of {target} was issued by \"{issuer}\", which this client does not trust"),
        ),
        C::Tls { target, kind: TlsFailure::NotTls, .. } => (
            DiagnosisClass::HttpResponseToHttpsClient,
            format!("{target} answered the TLS handshake in plain HTTP"),
        ),
        C::Tls { target, message, .. } => (
            DiagnosisClass::Network,
            format!("TLS with {target} failed: {message}"),
        ),
        C::Io { kind: IoKind::Reset, target, .. } => (
            DiagnosisClass::ConnectionReset,
            format!("the connection to {target} was reset"),
        ),
        C::Io { target, message, .. } => (
            DiagnosisClass::Network,
            format!("{target}: {message}"),
        ),
    }
}

/// What flows share: the world, the sandbox and earlier results.
pub struct FlowContext<'a> {
    /// The running world.
    pub world: &'a World,
    /// The run's home and runtime folders.
    pub sandbox: &'a Sandbox,
    /// The access token of the last successful `token` step.
    pub last_token: Option<String>,
    /// The step's environment overrides and explicit proxy.
    pub network: crate::world::StepNetwork,
}

impl FlowContext<'_> {
    /// A fresh HTTP session on the world for a tool that reads proxy variables the way
    /// `convention` does (curl for `token`/`ping`, Go for podman/skopeo flows).
    pub fn session(
        &self,
        convention: crate::client::proxy_env::ProxyConvention,
    ) -> Result<HttpSession, FlowFailure> {
        let mut network = self.network.clone();
        network.convention = convention;
        let client = self.world.http_client(&network).map_err(|e| {
            FlowFailure::new(
                DiagnosisClass::Network,
                e.to_string(),
                format!("cannot build the HTTP client: {e}"),
            )
        })?;
        Ok(HttpSession::new(client))
    }

    /// Username and password a step's credentials stand for.
    pub fn resolve_credentials(&self, spec: &CredentialsSpec) -> Result<(String, String), String> {
        self.world.resolve_credentials(spec)
    }
}
