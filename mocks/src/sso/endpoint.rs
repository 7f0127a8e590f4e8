//! The docker-v2 token endpoint as a wiremock responder.
//!
//! wiremock's `Respond` is synchronous and runs under the server's lock, so the shared
//! state sits behind `std::sync::Mutex`es held only for a lookup or a push.

use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{json, Value};
use wiremock::http::Method;
use wiremock::{Request, Respond, ResponseTemplate};

use crate::signing::SigningKey;
use crate::{Clock, ResourceActions, TokenClaims};

use super::account::Account;
use super::request::{parse_scopes, Credentials, Parsed, TokenOutcome, TokenRequest};
use super::{INVALID_CREDENTIALS_MESSAGE, REDHAT_LOGIN_MESSAGE};

/// State shared by the responder and the [`super::TokenService`] handle.
pub(crate) struct EndpointState {
    pub issuer: String,
    pub lifetime: u64,
    pub clock: Clock,
    pub key: SigningKey,
    /// `None`: any `service` is a known client.
    pub services: Option<Vec<String>>,
    pub accounts: Mutex<Vec<Account>>,
    pub requests: Mutex<Vec<TokenRequest>>,
}

/// Locks `mutex`, carrying on after a panic elsewhere (the data stays consistent: every
/// critical section is a single push, retain or assignment).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Answers `GET /auth/realms/{realm}/protocol/redhat-docker-v2/auth`.
pub(crate) struct TokenResponder(pub Arc<EndpointState>);

impl Respond for TokenResponder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let parsed = Parsed::from_request(request);
        let (outcome, response) = self.answer(request, &parsed);
        lock(&self.0.requests).push(parsed.record(request.method.as_str(), outcome));
        response
    }
}

impl TokenResponder {
    fn answer(&self, request: &Request, parsed: &Parsed) -> (TokenOutcome, ResponseTemplate) {
        let state = &self.0;
        if request.method != Method::GET && request.method != Method::HEAD {
            return (
                TokenOutcome::MethodNotAllowed,
                json_response(
                    405,
                    &json!({"error": "invalid_request", "error_description": "HTTP method not allowed: the docker-v2 endpoint answers GET"}),
                )
                .insert_header("allow", "GET, HEAD"),
            );
        }
        // Keycloak checks the service (its client) before authenticating.
        let Some(service) = parsed.service.as_deref().filter(|s| !s.is_empty()) else {
            return bad_request("invalid_request", "service parameter must be provided");
        };
        if let Some(known) = &state.services {
            if !known.iter().any(|s| s == service) {
                return bad_request(
                    "invalid_client",
                    "Client specified by 'service' parameter does not exist",
                );
            }
        }
        let scopes = match parse_scopes(&parsed.scopes) {
            Ok(scopes) => scopes,
            Err(bad) => {
                return bad_request(
                    "invalid_scope",
                    &format!("invalid scope {bad:?}: expected TYPE:NAME:ACTION[,ACTION...]"),
                )
            }
        };
        let detail: Vec<Value> = scopes
            .iter()
            .map(|s| json!({"type": s.resource_type, "name": s.name, "actions": s.actions}))
            .collect();
        let (username, password) = match (&parsed.credentials, &parsed.password) {
            (Credentials::Basic { username }, Some(password)) => (username, password),
            (Credentials::None, _) => {
                return (
                    TokenOutcome::NoCredentials,
                    unauthorized(REDHAT_LOGIN_MESSAGE, detail),
                )
            }
            _ => {
                return (
                    TokenOutcome::InvalidCredentials,
                    unauthorized(INVALID_CREDENTIALS_MESSAGE, detail),
                )
            }
        };
        let account = lock(&state.accounts)
            .iter()
            .find(|a| a.username() == username && a.accepts(password))
            .cloned();
        let Some(account) = account else {
            return (
                TokenOutcome::InvalidCredentials,
                unauthorized(INVALID_CREDENTIALS_MESSAGE, detail),
            );
        };
        self.issue(&account, service, &scopes)
    }

