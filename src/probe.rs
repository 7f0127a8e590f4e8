//! Seed 003's troubleshooting procedure as one command: reach the registry (through the
//! proxy), read its challenge, get a token from the realm (200 good credentials, 401
//! wrong credentials, anything else the network), then a bearer ping of `/v2/`.
//!
//! [`run`] works on any [`HttpClient`]: the CLI's (system DNS, system or given CAs, the
//! environment's proxy) against real endpoints, or a world's in tests.

use serde::Serialize;

use crate::client::challenge::Challenge;
use crate::client::http::{Auth, HttpClient, HttpSession};
use crate::diagnosis::{Diagnosis, DiagnosisClass};
use crate::flow::{classify_network, registry_auth::Credentials};
use crate::scenario::model::Outcome;
use crate::transcript::Transcript;

/// What to probe.
#[derive(Debug, Clone)]
pub struct ProbeTarget {
    /// The registry's base URL: `https://registry.redhat.io` or `http://localhost:5000`.
    pub registry: url::Url,
    /// The token endpoint; default: the realm of the registry's challenge.
    pub sso_url: Option<url::Url>,
    /// Credentials; none tests anonymous access.
    pub credentials: Option<Credentials>,
    /// The scope to ask for (default `repository:rhel:pull`, seed 003's).
    pub scope: String,
}

/// One stage's result.
#[derive(Debug, Clone, Serialize)]
pub struct Stage {
    /// `reach-registry`, `challenge`, `token`, `bearer-ping`.
    pub name: &'static str,
    /// ok / failed.
    pub outcome: Outcome,
    /// The deciding HTTP status, when there was an answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The diagnosis class.
    pub diagnosis: DiagnosisClass,
    /// What was seen (no secrets).
    pub detail: String,
}

/// The probe's report.
#[derive(Debug, Clone, Serialize)]
pub struct ProbeReport {
    /// The stages that ran, in order.
    pub stages: Vec<Stage>,
    /// The first failed stage's class, or `ok`.
    pub diagnosis: DiagnosisClass,
    /// What to do about it.
    pub remediation: String,
    /// Every exchange (redact before printing).
    #[serde(skip)]
    pub transcript: Transcript,
}

impl ProbeReport {
    /// 0 when every stage passed, else 1.
    pub fn exit_code(&self) -> u8 {
        u8::from(self.diagnosis != DiagnosisClass::Ok)
    }
}

fn stage(name: &'static str, status: Option<u16>, diagnosis: Diagnosis) -> Stage {
    Stage {
        name,
        outcome: if diagnosis.class == DiagnosisClass::Ok {
            Outcome::Ok
        } else {
            Outcome::Failed
        },
        status,
        diagnosis: diagnosis.class,
        detail: diagnosis.detail,
    }
}

/// Runs the stages until one fails.
pub async fn run(client: HttpClient, target: &ProbeTarget) -> ProbeReport {
    let mut http = HttpSession::new(client);
    let mut stages = Vec::new();
    let base = target.registry.as_str().trim_end_matches('/').to_string();
    let ping_url = format!("{base}/v2/");

    // 1. Reach the registry.
    let first = match http.get(&ping_url, &Auth::None, &[]).await {
        Ok(r) => r,
        Err(e) => {
            let (class, detail) = classify_network(&e);
            stages.push(stage("reach-registry", None, Diagnosis::new(class, detail)));
            return finish(stages, http);
        }
    };
    stages.push(stage(
        "reach-registry",
        Some(first.status),
        Diagnosis::new(
            DiagnosisClass::Ok,
            format!("GET {ping_url} answered {}", first.status),
        ),
    ));

    // 2. The challenge.
    let challenge = match first.status {
        200..=299 => {
            stages.push(stage(
                "challenge",
                Some(first.status),
                Diagnosis::new(
                    DiagnosisClass::Ok,
                    "no challenge: the registry is open to anonymous pulls",
                ),
            ));
            None
        }
        401 => match first.header("www-authenticate").and_then(Challenge::parse) {
            Some(c) if c.is_bearer() => {
                stages.push(stage(
                    "challenge",
                    Some(401),
                    Diagnosis::new(
                        DiagnosisClass::Ok,
                        format!(
                            "Bearer realm={:?} service={:?}",
                            c.param("realm").unwrap_or(""),
                            c.param("service").unwrap_or("")
                        ),
                    ),
                ));
                Some(c)
            }
            Some(c) => {
                stages.push(stage(
                    "challenge",
                    Some(401),
                    Diagnosis::new(
                        DiagnosisClass::UnexpectedResponse,
                        format!("a {} challenge, not Docker token authentication", c.scheme),
                    ),
                ));
                return finish(stages, http);
            }
            None => {
                stages.push(stage(
                    "challenge",
                    Some(401),
                    Diagnosis::new(
                        DiagnosisClass::UnexpectedResponse,
                        "401 without a WWW-Authenticate challenge",
                    ),
                ));
                return finish(stages, http);
            }
        },
        other => {
            stages.push(stage(
                "challenge",
                Some(other),
                Diagnosis::new(
                    DiagnosisClass::UnexpectedResponse,
                    format!("GET /v2/ answered {other}: expected 200 or a 401 challenge"),
                ),
            ));
            return finish(stages, http);
        }
    };
    let Some(challenge) = challenge else {
        return finish(stages, http);
    };

    // 3. The token (seed 003's rule).
    let realm = match &target.sso_url {
        Some(u) => u.clone(),
        None => match url::Url::parse(challenge.param("realm").unwrap_or("")) {
            Ok(u) => u,
            Err(e) => {
                stages.push(stage(
                    "token",
                    None,
                    Diagnosis::new(
                        DiagnosisClass::UnexpectedResponse,
                        format!("the challenge's realm is not a URL: {e}"),
                    ),
                ));
                return finish(stages, http);
            }
        },
    };
    let mut token_url = realm;
    {
        let mut q = token_url.query_pairs_mut();
        q.append_pair(
            "service",
            challenge.param("service").unwrap_or("docker-registry"),
        );
        q.append_pair("client_id", "curl");
        q.append_pair("scope", &target.scope);
    }
    let token_url = token_url.as_str().replace("%3A", ":");
    let auth = match &target.credentials {
        Some(c) => Auth::Basic {
            username: c.username.clone(),
            password: c.password.clone(),
        },
        None => Auth::None,
    };
    let token_response = match http.get(&token_url, &auth, &[]).await {
        Ok(r) => r,
        Err(e) => {
            let (class, detail) = classify_network(&e);
            stages.push(stage("token", None, Diagnosis::new(class, detail)));
            return finish(stages, http);
        }
    };
    let verdict = Diagnosis::token_endpoint(token_response.status, target.credentials.is_some());
    let token = token_response
        .json()
        .and_then(|b| {
            b.get("access_token")
                .or_else(|| b.get("token"))
                .and_then(|t| t.as_str())
                .map(str::to_string)
        })
        .filter(|t| !t.is_empty());
    let token_ok = verdict.class == DiagnosisClass::Ok && token.is_some();
    stages.push(stage(
        "token",
        Some(token_response.status),
        if token_ok || verdict.class != DiagnosisClass::Ok {
            verdict
        } else {
            Diagnosis::new(
                DiagnosisClass::UnexpectedResponse,
                "the token endpoint answered 200 without a token",
            )
        },
    ));
    let Some(token) = token.filter(|_| token_ok) else {
        return finish(stages, http);
    };

    // 4. Bearer ping.
    match http.get(&ping_url, &Auth::Bearer(token), &[]).await {
        Ok(r) if r.status == 200 => stages.push(stage(
            "bearer-ping",
            Some(200),
            Diagnosis::new(DiagnosisClass::Ok, "GET /v2/ with the token answered 200"),
        )),
        Ok(r) => stages.push(stage(
            "bearer-ping",
            Some(r.status),
            Diagnosis::new(
                if r.status == 401 {
                    DiagnosisClass::TokenRejectedByRegistry
                } else {
                    DiagnosisClass::UnexpectedResponse
                },
                format!("GET /v2/ with the token answered {}", r.status),
            ),
        )),
        Err(e) => {
            let (class, detail) = classify_network(&e);
            stages.push(stage("bearer-ping", None, Diagnosis::new(class, detail)));
        }
    }
    finish(stages, http)
}

