//! The real curl, running seed 003's commands:
//!
//! - token: `curl -u "$USER:$PASS" "https://sso.redhat.com/auth/realms/rhcc/protocol/redhat-docker-v2/auth?service=docker-registry&client_id=curl&scope=repository:rhel:pull"`
//! - ping: `curl -H "Authorization: Bearer $ACCESS_TOKEN" https://registry.redhat.io/v2/`
//!
//! with `-sS --max-time T --cacert CA -o BODY -D HEADERS -w '%{http_code}'` added so
//! that the status, headers and body can be read back, through the exposure's proxy
//! (`https_proxy`). The answer is then judged by the same rules as the builtin client's
//! ([`crate::flow::token::token_result`], [`crate::flow::ping::ping_result`]).

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use crate::client::challenge::Challenge;
use crate::diagnosis::{Diagnosis, DiagnosisClass};
use crate::scenario::model::{BearerSource, PingSpec, TokenSpec};
use crate::world::exposure::WorldExposure;

use super::{first_line, scratch, FlowContext, Program, StepResult};

/// What a curl run answered.
struct CurlAnswer {
    status: u16,
    headers: String,
    body: String,
}

/// Runs a `token` step with curl.
pub async fn token(
    ctx: &FlowContext<'_>,
    curl: &Program,
    exposure: &WorldExposure,
    spec: &TokenSpec,
    timeout: Duration,
) -> StepResult {
    let url = match crate::flow::token::token_url(ctx, spec) {
        Ok(u) => u,
        Err(f) => return f.into_result(Default::default()),
    };
    let mut tail = Vec::new();
    let mut credentials_sent = false;
    if let Some(c) = &spec.credentials {
        match ctx.resolve_credentials(c) {
            Ok((user, pass)) => {
                ctx.world.secrets().add(pass.clone());
                tail.push("-u".to_string());
                tail.push(format!("{user}:{pass}"));
                credentials_sent = true;
            }
            Err(e) => {
                return StepResult::failed(
                    Diagnosis::new(DiagnosisClass::UnexpectedResponse, e.clone()),
                    e,
                )
            }
        }
    }
    tail.push(url);
    let answer = match fetch(ctx, curl, exposure, tail, timeout).await {
        Ok(a) => a,
        Err(failed) => return *failed,
    };
    let body: Option<Value> = serde_json::from_str(&answer.body).ok();
    let registry_error = registry_error(body.as_ref());
    crate::flow::token::token_result(ctx, answer.status, body, registry_error, credentials_sent)
}

/// Runs a `ping` step with curl.
pub async fn ping(
    ctx: &FlowContext<'_>,
    curl: &Program,
    exposure: &WorldExposure,
    spec: &PingSpec,
    timeout: Duration,
) -> StepResult {
    let mut tail = Vec::new();
    let bearer_sent = match spec.bearer {
        BearerSource::None => false,
        BearerSource::LastToken => match &ctx.last_token {
            Some(t) => {
                tail.push("-H".to_string());
                tail.push(format!("Authorization: Bearer {t}"));
                true
            }
            None => {
                let msg = "no earlier `token` step obtained a token to send";
                return StepResult::failed(
                    Diagnosis::new(DiagnosisClass::AuthenticationRequired, msg),
                    msg,
                );
            }
        },
    };
    tail.push(format!(
        "https://{}{}",
        spec.registry,
        spec.path.as_deref().unwrap_or("/v2/")
    ));
    let answer = match fetch(ctx, curl, exposure, tail, timeout).await {
        Ok(a) => a,
        Err(failed) => return *failed,
    };
    let body: Option<Value> = serde_json::from_str(&answer.body).ok();
    let challenge_error = answer
        .headers
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("www-authenticate"))
        .and_then(|(_, value)| Challenge::parse(value.trim()))
        .and_then(|c| c.param("error").map(str::to_string));
    let registry_error = registry_error(body.as_ref());
    crate::flow::ping::ping_result(
        answer.status,
        bearer_sent,
        challenge_error,
        registry_error,
        body,
    )
}

