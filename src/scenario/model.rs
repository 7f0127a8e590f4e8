//! The scenario file format: a world to start and the steps to drive against it.
//!
//! Documented for users in `scenarios/README.md`; keep the two in step.

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_saphyr::Spanned;

use crate::diagnosis::DiagnosisClass;

/// One scenario file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// Display name; defaults to the file's path below the catalogue root, without `.yaml`.
    #[serde(default)]
    pub name: Option<String>,
    /// One or two sentences: what the scenario proves.
    pub description: String,
    /// Where the scenario comes from (seed document, customer case, ...).
    #[serde(default)]
    pub source: Option<String>,
    /// The world to start.
    #[serde(default)]
    pub world: WorldSpec,
    /// The steps, run in order; the first unmet expectation ends the scenario.
    pub steps: Vec<Spanned<StepSpec>>,
}

/// The mocks a scenario starts.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorldSpec {
    /// The SSO token service (always started; this customises it).
    #[serde(default)]
    pub sso: SsoSpec,
    /// Registries; when omitted, the three Red Hat registries of the built-in catalogue.
    #[serde(default)]
    pub registries: Option<Vec<Spanned<RegistrySpec>>>,
    /// Per-step network timeout in seconds (default 10).
    #[serde(default)]
    pub timeout_secs: Option<u64>,
    /// The OpenShift cluster pods pull from (namespaces are created on first use).
    #[serde(default)]
    pub cluster: ClusterSpec,
    /// The customer's forward proxy (a squid-like mock); `${PROXY}` in client settings
    /// stands for its `host:port`.
    #[serde(default)]
    pub proxy: Option<Spanned<ProxySpec>>,
    /// Firewall rules, first match wins; they apply to the client's direct connections
    /// and to the proxy's upstream connections.
    #[serde(default)]
    pub firewall: Vec<Spanned<FirewallRuleSpec>>,
    /// The client host's settings (environment, trusted CAs).
    #[serde(default)]
    pub client: ClientSpec,
}

/// The mock proxy.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProxySpec {
    /// squid `dstdomain` allow-list (`registry.redhat.io`, `.redhat.com`); omitted: all.
    #[serde(default)]
    pub allow: Option<Vec<String>>,
    /// Basic proxy authentication the proxy requires.
    #[serde(default)]
    pub auth: Option<ProxyAuthSpec>,
    /// Tunnels that fail: `{host, with: 502 | 503 | close | stall}` (`host: "*"` = all).
    #[serde(default)]
    pub fail: Vec<TunnelFailureSpec>,
    /// Intercept TLS with the proxy's own CA ("Example Corp Proxy CA").
    #[serde(default)]
    pub intercept: bool,
    /// The proxy is not running: its address refuses connections.
    #[serde(default)]
    pub down: bool,
    /// What runs the proxy: the in-process `mock` (default) or a real `squid`.
    #[serde(default)]
    pub implementation: ProxyImplementation,
}

/// What runs the world's proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProxyImplementation {
    /// The in-process squid-like mock.
    #[default]
    Mock,
    /// A real squid (`/usr/sbin/squid`) deciding `allow` and `auth`, forwarding what
    /// it allows to the world's name service through an allow-all mock parent.
    Squid,
}

/// What serves a registry of the world.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RegistryImplementation {
    /// The in-process mock registry.
    #[default]
    Mock,
    /// A real CNCF distribution 2.8 (Debian's `docker-registry`) trusting the SSO's
    /// tokens, the entry's images pushed into it, behind the world's TLS front.
    Distribution,
}

/// Proxy credentials.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProxyAuthSpec {
    /// Username.
    pub username: String,
    /// Password.
    pub password: String,
}

/// A failing tunnel.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TunnelFailureSpec {
    /// The CONNECT host (`*` for every host).
    pub host: String,
    /// `502`, `503` (any status), `close` (accept, then close) or `stall` (never answer).
    pub with: TunnelFailureKind,
}

