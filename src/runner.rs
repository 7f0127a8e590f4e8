//! Runs scenarios: starts each world, drives the steps, checks expectations, and
//! builds the redacted snapshot document.

use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::client::auth_file::{self, Sandbox};
use crate::diagnosis::{Diagnosis, DiagnosisClass};
use crate::flow::drivers::Drivers;
use crate::flow::{self, FlowContext, GeneratedFile, StepResult};
use crate::redact::SecretSet;
use crate::scenario::model::{ClientKind, Expect, Outcome, StepAction, StepSpec};
use crate::scenario::Scenario;
use crate::transcript::redact_json;
use crate::world::World;

/// A step may take at most this many times the world's network timeout in all.
const STEP_BUDGET_FACTOR: u32 = 6;

/// A scenario's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ScenarioStatus {
    /// Every step met its expectation.
    Passed,
    /// A step did not, or the world did not start.
    Failed,
    /// Not run (a program or engine it needs is missing); see the reason.
    Skipped,
}

/// How scenarios are run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunOptions {
    /// `--client NAME`: this client runs every `login`, `token`, `ping` and `pull` step,
    /// whatever the step names (`None`: each step's `client`, default builtin).
    pub client: Option<ClientKind>,
}

/// One step's report (secrets redacted).
#[derive(Debug, Clone, Serialize)]
pub struct StepReport {
    /// Display name.
    pub name: String,
    /// `login`, `token`, `ping`, `pull`, ...
    pub kind: String,
    /// The client that ran it (`builtin`, `curl`, `skopeo`, `podman`).
    pub client: ClientKind,
    /// ok / failed / skipped.
    pub outcome: Outcome,
    /// Diagnosis class.
    pub diagnosis: DiagnosisClass,
    /// Deciding HTTP status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// One line.
    pub message: String,
    /// What exactly was seen, in one sentence (failed steps only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// What the diagnosis means and what to do (failed steps only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remediation: Option<String>,
    /// Wall time.
    pub duration_ms: u64,
    /// Unmet expectations.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unmet: Vec<String>,
}

/// One scenario's report (secrets redacted).
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioReport {
    /// Display name.
    pub name: String,
    /// The file.
    pub file: String,
    /// passed / failed / skipped.
    pub status: ScenarioStatus,
    /// Why it failed or was skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Wall time.
    pub duration_ms: u64,
    /// The steps that ran.
    pub steps: Vec<StepReport>,
    /// The snapshot document: steps with transcripts and the files they asked for.
    #[serde(skip)]
    pub snapshot: Value,
}

/// Runs one scenario in its own world, each step with its own client.
pub async fn run_scenario(scenario: &Scenario) -> ScenarioReport {
    run_scenario_with(scenario, RunOptions::default()).await
}

