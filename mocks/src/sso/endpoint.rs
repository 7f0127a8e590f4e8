//! The docker-v2 token endpoint as a wiremock responder.

use std::sync::{Arc, Mutex};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Value};
use wiremock::{Request, Respond, ResponseTemplate};

use crate::signing::SigningKey;
use crate::{Clock, ResourceActions, TokenClaims};

use super::account::Account;
use super::REDHAT_LOGIN_MESSAGE;

/// State shared by the responder and the [`super::TokenService`] handle.
pub(crate) struct EndpointState {
    pub issuer: String,
    pub lifetime: u64,
    pub clock: Clock,
    pub key: SigningKey,
    pub accounts: Mutex<Vec<Account>>,
}

/// Answers `GET /auth/realms/{realm}/protocol/redhat-docker-v2/auth`.
pub(crate) struct TokenResponder(pub Arc<EndpointState>);

impl Respond for TokenResponder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        if request.method != wiremock::http::Method::GET {
            return json_response(
                405,
                &json!({"error": "invalid_request", "error_description": "the docker-v2 token endpoint answers GET only"}),
            );
        }
        let mut service = None;
        let mut client_id = None;
        let mut scopes: Vec<ResourceActions> = Vec::new();
        let mut bad_scopes = Vec::new();
        for (k, v) in request.url.query_pairs() {
            match k.as_ref() {
                "service" => service = Some(v.into_owned()),
                "client_id" => client_id = Some(v.into_owned()),
                "scope" => {
                    // A scope parameter may hold several space-separated scopes.
                    for s in v.split(' ').filter(|s| !s.is_empty()) {
                        match s.parse() {
                            Ok(scope) => scopes.push(scope),
                            Err(_) => bad_scopes.push(s.to_string()),
                        }
                    }
                }
                _ => {}
            }
        }
        let Some(service) = service.filter(|s| !s.is_empty()) else {
            return json_response(
                400,
                &json!({"error": "invalid_request", "error_description": "missing required parameter: service"}),
            );
        };
        if !bad_scopes.is_empty() {
            return json_response(
                400,
                &json!({"error": "invalid_scope", "error_description": format!("invalid scope: {}", bad_scopes.join(" "))}),
            );
        }
        let detail: Vec<Value> = scopes
            .iter()
            .map(|s| json!({"type": s.resource_type, "name": s.name, "actions": s.actions}))
            .collect();
        let Some((username, password)) = basic_credentials(request) else {
            return unauthorized(REDHAT_LOGIN_MESSAGE, detail);
        };
        let account = {
            let accounts = match self.0.accounts.lock() {
                Ok(a) => a,
                Err(poisoned) => poisoned.into_inner(),
            };
            accounts
                .iter()
                .find(|a| a.username() == username && a.secret() == password)
                .cloned()
        };
        let Some(account) = account else {
            return unauthorized("Invalid username or password", detail);
        };
        let access: Vec<ResourceActions> = scopes
            .iter()
            .filter(|s| s.resource_type == "repository" && account.is_entitled(&s.name))
            .filter(|s| s.actions.iter().any(|a| a == "pull" || a == "*"))
            .map(|s| ResourceActions::pull(s.name.clone()))
            .collect();
        let iat = self.0.clock.now_unix();
        let claims = TokenClaims {
            jti: uuid::Uuid::new_v4().to_string(),
            exp: iat + self.0.lifetime as i64,
            nbf: iat,
            iat,
            iss: self.0.issuer.clone(),
            aud: service,
            sub: account.username().to_string(),
            typ: "Bearer".into(),
            azp: client_id.unwrap_or_else(|| "docker-registry".into()),
            access,
        };
        let token = match self.0.key.sign(&claims) {
            Ok(t) => t,
            Err(e) => {
                return json_response(
                    500,
                    &json!({"error": "server_error", "error_description": e.to_string()}),
                )
            }
        };
        let issued_at = time::OffsetDateTime::from_unix_timestamp(iat)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_default();
        json_response(
            200,
            &json!({
                "token": token,
                "access_token": token,
                "expires_in": self.0.lifetime,
                "issued_at": issued_at,
            }),
        )
    }
}

/// HTTP Basic credentials of a request; the username may contain `|`, the password `:`.
fn basic_credentials(request: &Request) -> Option<(String, String)> {
    let value = request.headers.get("authorization")?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(encoded.trim()).ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (user, pass) = decoded.split_once(':')?;
    Some((user.to_string(), pass.to_string()))
}

fn unauthorized(message: &str, detail: Vec<Value>) -> ResponseTemplate {
    json_response(
        401,
        &json!({"errors": [{"code": "UNAUTHORIZED", "message": message, "detail": detail}]}),
    )
}

fn json_response(status: u16, body: &Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(body.to_string().into_bytes(), "application/json")
}