/// How a tunnel fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TunnelFailureKind {
    /// Answer CONNECT with this status.
    Status(u16),
    /// Read the CONNECT, then close.
    Close,
    /// Read the CONNECT and never answer.
    Stall,
}

impl<'de> Deserialize<'de> for TunnelFailureKind {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KindVisitor;
        impl Visitor<'_> for KindVisitor {
            type Value = TunnelFailureKind;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an HTTP status such as 502, or `close`, or `stall`")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                match u16::try_from(v) {
                    Ok(s) if (400..600).contains(&s) => Ok(TunnelFailureKind::Status(s)),
                    _ => Err(E::custom(format!("status {v}: expected 400 to 599"))),
                }
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                self.visit_u64(u64::try_from(v).map_err(|_| E::custom("a negative status"))?)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                match v {
                    "close" => Ok(TunnelFailureKind::Close),
                    "stall" => Ok(TunnelFailureKind::Stall),
                    other => other
                        .parse::<u64>()
                        .map_err(|_| {
                            E::custom(format!("{other:?}: expected a status, `close` or `stall`"))
                        })
                        .and_then(|n| self.visit_u64(n)),
                }
            }
        }
        d.deserialize_any(KindVisitor)
    }
}

/// A firewall rule.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FirewallRuleSpec {
    /// Host name, or `*.example.com`.
    pub host: String,
    /// Port (omitted: every port).
    #[serde(default)]
    pub port: Option<u16>,
    /// `allow`, `reject`, `drop`, `dns-failure`, or `{reset: {after_bytes: N}}`.
    pub verdict: regharness_mocks::firewall::Verdict,
    /// Whose connections the rule filters: `client` (the host's direct connections),
    /// `proxy` (the proxy's upstream connections) or `both` (default).
    #[serde(default)]
    pub from: FirewallSide,
}

/// Whose connections a firewall rule filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FirewallSide {
    /// The client host's own connections.
    Client,
    /// The proxy's connections to the hosts it tunnels to.
    Proxy,
    /// Both.
    #[default]
    Both,
}

/// The client host.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientSpec {
    /// Environment variables (`HTTPS_PROXY`, `https_proxy`, `HTTP_PROXY`, `NO_PROXY`, ...);
    /// `${PROXY}` is replaced with the mock proxy's `host:port`.
    #[serde(default)]
    pub env: std::collections::BTreeMap<String, String>,
    /// The host trusts the intercepting proxy's CA (the corporate bundle is installed).
    #[serde(default)]
    pub trust_proxy_ca: bool,
}

/// The OpenShift cluster of a world.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterSpec {
    /// Entries of the global pull secret (`openshift-config/pull-secret`), which every
    /// node's kubelet uses after the pod's own pull secrets.
    #[serde(default)]
    pub global_pull_secret: Vec<Spanned<DockerRegistrySpec>>,
    /// The internal registry (`image-registry.openshift-image-registry.svc:5000`); started
    /// only when given.
    #[serde(default)]
    pub internal_registry: Option<Spanned<InternalRegistrySpec>>,
    /// `image.config.openshift.io/cluster` as `oc get -o yaml` prints it. When given, the
    /// node files the Machine Config Operator renders from it apply to every `pull` and
    /// `pod-pull` of the scenario (they run on a node of this cluster).
    #[serde(default)]
    pub image_config: Option<Spanned<crate::node_config::input::ImageConfig>>,
    /// ImageContentSourcePolicy objects (`repositoryDigestMirrors`).
    #[serde(default)]
    pub icsps: Vec<Spanned<crate::node_config::input::ImageContentSourcePolicy>>,
    /// The ConfigMap `spec.additionalTrustedCA.name` refers to (in `openshift-config`).
    /// `${CA:HOST}` in a value stands for the PEM certificate of the CA of the world's
    /// registry HOST that has `own_ca: true`.
    #[serde(default)]
    pub ca_configmap: Option<Spanned<crate::node_config::input::ConfigMap>>,
    /// The cluster's release image (`oc get clusterversion version -o
    /// jsonpath='{.status.desired.image}'`): the Machine Config Operator keeps it pullable
    /// when a blocked scope covers it (`render node-config --release-image`).
    #[serde(default)]
    pub release_image: Option<String>,
    /// Files a MachineConfig adds to the node beside the rendered ones (e.g. a
    /// `/etc/containers/registries.conf.d/99-short-name-mode.conf` drop-in).
    #[serde(default)]
    pub node_files: Vec<Spanned<NodeFileSpec>>,
}

