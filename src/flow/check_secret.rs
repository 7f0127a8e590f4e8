//! `check-pull-secret`: `regharness check pull-secret` as a scenario step, on a secret
//! of the world's cluster, an auth file a step wrote, or literal text.

use crate::client::auth_file;
use crate::cluster::{check, printer};
use crate::diagnosis::{Diagnosis, DiagnosisClass};
use crate::scenario::model::CheckPullSecretSpec;

use super::{FlowContext, StepResult};

/// Runs a `check-pull-secret` step: ok without findings, failed with
/// `pull-secret-invalid` and the finding codes otherwise.
pub fn run(ctx: &FlowContext<'_>, spec: &CheckPullSecretSpec) -> StepResult {
    let invalid = |message: String| {
        StepResult::failed(
            Diagnosis::new(DiagnosisClass::PullSecretInvalid, message.clone()),
            message,
        )
    };
    let (name, text) = match (&spec.secret, &spec.auth_file, &spec.content) {
        (Some(secret), None, None) => {
            let found = ctx
                .world
                .cluster()
                .with_namespace(&spec.namespace, |ns| ns.secrets.get(secret).cloned());
            let Some(found) = found else {
                return StepResult::failed(
                    Diagnosis::new(
                        DiagnosisClass::ClusterObjectInvalid,
                        format!("secrets {secret:?} not found"),
                    ),
                    format!("Error from server (NotFound): secrets \"{secret}\" not found"),
                );
            };
            match printer::to_kubectl_yaml(&found) {
                Ok(yaml) => (format!("secret/{secret}"), yaml),
                Err(e) => return invalid(format!("secret/{secret}: {e}")),
            }
        }
        (None, Some(kind), None) => match std::fs::read_to_string(ctx.sandbox.path_of(*kind)) {
            Ok(text) => (auth_file::display_path(*kind).to_string(), text),
            Err(e) => return invalid(format!("{}: {e}", auth_file::display_path(*kind))),
        },
        (None, None, Some(text)) => ("content".to_string(), text.clone()),
        _ => {
            return StepResult::failed(
                Diagnosis::new(
                    DiagnosisClass::ClusterObjectInvalid,
                    "check-pull-secret needs exactly one of `secret`, `auth_file`, `content`",
                ),
                "check-pull-secret needs exactly one of `secret`, `auth_file`, `content`",
            )
        }
    };
    let report = match check::check_pull_secret(&name, &text, &spec.images) {
        Ok(r) => r,
        Err(e) => {
            let mut r = invalid(e.to_string());
            r.findings = Some(Vec::new());
            return r;
        }
    };
    let codes: Vec<String> = report
        .findings
        .iter()
        .map(|f| {
            serde_json::to_value(f.code)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        })
        .collect();
    let lines: Vec<String> = report
        .findings
        .iter()
        .map(|f| format!("{}: {}", f.path, f.message))
        .collect();
    let mut result = if report.findings.is_empty() {
        StepResult::ok(format!("{name}: no findings"))
    } else {
        invalid(format!(
            "{name}: {} finding(s): {}",
            report.findings.len(),
            lines.join("; ")
        ))
    };
    result.body = serde_json::to_value(&report).ok();
    result.findings = Some(codes);
    result
}