fn finish(stages: Vec<Stage>, http: HttpSession) -> ProbeReport {
    let diagnosis = stages
        .iter()
        .find(|s| s.outcome == Outcome::Failed)
        .map(|s| s.diagnosis)
        .unwrap_or(DiagnosisClass::Ok);
    ProbeReport {
        stages,
        diagnosis,
        remediation: diagnosis.remediation().to_string(),
        transcript: http.into_transcript(),
    }
}

/// The human rendering: one line per stage, then the diagnosis and remediation.
pub fn to_human(report: &ProbeReport) -> String {
    let mut out = String::new();
    for s in &report.stages {
        let mark = if s.outcome == Outcome::Ok {
            "✓"
        } else {
            "✗"
        };
        let status = s.status.map(|c| format!(" HTTP {c}")).unwrap_or_default();
        out.push_str(&format!(
            "{mark} {:<15}{status} [{}] {}\n",
            s.name, s.diagnosis, s.detail
        ));
    }
    out.push_str(&format!("diagnosis: {}\n", report.diagnosis));
    if report.diagnosis != DiagnosisClass::Ok {
        out.push_str(&format!("remediation: {}\n", report.remediation));
    }
    out
}

/// The client a support engineer's host has: system DNS, the system's trusted CAs plus
/// `ca_file`, and `proxy` (curl's `--proxy`) or else the proxy variables as curl reads
/// them.
pub fn system_client(
    proxy: Option<&str>,
    ca_file: Option<&std::path::Path>,
    timeout: std::time::Duration,
) -> Result<HttpClient, String> {
    use crate::client::proxy_env::{ProxyConvention, ProxySettings};
    use crate::client::transport::{SystemNameService, TransportConfig};
    use rustls::pki_types::pem::PemObject;
    let env: std::collections::BTreeMap<String, String> = std::env::vars().collect();
    let settings = match proxy {
        Some(p) => ProxySettings::explicit(p, &env)?,
        None => ProxySettings::from_env(&env, ProxyConvention::Curl)?,
    };
    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for cert in native.certs {
        // Unusable system certificates are skipped, as curl and Go do.
        let _ = roots.add(cert);
    }
    if let Some(path) = ca_file {
        let pem = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut found = 0;
        for cert in rustls::pki_types::CertificateDer::pem_slice_iter(&pem) {
            let cert = cert.map_err(|e| format!("{}: {e}", path.display()))?;
            roots
                .add(cert)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            found += 1;
        }
        if found == 0 {
            return Err(format!(
                "{}: no PEM certificate found (expected -----BEGIN CERTIFICATE-----)",
                path.display()
            ));
        }
    }
    let transport = TransportConfig {
        names: std::sync::Arc::new(SystemNameService),
        proxy: settings,
        roots: std::sync::Arc::new(roots),
        insecure: false,
        host_tls: Default::default(),
        connect_timeout: timeout,
    };
    HttpClient::new(transport, timeout).map_err(|e| format!("TLS: {e}"))
}
