//! Seed 003's registry test: `curl -H "Authorization: Bearer $ACCESS_TOKEN" https://registry.redhat.io/v2/`.

use crate::client::challenge::Challenge;
use crate::client::http::Auth;
use crate::diagnosis::{Diagnosis, DiagnosisClass};
use crate::scenario::model::{BearerSource, PingSpec};

use super::{FlowContext, FlowFailure, StepResult};

/// Runs a `ping` step.
pub async fn run(ctx: &FlowContext<'_>, spec: &PingSpec) -> StepResult {
    let mut http = match ctx.session(crate::client::proxy_env::ProxyConvention::Curl) {
        Ok(h) => h,
        Err(f) => return f.into_result(Default::default()),
    };
    let auth = match spec.bearer {
        BearerSource::None => Auth::None,
        BearerSource::LastToken => match &ctx.last_token {
            Some(t) => Auth::Bearer(t.clone()),
            None => {
                let msg = "no earlier `token` step obtained a token to send";
                return StepResult::failed(
                    Diagnosis::new(DiagnosisClass::AuthenticationRequired, msg),
                    msg,
                );
            }
        },
    };
    let path = spec.path.as_deref().unwrap_or("/v2/");
    let url = format!("https://{}{}", spec.registry, path);
    let response = match http.get(&url, &auth, &[]).await {
        Ok(r) => r,
        Err(e) => return FlowFailure::from(e).into_result(http.into_transcript()),
    };
    let challenge_error = response
        .header("www-authenticate")
        .and_then(Challenge::parse)
        .and_then(|c| c.param("error").map(str::to_string));
    ping_result(
        response.status,
        auth != Auth::None,
        challenge_error,
        response.registry_error(),
        response.json(),
    )
    .with_transcript(http.into_transcript())
}

/// The diagnosis of a registry's answer to a ping (whoever sent it): 2xx ok, 401 with a
/// token sent = the token was rejected (`challenge_error`: the challenge's `error`
/// parameter), 401 without = authentication required, 404 not found, else network.
/// `registry_error`: the body's first `errors[]` code and message.
pub fn ping_result(
    status: u16,
    bearer_sent: bool,
    challenge_error: Option<String>,
    error_code: Option<(String, String)>,
    body: Option<serde_json::Value>,
) -> StepResult {
    let (diagnosis, message) = match status {
        200..=299 => (
            Diagnosis::ok(),
            format!("HTTP {status}: the registry accepted the request"),
        ),
        401 if bearer_sent => {
            let why = challenge_error.unwrap_or_else(|| "unauthorized".into());
            (
                Diagnosis::new(
                    DiagnosisClass::TokenRejectedByRegistry,
                    format!("the registry answered 401 ({why}) to the bearer token"),
                ),
                format!("HTTP 401: the registry rejected the token ({why})"),
            )
        }
        401 => (
            Diagnosis::new(
                DiagnosisClass::AuthenticationRequired,
                "the registry answered 401 with a challenge: a token is needed",
            ),
            format!(
                "HTTP 401: {}",
                error_code
                    .map(|(c, m)| format!("{c}: {m}"))
                    .unwrap_or_default()
            ),
        ),
        404 => (
            Diagnosis::new(DiagnosisClass::NotFound, "the registry answered 404"),
            format!(
                "HTTP 404: {}",
                error_code
                    .map(|(c, m)| format!("{c}: {m}"))
                    .unwrap_or_default()
            ),
        ),
        other => (
            Diagnosis::new(
                DiagnosisClass::Network,
                format!("the registry answered HTTP {other}"),
            ),
            format!("HTTP {other}"),
        ),
    };
    let result = if diagnosis.class == DiagnosisClass::Ok {
        StepResult::ok(message)
    } else {
        StepResult::failed(diagnosis, message)
    };
    result.with_status(Some(status)).with_body(body)
}