/// Runs one scenario in its own world with `options`. A step whose client cannot run it
/// is skipped, and ends the scenario as skipped (later steps would build on it).
pub async fn run_scenario_with(scenario: &Scenario, options: RunOptions) -> ScenarioReport {
    let started = Instant::now();
    let secrets = SecretSet::default();
    let mut report = ScenarioReport {
        name: scenario.name.clone(),
        file: scenario.file.display().to_string(),
        status: ScenarioStatus::Passed,
        reason: None,
        duration_ms: 0,
        steps: Vec::new(),
        snapshot: Value::Null,
    };
    let world = match World::start(&scenario.spec.world, secrets.clone()).await {
        Ok(w) => w,
        Err(e) => {
            // A missing real server skips the scenario, unless external programs are
            // required (`REGHARNESS_REQUIRE_EXTERNAL=1`).
            let required = std::env::var("REGHARNESS_REQUIRE_EXTERNAL").is_ok_and(|v| v == "1");
            report.status = match e {
                crate::world::WorldError::MissingProgram(_) if !required => ScenarioStatus::Skipped,
                _ => ScenarioStatus::Failed,
            };
            report.reason = Some(secrets.redact(&format!("the world did not start: {e}")));
            report.duration_ms = elapsed_ms(started);
            return report;
        }
    };
    let sandbox = match Sandbox::new() {
        Ok(s) => s,
        Err(e) => {
            report.status = ScenarioStatus::Failed;
            report.reason = Some(format!("cannot create the sandbox folder: {e}"));
            return report;
        }
    };
    let drivers = Drivers::new();
    let budget = world.timeout() * STEP_BUDGET_FACTOR;
    let mut last_token: Option<String> = None;
    let mut snapshot_steps = Vec::new();

    for (index, spanned) in scenario.spec.steps.iter().enumerate() {
        let step = &spanned.value;
        let name = step_name(index, step);
        let step_started = Instant::now();
        let ctx = FlowContext {
            world: &world,
            sandbox: &sandbox,
            last_token: last_token.clone(),
            network: crate::world::StepNetwork {
                convention: crate::client::proxy_env::ProxyConvention::Go,
                env: step.env.clone(),
                explicit_proxy: step.proxy.clone(),
                host_tls: Default::default(),
            },
        };
        let client = client_of(step, options);
        let result = match tokio::time::timeout(budget, execute(&ctx, &drivers, client, step)).await
        {
            Ok(r) => r,
            Err(_) => StepResult::failed(
                Diagnosis::new(
                    DiagnosisClass::Network,
                    format!("the step did not finish within {budget:?}"),
                ),
                format!("step timed out after {budget:?}"),
            ),
        };
        if let Some(token) = &result.access_token {
            last_token = Some(token.clone());
        }
        let unmet = if result.outcome == Outcome::Skipped {
            Vec::new()
        } else {
            check_for(client, &step.expect, &result)
        };
        let step_report = StepReport {
            name: name.clone(),
            kind: kind_of(&step.action).to_string(),
            client,
            outcome: result.outcome,
            diagnosis: result.diagnosis.class,
            status: result.status,
            message: secrets.redact(&result.message),
            detail: (result.outcome == Outcome::Failed)
                .then(|| secrets.redact(&result.diagnosis.detail)),
            remediation: (result.outcome == Outcome::Failed)
                .then(|| result.diagnosis.class.remediation().to_string()),
            duration_ms: elapsed_ms(step_started),
            unmet: unmet.iter().map(|u| secrets.redact(u)).collect(),
        };
        snapshot_steps.push(snapshot_step(
            &name,
            &step_report,
            &result,
            &step.expect,
            &secrets,
        ));
        let failed = !unmet.is_empty();
        let skipped = step_report.outcome == Outcome::Skipped;
        report.steps.push(step_report);
        if skipped {
            report.status = ScenarioStatus::Skipped;
            report.reason = Some(secrets.redact(&format!(
                "step {} {:?} skipped: {}",
                index + 1,
                name,
                result.diagnosis.detail
            )));
            break;
        }
        if failed {
            report.status = ScenarioStatus::Failed;
            let mut reason = format!("step {} {:?}: {}", index + 1, name, unmet.join("; "));
            // Real servers' logs explain what they did (`implementation: ...`).
            for (server, tail) in world.native_logs() {
                reason.push_str(&format!("\n{server} log (tail):\n{tail}"));
            }
            report.reason = Some(secrets.redact(&reason));
            break;
        }
    }
    report.snapshot = json!({
        "scenario": scenario.name,
        "description": scenario.spec.description,
        "steps": snapshot_steps,
    });
    report.duration_ms = elapsed_ms(started);
    report
}

/// Runs scenarios with at most `jobs` at once; reports come back in input order.
pub async fn run_all(
    scenarios: Vec<Scenario>,
    jobs: usize,
    options: RunOptions,
) -> Vec<ScenarioReport> {
    let semaphore = Arc::new(tokio::sync::Semaphore::new(jobs.max(1)));
    let mut handles = Vec::new();
    for scenario in scenarios {
        let semaphore = semaphore.clone();
        handles.push(tokio::spawn(async move {
            let _permit = semaphore.acquire_owned().await;
            run_scenario_with(&scenario, options).await
        }));
    }
    let mut reports = Vec::new();
    for handle in handles {
        match handle.await {
            Ok(r) => reports.push(r),
            Err(e) => reports.push(ScenarioReport {
                name: "<unknown>".into(),
                file: String::new(),
                status: ScenarioStatus::Failed,
                reason: Some(format!("the scenario task failed: {e}")),
                duration_ms: 0,
                steps: Vec::new(),
                snapshot: Value::Null,
            }),
        }
    }
    reports
}

