//! Pulls on a cluster node: the rendered `registries.conf` and `policy.json` decide, the
//! way containers/image applies them (SPEC.md §6).
//!
//! For one fully qualified reference: the most specific `[[registry]]` entry is found;
//! a blocked one refuses before any traffic; otherwise its pull sources are tried in
//! order (digest-only mirrors first for digest references, then the primary location),
//! each over HTTPS, or plain HTTP when the source is insecure and HTTPS fails. The
//! signature policy is evaluated against the reference the user gave, after the first
//! working source served its manifest (containers/image's `newImageSource` loads it),
//! and a `reject` stops the copy there. A short name is first resolved through the
//! aliases and `unqualified-search-registries`, each candidate tried in turn.

use serde_json::{json, Value};

use crate::client::http::HttpSession;
use crate::client::reference::ImageReference;
use crate::diagnosis::{Diagnosis, DiagnosisClass};
use crate::node_config::enforce::{NameResolution, PolicyDecision, ResolveError};
use crate::scenario::model::PullSpec;
use crate::world::node::{NodeState, RenderedNode};

use super::pull::{auth_file_credentials, pull_with, pulled, PullOptions};
use super::registry_auth::Credentials;
use super::{FlowContext, FlowFailure, StepResult};

/// The rendered node, or the failure that says why there is none.
pub(crate) fn rendered(node: &NodeState) -> Result<&RenderedNode, FlowFailure> {
    node.rendered.as_ref().map_err(|reason| {
        FlowFailure::new(
            DiagnosisClass::ImageConfigInvalid,
            reason.clone(),
            reason.clone(),
        )
    })
}

/// An HTTP session of the node's container runtime for pulls of `images`: the node's
/// `certs.d` CAs, and `insecure` for the insecure sources of those pulls.
pub(crate) fn node_session(
    ctx: &FlowContext<'_>,
    node: &RenderedNode,
    images: &[ImageReference],
) -> Result<HttpSession, FlowFailure> {
    let insecure: Vec<String> = images
        .iter()
        .filter_map(|i| node.rules.pull_plan(i).ok())
        .flat_map(|plan| plan.sources)
        .filter(|s| s.insecure)
        .map(|s| s.reference.registry)
        .collect();
    let mut network = ctx.network.clone();
    network.convention = crate::client::proxy_env::ProxyConvention::Go;
    network.host_tls = node.host_tls(&insecure);
    let client = ctx.world.http_client(&network).map_err(|e| {
        FlowFailure::new(
            DiagnosisClass::Network,
            e.to_string(),
            format!("cannot build the HTTP client: {e}"),
        )
    })?;
    Ok(HttpSession::new(client))
}

/// Runs a `pull` step on the node (podman / CRI-O on a node of the cluster).
pub async fn run(ctx: &FlowContext<'_>, spec: &PullSpec, node: &NodeState) -> StepResult {
    let node = match rendered(node) {
        Ok(n) => n,
        Err(f) => return f.into_result(Default::default()),
    };
    let candidates = match node.rules.resolve_name(&spec.image) {
        Ok(NameResolution::Qualified(r)) => vec![r],
        Ok(NameResolution::Candidates { candidates, .. }) => candidates,
        Err(e @ ResolveError::Ambiguous { .. }) => {
            let detail = format!(
                "{:?} is a short name with several candidates ({}) and short-name-mode is enforcing",
                spec.image,
                candidate_list(&e)
            );
            return StepResult::failed(
                Diagnosis::new(DiagnosisClass::ShortNameAmbiguous, detail),
                format!("Error: {e}"),
            );
        }
        Err(e) => {
            return StepResult::failed(
                Diagnosis::new(DiagnosisClass::UnexpectedResponse, e.to_string()),
                format!("Error: {e}"),
            )
        }
    };
    let mut http = match node_session(ctx, node, &candidates) {
        Ok(h) => h,
        Err(f) => return f.into_result(Default::default()),
    };
    let platform = spec.platform.as_deref().unwrap_or("linux/amd64");
    let mut failures: Vec<(ImageReference, FlowFailure)> = Vec::new();
    for candidate in &candidates {
        let creds_for =
            |source: &ImageReference| auth_file_credentials(ctx, spec.auth_file, source);
        match pull_on_node(&mut http, node, candidate, &creds_for, platform).await {
            Ok(summary) => {
                let source = summary["source"].as_str().unwrap_or("");
                let from = if source == candidate.to_string() {
                    String::new()
                } else {
                    format!(" from {source}")
                };
                return pulled(&format!("{candidate}{from}"), summary, http);
            }
            Err(f) => failures.push((candidate.clone(), f)),
        }
    }
    // Errors of opening the source (blocked, connection, manifest) carry containers/image's
    // "initializing source" prefix; the policy's rejection comes later and has none.
    let worded = |candidate: &ImageReference, f: &FlowFailure| {
        if f.diagnosis.class == DiagnosisClass::RejectedByPolicy {
            f.message.clone()
        } else {
            format!("initializing source docker://{candidate}: {}", f.message)
        }
    };
    let mut failure = if failures.len() == 1 {
        let (candidate, mut f) = failures.swap_remove(0);
        f.message = worded(&candidate, &f);
        f
    } else {
        // c/common reports every candidate's error.
        let lines: Vec<String> = failures
            .iter()
            .map(|(c, f)| format!("* {}", worded(c, f)))
            .collect();
        let (_, mut first) = failures.swap_remove(0);
        first.message = format!("{} errors occurred: {}", lines.len(), lines.join(" "));
        first
    };
    failure.message = format!("Error: {}", failure.message);
    failure.into_result(http.into_transcript())
}