/// A file on the node.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeFileSpec {
    /// Absolute node path, e.g. `/etc/containers/registries.conf.d/99-local.conf`.
    pub path: String,
    /// Its text.
    pub content: String,
}

/// The internal registry's image streams.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InternalRegistrySpec {
    /// `project/stream:tag`, e.g. `project-b/app:latest`.
    #[serde(default)]
    pub images: Vec<ImageEntry>,
}

/// A registry entry of a pull secret, as `oc create secret docker-registry` takes it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DockerRegistrySpec {
    /// `--docker-server`.
    pub server: String,
    /// `--docker-username` / `--docker-password`.
    pub credentials: CredentialsSpec,
    /// `--docker-email` (optional, as in current `oc`).
    #[serde(default)]
    pub email: Option<String>,
}

/// The SSO realm and its accounts.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SsoSpec {
    /// Virtual host name of the SSO (default `sso.redhat.com`).
    #[serde(default = "default_sso_host")]
    pub host: String,
    /// Keycloak realm (default `rhcc`).
    #[serde(default = "default_realm")]
    pub realm: String,
    /// `expires_in` of issued tokens, seconds (default 300).
    #[serde(default = "default_lifetime")]
    pub token_lifetime: u64,
    /// People and registry service accounts.
    #[serde(default)]
    pub accounts: Vec<Spanned<AccountSpec>>,
}

impl Default for SsoSpec {
    fn default() -> Self {
        Self {
            host: default_sso_host(),
            realm: default_realm(),
            token_lifetime: default_lifetime(),
            accounts: Vec::new(),
        }
    }
}

fn default_sso_host() -> String {
    "sso.redhat.com".into()
}
fn default_realm() -> String {
    "rhcc".into()
}
fn default_lifetime() -> u64 {
    300
}

/// An account of the SSO: exactly one of `person` or `service_account`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountSpec {
    /// A Customer Portal login.
    #[serde(default)]
    pub person: Option<String>,
    /// A registry service account, `<prefix>|<name>` such as `1234567|ci-puller`.
    #[serde(default)]
    pub service_account: Option<String>,
    /// The password; for a service account, omitted means a generated long token.
    #[serde(default)]
    pub password: Option<String>,
    /// Repository patterns the account may pull (`*`, `rhel8/*`, `rhel8/pcp`); default `*`.
    #[serde(default)]
    pub entitled: Option<Vec<String>>,
}

/// How a registry authenticates pulls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuthModeSpec {
    /// Anyone may pull (registry.access.redhat.com).
    Anonymous,
    /// Docker token authentication against the SSO (registry.redhat.io).
    Bearer,
    /// Token authentication delegated to a separate auth host (`auth_host`), whose
    /// credentials the pull secret must hold in an entry of their own (seed 001).
    Delegated,
}