/// The client of a step: `--client`, else the step's `client`, else builtin; always
/// builtin for a step that is not `login`, `token`, `ping` or `pull`.
pub fn client_of(step: &StepSpec, options: RunOptions) -> ClientKind {
    if !crate::flow::drivers::is_client_action(&step.action) {
        return ClientKind::Builtin;
    }
    options.client.or(step.client).unwrap_or_default()
}

async fn execute(
    ctx: &FlowContext<'_>,
    drivers: &Drivers,
    client: ClientKind,
    step: &StepSpec,
) -> StepResult {
    if let Some(result) = crate::flow::drivers::run(ctx, drivers, client, step).await {
        return result;
    }
    match &step.action {
        StepAction::Login(s) => flow::login::run(ctx, s).await,
        StepAction::Token(s) => flow::token::run(ctx, s).await,
        StepAction::Ping(s) => flow::ping::run(ctx, s).await,
        StepAction::Pull(s) => flow::pull::run(ctx, s).await,
        StepAction::WriteAuthFile(s) => {
            match auth_file::write_text(ctx.sandbox, s.tool, &s.content) {
                Ok(()) => {
                    let mut r =
                        StepResult::ok(format!("wrote {}", auth_file::display_path(s.tool)));
                    r.files.push(GeneratedFile {
                        path: auth_file::display_path(s.tool).to_string(),
                        content: s.content.clone(),
                    });
                    r
                }
                Err(e) => StepResult::failed(
                    Diagnosis::new(DiagnosisClass::AuthFileInvalid, e.to_string()),
                    e.to_string(),
                ),
            }
        }
        StepAction::RegenerateToken(a) => match ctx.world.regenerate_secret(&a.account) {
            Ok(()) => StepResult::ok(format!("regenerated the token of {}", a.account)),
            Err(e) => StepResult::failed(
                Diagnosis::new(DiagnosisClass::UnexpectedResponse, e.to_string()),
                e.to_string(),
            ),
        },
        StepAction::DeleteAccount(a) => match ctx.world.delete_account(&a.account) {
            Ok(()) => StepResult::ok(format!("deleted {}", a.account)),
            Err(e) => StepResult::failed(
                Diagnosis::new(DiagnosisClass::UnexpectedResponse, e.to_string()),
                e.to_string(),
            ),
        },
        StepAction::AdvanceClock(c) => {
            ctx.world.clock().advance(c.seconds);
            StepResult::ok(format!("the clock moved {} s forward", c.seconds))
        }
        StepAction::CreateSecret(s) => flow::cluster_objects::create_secret(ctx, s),
        StepAction::LinkSecret(s) => flow::cluster_objects::link_secret(ctx, s),
        StepAction::UnlinkSecret(s) => flow::cluster_objects::unlink_secret(ctx, s),
        StepAction::AddRoleToUser(s) => flow::cluster_objects::add_role(ctx, s, false),
        StepAction::AddRoleToGroup(s) => flow::cluster_objects::add_role(ctx, s, true),
        StepAction::SetBuildSecret(s) => flow::cluster_objects::set_build_secret(ctx, s),
        StepAction::PodPull(s) => flow::pod_pull::run(ctx, s).await,
        StepAction::CheckPullSecret(s) => flow::check_secret::run(ctx, s),
        StepAction::CheckImageConfig(s) => flow::node_config::check(ctx, s),
        StepAction::RenderNodeConfig(s) => flow::node_config::render_files(ctx, s),
    }
}

/// The unmet expectations of a result; empty when all hold.
pub fn check(expect: &Expect, result: &StepResult) -> Vec<String> {
    check_for(ClientKind::Builtin, expect, result)
}