fn candidate_list(e: &ResolveError) -> String {
    match e {
        ResolveError::Ambiguous { candidates, .. } => candidates
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        _ => String::new(),
    }
}

/// Pulls one fully qualified reference as the node's containers/image does; the summary
/// gains `source` (the reference actually pulled) and `mirror`.
pub(crate) async fn pull_on_node(
    http: &mut HttpSession,
    node: &RenderedNode,
    image: &ImageReference,
    credentials_for: &(dyn Fn(&ImageReference) -> Result<Option<Credentials>, FlowFailure> + Sync),
    platform: &str,
) -> Result<Value, FlowFailure> {
    let plan = node.rules.pull_plan(image).map_err(|refusal| {
        FlowFailure::new(
            DiagnosisClass::BlockedByRegistriesConf,
            format!("registries.conf blocks {image}: the pull is refused before any connection"),
            refusal.to_string(),
        )
    })?;
    let rejection = match node.rules.policy_decision(image) {
        PolicyDecision::Accept { .. } => None,
        PolicyDecision::Reject { scope } => Some(FlowFailure::new(
            DiagnosisClass::RejectedByPolicy,
            if scope.is_empty() {
                format!(
                    "policy.json has no entry for {image} or any of its namespaces, and its default is reject"
                )
            } else {
                format!("policy.json rejects {image} (scope {scope:?})")
            },
            format!("Source image rejected: Running image docker://{image} is rejected by policy."),
        )),
        PolicyDecision::Unsupported { scope, requirement } => Some(FlowFailure::new(
            DiagnosisClass::RejectedByPolicy,
            format!(
                "policy.json requires {requirement:?} for {image} (scope {scope:?}); the harness verifies no signatures"
            ),
            format!("Source image rejected: Running image docker://{image} is rejected by policy."),
        )),
    };
    let mut attempts: Vec<(ImageReference, bool, FlowFailure)> = Vec::new();
    for source in &plan.sources {
        // containers/image checks each source (a rewritten name) on its own: a blocked
        // one is skipped without a connection, the others still serve (the payload
        // source blocked while its ICSP mirror pulls).
        if let Some(refusal) = &source.blocked {
            attempts.push((
                source.reference.clone(),
                source.insecure,
                FlowFailure::new(
                    DiagnosisClass::BlockedByRegistriesConf,
                    format!(
                        "registries.conf blocks {}: the source is skipped without a connection",
                        source.reference
                    ),
                    refusal.to_string(),
                ),
            ));
            continue;
        }
        let credentials = credentials_for(&source.reference)?;
        let options = PullOptions {
            insecure: source.insecure,
            rejection: rejection.clone(),
        };
        match pull_with(
            http,
            &source.reference,
            credentials.as_ref(),
            None,
            platform,
            &options,
        )
        .await
        {
            Ok(mut summary) => {
                summary["source"] = json!(source.reference.to_string());
                summary["mirror"] = json!(source.mirror);
                return Ok(summary);
            }
            // The policy decides once a manifest was read: no other source is tried.
            Err(f) if f.diagnosis.class == DiagnosisClass::RejectedByPolicy => return Err(f),
            Err(f) => attempts.push((source.reference.clone(), source.insecure, f)),
        }
    }
    let Some((primary, primary_insecure, mut failure)) = attempts.pop() else {
        return Err(FlowFailure::new(
            DiagnosisClass::UnexpectedResponse,
            format!("registries.conf gives {image} no pull source"),
            format!("internal error: no pull source for {image}"),
        ));
    };
    node_classes(&mut failure, &primary, primary_insecure);
    if !attempts.is_empty() {
        // containers/image: "(Mirrors also failed: [ref: err]...): primary: err".
        let extras: Vec<String> = attempts
            .iter()
            .map(|(r, _, f)| format!("[{r}: {}]", f.message))
            .collect();
        failure.message = format!(
            "(Mirrors also failed: {}): {primary}: {}",
            extras.join("\n"),
            failure.message
        );
    }
    Err(failure)
}

/// On a node, a certificate from an unknown CA is fixed with `additionalTrustedCA`, and
/// a plain-HTTP answer with `insecureRegistries`.
fn node_classes(failure: &mut FlowFailure, source: &ImageReference, insecure: bool) {
    let host = &source.registry;
    match failure.diagnosis.class {
        DiagnosisClass::TlsUnknownAuthority if !insecure => {
            failure.diagnosis = Diagnosis::new(
                DiagnosisClass::UntrustedCa,
                format!(
                    "{} — the node has no /etc/docker/certs.d/{host}/ca.crt for it: add the CA to the ConfigMap named by spec.additionalTrustedCA (key {:?})",
                    failure.diagnosis.detail,
                    host.replace(':', "..")
                ),
            );
        }
        DiagnosisClass::HttpResponseToHttpsClient if !insecure => {
            failure.diagnosis = Diagnosis::new(
                DiagnosisClass::InsecureRegistryNotConfigured,
                format!(
                    "{} — {host} is not in spec.registrySources.insecureRegistries, so the node speaks only HTTPS to it",
                    failure.diagnosis.detail
                ),
            );
        }
        _ => {}
    }
}