/// A registry of the world.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistrySpec {
    /// Virtual host name, e.g. `registry.redhat.io`.
    pub host: String,
    /// Authentication mode; defaults from the catalogue for known hosts, else `bearer`.
    #[serde(default)]
    pub auth: Option<AuthModeSpec>,
    /// Images; defaults from the catalogue for known hosts.
    #[serde(default)]
    pub images: Option<Vec<ImageEntry>>,
    /// For `auth: delegated`: the auth server's host (default: the SSO's host). It is
    /// served by the world's SSO under that name.
    #[serde(default)]
    pub auth_host: Option<String>,
    /// Pull-secret types whose credentials the registry refuses; registry.connect.redhat.com
    /// defaults to `[kubernetes.io/dockercfg]` (BZ#1476330).
    #[serde(default)]
    pub rejects_secret_types: Option<Vec<String>>,
    /// Serve plain HTTP instead of HTTPS (an insecure registry), on the same address.
    #[serde(default)]
    pub plain_http: bool,
    /// Serve a certificate issued by a CA of the registry's own ("HOST CA") instead of
    /// the world's CA, so clients do not trust it unless told to (additionalTrustedCA).
    #[serde(default)]
    pub own_ca: bool,
    /// Answer blob GETs with `307` to this CDN host, which the world serves (anonymous,
    /// same content).
    #[serde(default)]
    pub blob_cdn: Option<String>,
    /// What serves it: the in-process `mock` (default) or a real `distribution`.
    #[serde(default)]
    pub implementation: RegistryImplementation,
}

/// Manifest format of an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ImageFormat {
    /// Docker image manifest v2 schema 2.
    #[default]
    Docker,
    /// OCI image manifest.
    Oci,
    /// OCI image index over several platforms.
    MultiArch,
}

/// An image a registry serves: `repo:tag` or a mapping.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageEntrySpec {
    /// `repository:tag`, e.g. `rhel8/pcp:latest`.
    #[serde(rename = "ref")]
    pub reference: String,
    /// Manifest format (default `docker`).
    #[serde(default)]
    pub format: ImageFormat,
    /// Platforms of a `multi-arch` image (default amd64, arm64, ppc64le, s390x).
    #[serde(default)]
    pub platforms: Option<Vec<String>>,
}

/// An image entry: the short string form or the mapping form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageEntry(pub ImageEntrySpec);

impl<'de> Deserialize<'de> for ImageEntry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct EntryVisitor;
        impl<'de> Visitor<'de> for EntryVisitor {
            type Value = ImageEntry;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an image as `repository:tag` or {ref, format, platforms}")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(ImageEntry(ImageEntrySpec {
                    reference: v.to_string(),
                    format: ImageFormat::Docker,
                    platforms: None,
                }))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                ImageEntrySpec::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(ImageEntry)
            }
        }
        d.deserialize_any(EntryVisitor)
    }
}

/// Credentials a step presents.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialsSpec {
    /// An account of the world; its username and (current) secret are used.
    #[serde(default)]
    pub account: Option<String>,
    /// Which secret of `account`: `current` (default) or `previous` (before the last
    /// regeneration).
    #[serde(default)]
    pub secret: Option<SecretChoice>,
    /// A literal username (instead of, or overriding, the account's).
    #[serde(default)]
    pub username: Option<String>,
    /// A literal password (instead of, or overriding, the account's).
    #[serde(default)]
    pub password: Option<String>,
}

/// Which of an account's secrets to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SecretChoice {
    /// The secret as it is now.
    Current,
    /// The secret before the last `regenerate-token`.
    Previous,
}

/// Which login tool's credential file a step writes or reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuthFileKind {
    /// `${XDG_RUNTIME_DIR}/containers/auth.json` (podman, skopeo, buildah).
    #[default]
    Podman,
    /// `$HOME/.docker/config.json` (docker login).
    Docker,
    /// `$HOME/.dockercfg` (legacy, no `auths` wrapper).
    Dockercfg,
}