/// The unmet expectations of a result `client` produced. skopeo and podman print no
/// HTTP status and no response body, and word their messages themselves, so `status`,
/// `body` and `message_contains` are checked for the builtin client and curl only.
pub fn check_for(client: ClientKind, expect: &Expect, result: &StepResult) -> Vec<String> {
    let observes_http = matches!(client, ClientKind::Builtin | ClientKind::Curl);
    let mut unmet = Vec::new();
    if expect.outcome != result.outcome {
        unmet.push(format!(
            "expected outcome {}, got {} ({}: {}): {}",
            expect.outcome,
            result.outcome,
            result.diagnosis.class,
            result.diagnosis.detail,
            result.message
        ));
    }
    if let Some(status) = expect.status.filter(|_| observes_http) {
        if result.status != Some(status) {
            unmet.push(format!(
                "expected HTTP status {status}, got {}",
                result
                    .status
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| "no response".into())
            ));
        }
    }
    if let Some(class) = expect.diagnosis {
        if class != result.diagnosis.class {
            unmet.push(format!(
                "expected diagnosis {class}, got {} ({})",
                result.diagnosis.class, result.diagnosis.detail
            ));
        }
    }
    if let Some(body) = expect.body.as_ref().filter(|_| observes_http) {
        if result.body.as_ref() != Some(body) {
            unmet.push(format!(
                "expected body {}, got {}",
                body,
                result
                    .body
                    .as_ref()
                    .map(|b| b.to_string())
                    .unwrap_or_else(|| "no JSON body".into())
            ));
        }
    }
    if let Some(text) = expect.message_contains.as_ref().filter(|_| observes_http) {
        if !result.message.contains(text.as_str()) {
            unmet.push(format!(
                "expected the message to contain {text:?}, got {:?}",
                result.message
            ));
        }
    }
    if let Some(wanted) = &expect.findings {
        let mut wanted = wanted.clone();
        wanted.sort();
        let mut got = result.findings.clone().unwrap_or_default();
        got.sort();
        got.dedup();
        wanted.dedup();
        if result.findings.is_none() {
            unmet.push(
                "expect.findings is only for check-pull-secret and check-image-config steps"
                    .to_string(),
            );
        } else if wanted != got {
            unmet.push(format!(
                "expected findings [{}], got [{}]",
                wanted.join(", "),
                got.join(", ")
            ));
        }
    }
    for wanted in &expect.snapshot {
        if !result
            .files
            .iter()
            .any(|f| f.path.ends_with(wanted.as_str()))
        {
            let wrote: Vec<&str> = result.files.iter().map(|f| f.path.as_str()).collect();
            unmet.push(format!(
                "expect.snapshot names {wanted:?} but the step wrote no such file (wrote: {})",
                if wrote.is_empty() {
                    "nothing".to_string()
                } else {
                    wrote.join(", ")
                }
            ));
        }
    }
    unmet
}

fn snapshot_step(
    name: &str,
    report: &StepReport,
    result: &StepResult,
    expect: &Expect,
    secrets: &SecretSet,
) -> Value {
    let mut step = Map::new();
    step.insert("step".into(), json!(name));
    step.insert("outcome".into(), json!(report.outcome));
    step.insert("diagnosis".into(), json!(report.diagnosis));
    if let Some(s) = report.status {
        step.insert("status".into(), json!(s));
    }
    step.insert(
        "message".into(),
        json!(crate::transcript::normalize_loopback_ports(&report.message)),
    );
    if let Some(detail) = &report.detail {
        step.insert(
            "detail".into(),
            json!(crate::transcript::normalize_loopback_ports(detail)),
        );
    }
    if let Some(findings) = &result.findings {
        step.insert("findings".into(), json!(findings));
    }
    if let Some(claims) = &result.claims {
        let mut claims = claims.clone();
        redact_json(&mut claims, secrets);
        step.insert("token_claims".into(), claims);
    }
    let files: Map<String, Value> = result
        .files
        .iter()
        .filter(|f| expect.snapshot.iter().any(|w| f.path.ends_with(w.as_str())))
        .map(|f| (f.path.clone(), file_snapshot(&f.content, secrets)))
        .collect();
    if !files.is_empty() {
        step.insert("files".into(), Value::Object(files));
    }
    let mut transcript = result.transcript.clone();
    transcript.redact(secrets);
    if !transcript.exchanges.is_empty() {
        step.insert(
            "transcript".into(),
            serde_json::to_value(&transcript).unwrap_or(Value::Null),
        );
    }
    Value::Object(step)
}

/// A generated file for the snapshot: parsed JSON when it is JSON (easier to review),
/// else the text; secrets redacted either way.
fn file_snapshot(content: &str, secrets: &SecretSet) -> Value {
    match serde_json::from_str::<Value>(content) {
        Ok(mut v) => {
            describe_auth_fields(&mut v);
            redact_json(&mut v, secrets);
            v
        }
        Err(_) => json!(secrets.redact(content)),
    }
}

