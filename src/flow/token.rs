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
    let scopes = spec
        .scope
        .clone()
        .unwrap_or_else(|| vec!["repository:rhel:pull".to_string()]);
    let mut url = match url::Url::parse(&format!(
        "https://{}{}",
        ctx.world.sso_host(),
        ctx.world.sso().token_path()
    )) {
        Ok(u) => u,
        Err(e) => {
            return FlowFailure::new(
                crate::diagnosis::DiagnosisClass::UnexpectedResponse,
                e.to_string(),
                format!("bad SSO URL: {e}"),
            )
            .into_result(Default::default())
        }
    };
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
    let url = url.as_str().replace("%3A", ":");
    let response = match http.get(&url, &auth, &[]).await {
        Ok(r) => r,
        Err(e) => return FlowFailure::from(e).into_result(http.into_transcript()),
    };
    let credentials_sent = auth != Auth::None;
    let diagnosis = Diagnosis::token_endpoint(response.status, credentials_sent);
    let body = response.json();
    if response.status == 200 {
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
            .into_result(http.into_transcript());
        };
        ctx.world.secrets().add(token.clone());
        let claims = regharness_mocks::token::decode_unverified(&token)
            .ok()
            .and_then(|c| serde_json::to_value(c).ok());
        let mut result = StepResult::ok("HTTP 200: the credentials are good")
            .with_status(Some(200))
            .with_body(body)
            .with_transcript(http.into_transcript());
        result.claims = claims;
        result.access_token = Some(token);
        return result;
    }
    let message = format!(
        "HTTP {}: {}",
        response.status,
        response
            .registry_error()
            .map(|(code, msg)| format!("{code}: {msg}"))
            .unwrap_or_else(|| diagnosis.detail.clone())
    );
    StepResult::failed(diagnosis, message)
        .with_status(Some(response.status))
        .with_body(body)
        .with_transcript(http.into_transcript())
}