/// What a step does: exactly one of the keys.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum StepAction {
    /// `podman login` / `docker login`: verify credentials, then write the auth file.
    Login(LoginSpec),
    /// Seed 003's curl token test against the SSO.
    Token(TokenSpec),
    /// `curl -H "Authorization: Bearer ..." https://REGISTRY/v2/` (or another path).
    Ping(PingSpec),
    /// Pull an image the way containers/image does, credentials from the auth files.
    Pull(PullSpec),
    /// Write an auth file by hand (e.g. a malformed one).
    WriteAuthFile(WriteAuthFileSpec),
    /// "Regenerate token" of a registry service account.
    RegenerateToken(AccountRef),
    /// "Delete account" of a registry service account.
    DeleteAccount(AccountRef),
    /// Move the world's clock forward (tokens expire without waiting).
    AdvanceClock(AdvanceClockSpec),
    /// `oc create secret generic|docker-registry`.
    CreateSecret(CreateSecretSpec),
    /// `oc secrets link SA SECRET [--for=pull|mount]`.
    LinkSecret(LinkSecretSpec),
    /// `oc secrets unlink SA SECRET`.
    UnlinkSecret(UnlinkSecretSpec),
    /// `oc policy add-role-to-user ROLE USER -n NS`.
    AddRoleToUser(AddRoleSpec),
    /// `oc policy add-role-to-group ROLE GROUP -n NS`.
    AddRoleToGroup(AddRoleSpec),
    /// `oc set build-secret --pull bc/NAME SECRET`.
    SetBuildSecret(SetBuildSecretSpec),
    /// A pod (or a build's pod) pulls its image with the credentials the kubelet picks.
    PodPull(PodPullSpec),
    /// `regharness check pull-secret` on a secret of the cluster or an auth file.
    CheckPullSecret(CheckPullSecretSpec),
    /// `regharness check image-config` on the world's cluster image configuration.
    CheckImageConfig(CheckImageConfigSpec),
    /// `regharness render node-config`: the node files the Machine Config Operator writes
    /// for the world's cluster image configuration.
    RenderNodeConfig(RenderNodeConfigSpec),
}

/// A step: its action, an optional name and what is expected of it.
#[derive(Debug, Clone)]
pub struct StepSpec {
    /// Display name.
    pub name: Option<String>,
    /// Environment overrides for this step's tool (a value of `null` unsets the
    /// variable: "this tool does not see the system-wide proxy").
    pub env: std::collections::BTreeMap<String, Option<String>>,
    /// curl's `--proxy URL` for this step (`${PROXY}` = the mock proxy).
    pub proxy: Option<String>,
    /// The client that runs this step (`client: curl | skopeo | podman`; default the
    /// builtin one); `regharness run --client` overrides it.
    pub client: Option<ClientKind>,
    /// What to do.
    pub action: StepAction,
    /// What must come out.
    pub expect: Expect,
}

impl<'de> Deserialize<'de> for StepSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct StepVisitor;
        impl<'de> Visitor<'de> for StepVisitor {
            type Value = StepSpec;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                write!(
                    f,
                    "a step: a mapping with one action key ({}) and optional `name` and `expect`",
                    ACTIONS.join(", ")
                )
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut name = None;
                let mut expect = None;
                let mut env = std::collections::BTreeMap::new();
                let mut proxy = None;
                let mut client = None;
                let mut action: Option<StepAction> = None;
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "name" => name = Some(map.next_value::<String>()?),
                        "expect" => expect = Some(map.next_value::<Expect>()?),
                        "env" => env = map.next_value()?,
                        "proxy" => proxy = Some(map.next_value::<String>()?),
                        "client" => client = Some(map.next_value::<ClientKind>()?),
                        other if ACTIONS.contains(&other) => {
                            if action.is_some() {
                                return Err(de::Error::custom(format!(
                                    "a step has exactly one action; `{other}` is a second one"
                                )));
                            }
                            action = Some(next_action(&mut map, other)?);
                        }
                        other => {
                            let mut expected = vec!["name", "expect", "env", "proxy", "client"];
                            expected.extend_from_slice(ACTIONS);
                            return Err(de::Error::unknown_field(other, leak(expected)));
                        }
                    }
                }
                let action = action.ok_or_else(|| {
                    de::Error::custom(format!(
                        "a step needs one action key: one of {}",
                        ACTIONS.join(", ")
                    ))
                })?;
                Ok(StepSpec {
                    name,
                    env,
                    proxy,
                    client,
                    action,
                    expect: expect.unwrap_or_default(),
                })
            }
        }
        d.deserialize_map(StepVisitor)
    }
}