/// Replaces every `"auth": base64("user:password")` with `base64(user:[redacted])`, so a
/// reviewer sees whose credentials an entry holds and that it is well-formed.
fn describe_auth_fields(value: &mut Value) {
    use base64::Engine;
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if key == "auth" {
                    if let Value::String(s) = v {
                        let decoded = base64::engine::general_purpose::STANDARD
                            .decode(s.as_bytes())
                            .ok()
                            .and_then(|d| String::from_utf8(d).ok());
                        *s = match decoded.as_deref().and_then(|d| d.split_once(':')) {
                            Some((user, _)) => format!("base64({user}:[redacted])"),
                            None => "[redacted: not base64(user:password)]".to_string(),
                        };
                    }
                } else {
                    describe_auth_fields(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(describe_auth_fields),
        _ => {}
    }
}

/// `login registry.redhat.io`, `pull registry.redhat.io/rhel8/pcp:latest`, ...
pub fn step_name(index: usize, step: &StepSpec) -> String {
    if let Some(n) = &step.name {
        return n.clone();
    }
    let detail = match &step.action {
        StepAction::Login(l) => l.registry.clone(),
        StepAction::Token(t) => t
            .scope
            .as_ref()
            .map(|s| s.join(" "))
            .unwrap_or_else(|| "repository:rhel:pull".into()),
        StepAction::Ping(p) => format!("{}{}", p.registry, p.path.as_deref().unwrap_or("/v2/")),
        StepAction::Pull(p) => p.image.clone(),
        StepAction::WriteAuthFile(w) => auth_file::display_path(w.tool).to_string(),
        StepAction::RegenerateToken(a) | StepAction::DeleteAccount(a) => a.account.clone(),
        StepAction::AdvanceClock(c) => format!("{} s", c.seconds),
        StepAction::CreateSecret(c) => format!("{}/{}", c.namespace, c.name),
        StepAction::LinkSecret(l) => {
            format!("{} {} -n {}", l.service_account, l.secret, l.namespace)
        }
        StepAction::UnlinkSecret(l) => {
            format!("{} {} -n {}", l.service_account, l.secret, l.namespace)
        }
        StepAction::AddRoleToUser(a) | StepAction::AddRoleToGroup(a) => format!(
            "{} {} -n {}",
            a.role,
            a.user.as_deref().or(a.group.as_deref()).unwrap_or(""),
            a.namespace
        ),
        StepAction::SetBuildSecret(b) => format!("bc/{} {}", b.build_config, b.secret),
        StepAction::PodPull(p) => format!("{} in {}", p.image, p.namespace),
        StepAction::CheckPullSecret(c) => c
            .secret
            .clone()
            .or_else(|| c.auth_file.map(|k| auth_file::display_path(k).to_string()))
            .unwrap_or_else(|| "content".into()),
        StepAction::CheckImageConfig(c) => {
            if c.strict {
                "--strict".into()
            } else {
                "cluster".into()
            }
        }
        StepAction::RenderNodeConfig(_) => "cluster".into(),
    };
    format!("{} {} {}", index + 1, kind_of(&step.action), detail)
}

/// The step's action keyword.
pub fn kind_of(action: &StepAction) -> &'static str {
    match action {
        StepAction::Login(_) => "login",
        StepAction::Token(_) => "token",
        StepAction::Ping(_) => "ping",
        StepAction::Pull(_) => "pull",
        StepAction::WriteAuthFile(_) => "write-auth-file",
        StepAction::RegenerateToken(_) => "regenerate-token",
        StepAction::DeleteAccount(_) => "delete-account",
        StepAction::AdvanceClock(_) => "advance-clock",
        StepAction::CreateSecret(_) => "create-secret",
        StepAction::LinkSecret(_) => "link-secret",
        StepAction::UnlinkSecret(_) => "unlink-secret",
        StepAction::AddRoleToUser(_) => "add-role-to-user",
        StepAction::AddRoleToGroup(_) => "add-role-to-group",
        StepAction::SetBuildSecret(_) => "set-build-secret",
        StepAction::PodPull(_) => "pod-pull",
        StepAction::CheckPullSecret(_) => "check-pull-secret",
        StepAction::CheckImageConfig(_) => "check-image-config",
        StepAction::RenderNodeConfig(_) => "render-node-config",
    }
}

fn elapsed_ms(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}