    fn issue(
        &self,
        account: &Account,
        service: &str,
        scopes: &[ResourceActions],
    ) -> (TokenOutcome, ResponseTemplate) {
        let state = &self.0;
        let access = granted_access(account, scopes);
        let iat = state.clock.now_unix();
        let claims = TokenClaims {
            jti: uuid::Uuid::new_v4().to_string(),
            exp: iat.saturating_add(i64::try_from(state.lifetime).unwrap_or(i64::MAX)),
            nbf: iat,
            iat,
            iss: state.issuer.clone(),
            aud: service.to_string(),
            sub: account.username().to_string(),
            typ: "Bearer".into(),
            // Keycloak (and the seed 003 sample: client_id=curl, azp docker-registry): the
            // authorised party is the registry client named by `service`, not `client_id`.
            azp: service.to_string(),
            access: access.clone(),
        };
        let token = match state.key.sign(&claims) {
            Ok(token) => token,
            Err(e) => {
                return (
                    TokenOutcome::ServerError,
                    json_response(
                        500,
                        &json!({"error": "token_error", "error_description": e.to_string()}),
                    ),
                )
            }
        };
        let body = json!({
            "token": token,
            "access_token": token,
            "expires_in": state.lifetime,
            "issued_at": issued_at(iat),
        });
        (
            TokenOutcome::Issued {
                jti: claims.jti,
                access,
            },
            json_response(200, &body),
        )
    }
}

/// Every requested repository scope the account is entitled to, narrowed to `pull`
/// (accounts are pull-only); other scopes are left out.
fn granted_access(account: &Account, scopes: &[ResourceActions]) -> Vec<ResourceActions> {
    let mut granted: Vec<ResourceActions> = Vec::new();
    for scope in scopes {
        let wants_pull = scope.actions.iter().any(|a| a == "pull" || a == "*");
        if scope.resource_type == "repository"
            && wants_pull
            && account.is_entitled(&scope.name)
            && !granted.iter().any(|g| g.name == scope.name)
        {
            granted.push(ResourceActions::pull(scope.name.clone()));
        }
    }
    granted
}

/// `2018-08-13T21:28:03Z`: Keycloak's `yyyy-MM-dd'T'HH:mm:ss'Z'` of `iat`, in UTC.
fn issued_at(iat: i64) -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    time::OffsetDateTime::from_unix_timestamp(iat)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_default()
}

fn bad_request(error: &str, description: &str) -> (TokenOutcome, ResponseTemplate) {
    (
        TokenOutcome::BadRequest {
            error: error.to_string(),
        },
        json_response(
            400,
            &json!({"error": error, "error_description": description}),
        ),
    )
}

/// Keycloak's `DockerErrorResponseToken`; compact JSON, no `WWW-Authenticate` (Keycloak's
/// docker authenticator sends none).
fn unauthorized(message: &str, detail: Vec<Value>) -> ResponseTemplate {
    json_response(
        401,
        &json!({"errors": [{"code": "UNAUTHORIZED", "message": message, "detail": detail}]}),
    )
}

fn json_response(status: u16, body: &Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(body.to_string().into_bytes(), "application/json")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_at_is_keycloaks_format_in_utc() {
        assert_eq!(issued_at(1_534_195_683), "2018-08-13T21:28:03Z");
        assert_eq!(issued_at(0), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn access_is_pull_only_entitled_repositories_once() {
        let account = Account::person("p", "x").entitled_to(["rhel8/*", "ubi9"]);
        let scopes: Vec<ResourceActions> = [
            "repository:rhel8/pcp:pull,push",
            "repository:ubi9:push",
            "repository:ubi9:*",
            "repository:rhel8/pcp:pull",
            "repository:other:pull",
            "registry:catalog:*",
        ]
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
        assert_eq!(
            granted_access(&account, &scopes),
            vec![
                ResourceActions::pull("rhel8/pcp"),
                ResourceActions::pull("ubi9")
            ]
        );
    }
}