const ACTIONS: &[&str] = &[
    "login",
    "token",
    "ping",
    "pull",
    "write-auth-file",
    "regenerate-token",
    "delete-account",
    "advance-clock",
    "create-secret",
    "link-secret",
    "unlink-secret",
    "add-role-to-user",
    "add-role-to-group",
    "set-build-secret",
    "pod-pull",
    "check-pull-secret",
    "check-image-config",
    "render-node-config",
];

fn leak(v: Vec<&'static str>) -> &'static [&'static str] {
    // The list of expected keys is static in practice; serde wants a 'static slice.
    static ALL: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    ALL.get_or_init(|| v).as_slice()
}

fn next_action<'de, A: MapAccess<'de>>(map: &mut A, key: &str) -> Result<StepAction, A::Error> {
    Ok(match key {
        "login" => StepAction::Login(map.next_value()?),
        "token" => StepAction::Token(map.next_value()?),
        "ping" => StepAction::Ping(map.next_value()?),
        "pull" => StepAction::Pull(map.next_value()?),
        "write-auth-file" => StepAction::WriteAuthFile(map.next_value()?),
        "regenerate-token" => StepAction::RegenerateToken(map.next_value()?),
        "delete-account" => StepAction::DeleteAccount(map.next_value()?),
        "advance-clock" => StepAction::AdvanceClock(map.next_value()?),
        "create-secret" => StepAction::CreateSecret(map.next_value()?),
        "link-secret" => StepAction::LinkSecret(map.next_value()?),
        "unlink-secret" => StepAction::UnlinkSecret(map.next_value()?),
        "add-role-to-user" => StepAction::AddRoleToUser(map.next_value()?),
        "add-role-to-group" => StepAction::AddRoleToGroup(map.next_value()?),
        "set-build-secret" => StepAction::SetBuildSecret(map.next_value()?),
        "pod-pull" => StepAction::PodPull(map.next_value()?),
        "check-pull-secret" => StepAction::CheckPullSecret(map.next_value()?),
        "check-image-config" => StepAction::CheckImageConfig(map.next_value()?),
        "render-node-config" => StepAction::RenderNodeConfig(map.next_value()?),
        other => return Err(de::Error::custom(format!("unknown action `{other}`"))),
    })
}

/// `login:`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginSpec {
    /// Registry host to log in to.
    pub registry: String,
    /// The server argument as typed (`docker login https://registry.redhat.io`): becomes the
    /// auth-file key. Default: `registry` for podman, `https://<registry>` for docker.
    #[serde(default)]
    pub server: Option<String>,
    /// Which tool's file to write (default `podman`).
    #[serde(default)]
    pub tool: AuthFileKind,
    /// The credentials typed at the prompt.
    pub credentials: CredentialsSpec,
}

/// `token:`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenSpec {
    /// Credentials for HTTP Basic; omitted means no credentials at all.
    #[serde(default)]
    pub credentials: Option<CredentialsSpec>,
    /// Scopes (default `repository:rhel:pull`).
    #[serde(default)]
    pub scope: Option<Vec<String>>,
    /// `service` parameter (default `docker-registry`).
    #[serde(default)]
    pub service: Option<String>,
    /// `client_id` parameter (default `curl`).
    #[serde(default)]
    pub client_id: Option<String>,
}

/// Where a ping's bearer token comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BearerSource {
    /// The `access_token` of the scenario's last successful `token` step.
    #[default]
    LastToken,
    /// No Authorization header.
    None,
}

/// `ping:`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PingSpec {
    /// Registry host.
    pub registry: String,
    /// Path to request (default `/v2/`).
    #[serde(default)]
    pub path: Option<String>,
    /// Bearer token source (default `last-token`).
    #[serde(default)]
    pub bearer: BearerSource,
}

/// `pull:`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PullSpec {
    /// `host/repository[:tag|@digest]`, e.g. `registry.redhat.io/rhel8/pcp:latest`.
    pub image: String,
    /// Platform for a multi-arch image (default `linux/amd64`).
    #[serde(default)]
    pub platform: Option<String>,
    /// Use only this auth file (like `REGISTRY_AUTH_FILE` / `--authfile`).
    #[serde(default)]
    pub auth_file: Option<AuthFileKind>,
}