/// `curl -sS --max-time T --cacert CA -o BODY -D HEADERS -w '%{http_code}' TAIL...`.
async fn fetch(
    ctx: &FlowContext<'_>,
    curl: &Program,
    exposure: &WorldExposure,
    tail: Vec<String>,
    timeout: Duration,
) -> Result<CurlAnswer, Box<StepResult>> {
    let root = ctx.sandbox.root();
    let dir = scratch(root, "curl").map_err(|e| Box::new(local_failure(e.to_string())))?;
    let body_file = dir.join("body");
    let header_file = dir.join("headers");
    let mut args: Vec<String> = vec![
        "-sS".into(),
        "--max-time".into(),
        timeout.as_secs().max(1).to_string(),
        "--cacert".into(),
        exposure.ca_file().display().to_string(),
        "-o".into(),
        body_file.display().to_string(),
        "-D".into(),
        header_file.display().to_string(),
        "-w".into(),
        "%{http_code}".into(),
    ];
    args.extend(tail);
    let env = environment(root, exposure);
    // curl's own --max-time bounds it; the kill is the backstop.
    let run = curl
        .run(args, env, &dir, timeout + Duration::from_secs(5))
        .await;
    let body = std::fs::read_to_string(&body_file).unwrap_or_default();
    let headers = std::fs::read_to_string(&header_file).unwrap_or_default();
    let _ = std::fs::remove_dir_all(&dir);
    if run.exit_code != Some(0) {
        let stderr = ctx.world.secrets().redact(&run.stderr);
        let (class, detail) = classify_exit(run.exit_code, run.timed_out, &stderr);
        return Err(Box::new(StepResult::failed(
            Diagnosis::new(class, detail),
            first_line(&stderr).to_string(),
        )));
    }
    let status = run.stdout.trim().parse::<u16>().map_err(|_| {
        Box::new(local_failure(format!(
            "curl printed {:?} instead of an HTTP status",
            run.stdout
        )))
    })?;
    Ok(CurlAnswer {
        status,
        headers,
        body,
    })
}

/// curl's environment: the sandbox's `HOME` (no `~/.curlrc`, no `~/.netrc`) and the
/// exposure's proxy variables.
fn environment(root: &Path, exposure: &WorldExposure) -> Vec<(String, String)> {
    let mut env = vec![
        (
            "PATH".to_string(),
            std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".into()),
        ),
        ("HOME".to_string(), root.join("home").display().to_string()),
    ];
    env.extend(
        exposure
            .go_env()
            .into_iter()
            .filter(|(name, _)| name != "SSL_CERT_FILE"),
    );
    env
}

/// A curl that got no HTTP answer. The exposure's proxy stands between curl and the
/// world, so what the world's network does shows as the proxy's answer to `CONNECT`
/// (`curl: (56) CONNECT tunnel failed, response 503`).
fn classify_exit(exit: Option<i32>, timed_out: bool, stderr: &str) -> (DiagnosisClass, String) {
    let line = first_line(stderr).to_string();
    if timed_out || exit == Some(28) {
        return (
            DiagnosisClass::Network,
            format!("no answer before the timeout: {line}"),
        );
    }
    if exit == Some(60) {
        return (DiagnosisClass::TlsUnknownAuthority, line);
    }
    if line.contains("CONNECT tunnel failed, response 403") {
        return (DiagnosisClass::ProxyDeniedHost, line);
    }
    if line.contains("CONNECT tunnel failed, response 407") {
        return (DiagnosisClass::ProxyAuthRequired, line);
    }
    if line.contains("CONNECT tunnel failed") {
        return (DiagnosisClass::ProxyTunnelFailed, line);
    }
    (DiagnosisClass::Network, line)
}

/// The first `errors[]` code and message of a registry-style JSON body.
fn registry_error(body: Option<&Value>) -> Option<(String, String)> {
    let first = body?.get("errors")?.get(0)?;
    Some((
        first.get("code")?.as_str()?.to_string(),
        first
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
    ))
}

fn local_failure(why: String) -> StepResult {
    StepResult::failed(
        Diagnosis::new(DiagnosisClass::UnexpectedResponse, why.clone()),
        why,
    )
}
