//! Seed 003's token test: `curl -u USER:PASS "https://sso.redhat.com/auth/realms/rhcc/
//! protocol/redhat-docker-v2/auth?service=docker-registry&client_id=curl&scope=repository:rhel:pull"`.

use crate::client::http::Auth;
use crate::diagnosis::Diagnosis;
use crate::scenario::model::TokenSpec;

use super::{FlowContext, FlowFailure, StepResult};

/// Runs a `token` step.
pub async fn run(ctx: &FlowContext<'_>, spec: &TokenSpec) -> StepResult {
    let mut http = match ctx.session(crate::client::proxy_env::ProxyConvention::Curl) {
        Ok(h) => h,
        Err(f) => return f.into_result(Default::default()),
    };
    let auth = match &spec.credentials {
        Some(c) => match ctx.resolve_credentials(c) {
            Ok((username, password)) => Auth::Basic { username, password },
            Err(e) => {
                return StepResult::failed(
                    Diagnosis::new(
                        crate::diagnosis::DiagnosisClass::UnexpectedResponse,
                        e.clone(),
                    ),
                    e,
                )
            }
        },
        None => Auth::None,
    };
    let url = match token_url(ctx, spec) {
        Ok(u) => u,
        Err(f) => return f.into_result(Default::default()),
    };
    let response = match http.get(&url, &auth, &[]).await {
        Ok(r) => r,
        Err(e) => return FlowFailure::from(e).into_result(http.into_transcript()),
    };
    let credentials_sent = auth != Auth::None;
    let registry_error = response.registry_error();
    token_result(
        ctx,
        response.status,
        response.json(),
        registry_error,
        credentials_sent,
    )
    .with_transcript(http.into_transcript())
}

/// Seed 003's token URL for `spec`: `https://SSO/auth/realms/rhcc/protocol/redhat-docker-v2/auth?service=docker-registry&client_id=curl&scope=repository:rhel:pull`
/// (`:` kept readable, as typed on curl's command line).
pub fn token_url(ctx: &FlowContext<'_>, spec: &TokenSpec) -> Result<String, FlowFailure> {
    let scopes = spec
        .scope
        .clone()
        .unwrap_or_else(|| vec!["repository:rhel:pull".to_string()]);
    let mut url = url::Url::parse(&format!(
        "https://{}{}",
        ctx.world.sso_host(),
        ctx.world.sso().token_path()
    ))
    .map_err(|e| {
        FlowFailure::new(
            crate::diagnosis::DiagnosisClass::UnexpectedResponse,
            e.to_string(),
            format!("bad SSO URL: {e}"),
        )
    })?;
    {
        let mut q = url.query_pairs_mut();
        q.append_pair(
            "service",
            spec.service.as_deref().unwrap_or("docker-registry"),
        );
        q.append_pair("client_id", spec.client_id.as_deref().unwrap_or("curl"));
        for s in &scopes {
            q.append_pair("scope", s);
        }
    }
    // curl sends the query as typed; keep `:` readable like seed 003's command.
    Ok(url.as_str().replace("%3A", ":"))
}

/// Seed 003's rule applied to the token endpoint's answer (whoever fetched it):
/// 200 with a token is ok (its claims decoded, the token kept for `ping` steps and
/// redacted), 401 is wrong or missing credentials, anything else the network.
/// `registry_error`: the body's first `errors[]` code and message.
pub fn token_result(
    ctx: &FlowContext<'_>,
    status: u16,
    body: Option<serde_json::Value>,
    registry_error: Option<(String, String)>,
    credentials_sent: bool,
) -> StepResult {
    let diagnosis = Diagnosis::token_endpoint(status, credentials_sent);
    if status == 200 {
        let token = body
            .as_ref()
            .and_then(|b| b.get("access_token").or_else(|| b.get("token")))
            .and_then(|t| t.as_str())
            .map(str::to_string);
        let Some(token) = token else {
            return FlowFailure::new(
                crate::diagnosis::DiagnosisClass::UnexpectedResponse,
                "HTTP 200 without a token",
                "the token endpoint answered 200 but the body has no access_token",
            )
            .into_result(Default::default())
            .with_status(Some(200));
        };
        ctx.world.secrets().add(token.clone());
        let claims = regharness_mocks::token::decode_unverified(&token)
            .ok()
            .and_then(|c| serde_json::to_value(c).ok());
        let mut result = StepResult::ok("HTTP 200: the credentials are good")
            .with_status(Some(200))
            .with_body(body);
        result.claims = claims;
        result.access_token = Some(token);
        return result;
    }
    let message = format!(
        "HTTP {}: {}",
        status,
        registry_error
            .map(|(code, msg)| format!("{code}: {msg}"))
            .unwrap_or_else(|| diagnosis.detail.clone())
    );
    StepResult::failed(diagnosis, message)
        .with_status(Some(status))
        .with_body(body)
}