/// `write-auth-file:`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WriteAuthFileSpec {
    /// Which file (default `podman`).
    #[serde(default)]
    pub tool: AuthFileKind,
    /// The exact text to write.
    pub content: String,
}

/// `regenerate-token:` / `delete-account:`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountRef {
    /// The account (its username).
    pub account: String,
}

/// `advance-clock:`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdvanceClockSpec {
    /// Seconds to move the world's clock forward.
    pub seconds: i64,
}

/// The namespace a cluster step works in when it names none (`oc`'s project after login).
pub const DEFAULT_NAMESPACE: &str = "default";

fn default_namespace() -> String {
    DEFAULT_NAMESPACE.to_string()
}

/// `create-secret:` exactly one of `docker-registry` or `generic`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateSecretSpec {
    /// The secret's name.
    pub name: String,
    /// `-n` (default `default`).
    #[serde(default = "default_namespace")]
    pub namespace: String,
    /// `oc create secret docker-registry NAME --docker-server ...`.
    #[serde(default, rename = "docker-registry")]
    pub docker_registry: Option<DockerRegistrySpec>,
    /// `oc create secret generic NAME --from-file=KEY=PATH [--type=TYPE]`.
    #[serde(default)]
    pub generic: Option<GenericSecretSpec>,
}

/// `oc create secret generic`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenericSecretSpec {
    /// `--from-file=KEY=PATH`, one or more.
    pub from_file: Vec<FromFileSpec>,
    /// `--type` (omitted: `Opaque`).
    #[serde(default, rename = "type")]
    pub secret_type: Option<String>,
}

/// One `--from-file=KEY=PATH`: the file is an auth file a login step wrote, or literal
/// content.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FromFileSpec {
    /// The data key (`.dockerconfigjson`, `.dockercfg`).
    pub key: String,
    /// The auth file of this tool (`podman`, `docker`, `dockercfg`) as it is now.
    #[serde(default)]
    pub auth_file: Option<AuthFileKind>,
    /// Literal file content.
    #[serde(default)]
    pub content: Option<String>,
}

/// `link-secret:`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkSecretSpec {
    /// The service account (`default`, `builder`, ...).
    pub service_account: String,
    /// The secret.
    pub secret: String,
    /// `--for` (default `mount`, as in `oc`).
    #[serde(default, rename = "for")]
    pub link_for: Option<crate::cluster::objects::LinkFor>,
    /// `-n` (default `default`).
    #[serde(default = "default_namespace")]
    pub namespace: String,
}

/// `unlink-secret:`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnlinkSecretSpec {
    /// The service account.
    pub service_account: String,
    /// The secret.
    pub secret: String,
    /// `-n` (default `default`).
    #[serde(default = "default_namespace")]
    pub namespace: String,
}

/// `add-role-to-user:` / `add-role-to-group:`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddRoleSpec {
    /// The cluster role, e.g. `system:image-puller`.
    pub role: String,
    /// The user (`system:serviceaccount:project-a:default`) for add-role-to-user.
    #[serde(default)]
    pub user: Option<String>,
    /// The group (`system:serviceaccounts:project-a`) for add-role-to-group.
    #[serde(default)]
    pub group: Option<String>,
    /// `--namespace`: where the binding is created.
    pub namespace: String,
}

/// `set-build-secret:`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetBuildSecretSpec {
    /// The BuildConfig's name.
    pub build_config: String,
    /// The pull secret.
    pub secret: String,
    /// Build strategy (default `source`).
    #[serde(default)]
    pub strategy: Option<crate::cluster::objects::BuildStrategy>,
    /// `-n` (default `default`).
    #[serde(default = "default_namespace")]
    pub namespace: String,
}

