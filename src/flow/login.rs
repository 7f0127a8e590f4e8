//! `podman login REGISTRY` / `docker login https://REGISTRY`: verify the credentials the
//! way the tool does, then write its credential file.

use crate::client::auth_file::{self, display_path};
use crate::client::http::Auth;
use crate::diagnosis::{Diagnosis, DiagnosisClass};
use crate::scenario::model::{AuthFileKind, LoginSpec};

use super::registry_auth::{self, Credentials, PingResult};
use super::{FlowContext, FlowFailure, GeneratedFile, StepResult};

/// Runs a `login` step.
pub async fn run(ctx: &FlowContext<'_>, spec: &LoginSpec) -> StepResult {
    let (username, password) = match ctx.resolve_credentials(&spec.credentials) {
        Ok(c) => c,
        Err(e) => {
            return StepResult::failed(
                Diagnosis::new(DiagnosisClass::UnexpectedResponse, e.clone()),
                e,
            )
        }
    };
    let mut http = match ctx.session(crate::client::proxy_env::ProxyConvention::Go) {
        Ok(h) => h,
        Err(f) => return f.into_result(Default::default()),
    };
    let credentials = Credentials { username, password };
    let verified = async {
        match registry_auth::ping(&mut http, &spec.registry).await? {
            PingResult::Open => Ok(()),
            PingResult::Bearer(challenge) => {
                registry_auth::fetch_token(&mut http, &challenge, None, Some(&credentials))
                    .await
                    .map(|_| ())
            }
            PingResult::Basic => {
                let auth = Auth::Basic {
                    username: credentials.username.clone(),
                    password: credentials.password.clone(),
                };
                let r = http
                    .get(&format!("https://{}/v2/", spec.registry), &auth, &[])
                    .await?;
                if r.status == 200 {
                    Ok(())
                } else {
                    Err(FlowFailure {
                        status: Some(r.status),
                        body: r.json().map(Box::new),
                        ..FlowFailure::new(
                            DiagnosisClass::CredentialsRejected,
                            format!("the registry answered {} to HTTP Basic", r.status),
                            "invalid username/password",
                        )
                    })
                }
            }
        }
    }
    .await;
    if let Err(failure) = verified {
        let mut failure = failure;
        failure.message = format!(
            "error logging into {:?}: {}",
            spec.registry, failure.message
        );
        return failure.into_result(http.into_transcript());
    }

    let key = spec.server.clone().unwrap_or_else(|| match spec.tool {
        AuthFileKind::Podman => spec.registry.clone(),
        AuthFileKind::Docker | AuthFileKind::Dockercfg => format!("https://{}", spec.registry),
    });
    match auth_file::write_login(
        ctx.sandbox,
        spec.tool,
        &key,
        &credentials.username,
        &credentials.password,
    ) {
        Ok(text) => {
            let mut result = StepResult::ok("Login Succeeded!")
                .with_status(http.transcript().last_status())
                .with_transcript(http.into_transcript());
            result.files.push(GeneratedFile {
                path: display_path(spec.tool).to_string(),
                content: text,
            });
            result
        }
        Err(e) => StepResult::failed(
            Diagnosis::new(DiagnosisClass::AuthFileInvalid, e.to_string()),
            format!("writing {}: {e}", display_path(spec.tool)),
        )
        .with_transcript(http.into_transcript()),
    }
}
