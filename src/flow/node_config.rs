//! `check-image-config` and `render-node-config`: `regharness check image-config` and
//! `regharness render node-config` as scenario steps, on the world's cluster image
//! configuration.

use serde_json::json;

use crate::diagnosis::{Diagnosis, DiagnosisClass};
use crate::node_config::render::{self, NodeFiles};
use crate::node_config::validate::{self, Severity};
use crate::scenario::model::{CheckImageConfigSpec, RenderNodeConfigSpec};
use crate::world::node::NodeState;

use super::{FlowContext, GeneratedFile, StepResult};

fn no_image_config() -> StepResult {
    let message = "the world's cluster has no image_config".to_string();
    StepResult::failed(
        Diagnosis::new(DiagnosisClass::ImageConfigInvalid, message.clone()),
        message,
    )
}

/// Runs `check-image-config`: ok when there are no errors (no findings at all when
/// `strict`), failed with `image-config-invalid` otherwise; every finding's code is
/// reported either way.
pub fn check(ctx: &FlowContext<'_>, spec: &CheckImageConfigSpec) -> StepResult {
    let Some(node) = ctx.world.node() else {
        return no_image_config();
    };
    let report = validate::check(&node.image_config, &node.icsps, node.ca_configmap.as_ref());
    let errors = report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let warnings = report.findings.len() - errors;
    let lines: Vec<String> = report
        .findings
        .iter()
        .map(|f| {
            let severity = match f.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            format!("{severity} {} at {}", f.code, f.path)
        })
        .collect();
    let summary = format!(
        "image.config.openshift.io/cluster: {errors} error(s), {warnings} warning(s){}",
        if lines.is_empty() {
            String::new()
        } else {
            format!(": {}", lines.join("; "))
        }
    );
    let mut result = if report.exit_code(spec.strict) == 0 {
        StepResult::ok(summary)
    } else {
        let detail: Vec<String> = report
            .findings
            .iter()
            .filter(|f| spec.strict || f.severity == Severity::Error)
            .map(|f| format!("{}: {}", f.path, f.message))
            .collect();
        StepResult::failed(
            Diagnosis::new(DiagnosisClass::ImageConfigInvalid, detail.join("; ")),
            summary,
        )
    };
    result.body = serde_json::to_value(&report).ok();
    result.findings = Some(report.findings.iter().map(|f| f.code.to_string()).collect());
    result
}

/// Runs `render-node-config`: the node files (for `expect.snapshot`, at their node
/// paths) and, in the message, what each change from a default node needs.
pub fn render_files(ctx: &FlowContext<'_>, _spec: &RenderNodeConfigSpec) -> StepResult {
    let Some(node) = ctx.world.node() else {
        return no_image_config();
    };
    rendered_result(node)
}

fn rendered_result(node: &NodeState) -> StepResult {
    let files = match &node.rendered {
        Ok(r) => &r.files,
        Err(reason) => {
            return StepResult::failed(
                Diagnosis::new(DiagnosisClass::ImageConfigInvalid, reason.clone()),
                reason.clone(),
            )
        }
    };
    let changes = render::node_actions(&NodeFiles::defaults(), files);
    let actions: Vec<String> = changes
        .iter()
        .map(|c| {
            format!(
                "/{} {}: {}",
                c.path,
                change_word(&c.change),
                c.action.describe()
            )
        })
        .collect();
    let count = files.iter().count();
    let mut result = StepResult::ok(format!(
        "rendered {count} node file(s); against a default node: {}",
        if actions.is_empty() {
            "no change".to_string()
        } else {
            actions.join("; ")
        }
    ));
    for (path, content) in files.iter() {
        let content = if path.ends_with(".crt") {
            describe_certificates(content)
        } else {
            content.to_string()
        };
        result.files.push(GeneratedFile {
            path: format!("/{path}"),
            content,
        });
    }
    result.body = Some(json!({
        "files": files.iter().map(|(p, _)| format!("/{p}")).collect::<Vec<_>>(),
        "node_actions": changes,
    }));
    result
}

fn change_word(change: &impl serde::Serialize) -> String {
    serde_json::to_value(change)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// A CA file for a snapshot: the subject of each certificate (the PEM of a CA the world
/// generates differs on every run).
fn describe_certificates(pem: &str) -> String {
    let mut out = String::new();
    for block in x509_parser::pem::Pem::iter_from_buffer(pem.as_bytes()) {
        match block {
            Ok(block) => match block.parse_x509() {
                Ok(cert) => out.push_str(&format!(
                    "PEM certificate: subject \"{}\", CA: {}\n",
                    cert.subject(),
                    cert.is_ca()
                )),
                Err(e) => out.push_str(&format!(
                    "PEM block {:?}: not a certificate ({e})\n",
                    block.label
                )),
            },
            Err(e) => {
                out.push_str(&format!("not PEM: {e}\n"));
                break;
            }
        }
    }
    if out.is_empty() {
        out.push_str("no PEM block\n");
    }
    out
}