/// `pod-pull:`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PodPullSpec {
    /// The image, fully qualified.
    pub image: String,
    /// The pod's namespace (default `default`).
    #[serde(default = "default_namespace")]
    pub namespace: String,
    /// `spec.serviceAccountName` (default `default`; `builder` for a build).
    #[serde(default)]
    pub service_account: Option<String>,
    /// Pull as the build of this BuildConfig does (its builder image, with the
    /// BuildConfig's pull secret).
    #[serde(default)]
    pub build_config: Option<String>,
    /// Platform of a multi-arch image (default `linux/amd64`).
    #[serde(default)]
    pub platform: Option<String>,
}

/// `check-pull-secret:` exactly one source.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckPullSecretSpec {
    /// A secret of the cluster.
    #[serde(default)]
    pub secret: Option<String>,
    /// Its namespace (default `default`).
    #[serde(default = "default_namespace")]
    pub namespace: String,
    /// An auth file the scenario wrote.
    #[serde(default)]
    pub auth_file: Option<AuthFileKind>,
    /// Literal text (a Secret manifest, `.dockercfg`, `config.json` or `auth.json`).
    #[serde(default)]
    pub content: Option<String>,
    /// Images whose matching entry to report (`--image`).
    #[serde(default)]
    pub images: Vec<String>,
}

/// `check-image-config:` (the world's `cluster.image_config`, `icsps`, `ca_configmap`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckImageConfigSpec {
    /// Warnings fail the step too (`--strict`).
    #[serde(default)]
    pub strict: bool,
}

/// `render-node-config:` (the world's `cluster.image_config`, `icsps`, `ca_configmap`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenderNodeConfigSpec {}

/// Which program runs a step's `login`, `token`, `ping` or `pull`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClientKind {
    /// The harness's own HTTP client (the default).
    #[default]
    Builtin,
    /// The real `curl` (seed 003's commands): `token` and `ping`.
    Curl,
    /// The real `skopeo`: `login` and `pull` (`skopeo copy ... dir:`).
    Skopeo,
    /// The real `podman`: `login` and `pull`.
    Podman,
}

impl ClientKind {
    /// Every client, in `--help` order.
    pub const ALL: [ClientKind; 4] = [
        ClientKind::Builtin,
        ClientKind::Curl,
        ClientKind::Skopeo,
        ClientKind::Podman,
    ];

    /// The keyword (`builtin`, `curl`, `skopeo`, `podman`).
    pub fn as_str(self) -> &'static str {
        match self {
            ClientKind::Builtin => "builtin",
            ClientKind::Curl => "curl",
            ClientKind::Skopeo => "skopeo",
            ClientKind::Podman => "podman",
        }
    }
}

impl std::fmt::Display for ClientKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ClientKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| {
                format!("unknown client {s:?}: expected builtin, curl, skopeo or podman")
            })
    }
}

/// Outcome of a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// The step did what a user wanted.
    #[default]
    Ok,
    /// The step failed (and was diagnosed).
    Failed,
    /// The step did not run: its client cannot do the action or is not installed (the
    /// message says which). Never an expectation; it makes the scenario skipped.
    Skipped,
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Outcome::Ok => "ok",
            Outcome::Failed => "failed",
            Outcome::Skipped => "skipped",
        })
    }
}

/// What a step must produce.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// `ok` (default) or `failed`.
    #[serde(default)]
    pub outcome: Outcome,
    /// The HTTP status of the step's deciding response.
    #[serde(default)]
    pub status: Option<u16>,
    /// The diagnosis class (`ok` for a success).
    #[serde(default)]
    pub diagnosis: Option<DiagnosisClass>,
    /// The exact JSON body of the deciding response.
    #[serde(default)]
    pub body: Option<serde_json::Value>,
    /// Text the step's error message must contain.
    #[serde(default)]
    pub message_contains: Option<String>,
    /// Generated files to put in the snapshot (by file name, e.g. `auth.json`).
    #[serde(default)]
    pub snapshot: Vec<String>,
    /// For `check-pull-secret`: the finding codes expected, in any order (exactly these).
    #[serde(default)]
    pub findings: Option<Vec<String>>,
}
