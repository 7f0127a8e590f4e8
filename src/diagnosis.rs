//! Diagnosis classes: what a failed step means and what to do about it.
//!
//! Seed 003's rule makes the first split for the token endpoint: 200 means the
//! credentials are good, 401 means they are wrong, anything else points at the
//! network. The classes below refine it with what the client saw.

use serde::{Deserialize, Serialize};

/// The class of a step's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DiagnosisClass {
    /// The step succeeded.
    Ok,
    /// The SSO answered 401 to the credentials that were sent.
    CredentialsRejected,
    /// Credentials are needed and none were sent (no login, or no auth-file entry).
    AuthenticationRequired,
    /// The registry refused the bearer token (expired, wrong audience or issuer,
    /// untrusted signer, or issued for another repository).
    TokenRejectedByRegistry,
    /// The token was issued, but without access to the repository: the account is not
    /// entitled to it.
    SubscriptionRequired,
    /// The registry does not have the repository, tag or blob.
    NotFound,
    /// An auth file (auth.json, config.json, .dockercfg) could not be used.
    AuthFileInvalid,
    /// The registry served content whose digest or size does not match.
    ContentInvalid,
    /// Anything else than 200/401 from the token endpoint, or no answer at all:
    /// firewall, proxy, DNS, TLS, connectivity.
    Network,
    /// An HTTP answer that none of the rules above explains.
    UnexpectedResponse,
    /// A pull secret that would work exists in the pod's namespace but is not in its
    /// service account's `imagePullSecrets` (never linked, or linked only as mountable).
    SecretNotLinked,
    /// The pull secret is linked for pulls, but to another service account than the
    /// one the pod runs as (e.g. `builder` instead of `default`).
    LinkedToWrongServiceAccount,
    /// The registry does not accept the type of secret the credentials came from
    /// (registry.connect.redhat.com and `kubernetes.io/dockercfg`, BZ#1476330), or the
    /// kubelet ignores the secret because of its type.
    WrongSecretType,
    /// The registry delegates authentication to a separate host and the pull secret has
    /// no entry for that host.
    DelegatedAuthEntryMissing,
    /// A cross-project pull from the internal registry without `system:image-puller` in
    /// the image's project.
    ImagePullerRoleMissing,
    /// `check pull-secret` found problems in a pull secret or auth file.
    PullSecretInvalid,
    /// The scenario asked for something the cluster refuses (a missing service account
    /// or secret, an invalid object name).
    ClusterObjectInvalid,
    /// The proxy itself cannot be reached (refused, no answer, unknown name).
    ProxyUnreachable,
    /// The proxy refuses to tunnel to this host (403: not on its allow-list).
    ProxyDeniedHost,
    /// The proxy wants credentials (407), or refused the ones sent.
    ProxyAuthRequired,
    /// The proxy accepted the request but could not open the tunnel (502/503/504, closed
    /// or never answered).
    ProxyTunnelFailed,
    /// A direct connection was refused (a firewall rejecting it, or nothing listening).
    FirewallReject,
    /// A direct connection got no answer before the timeout (a firewall dropping it).
    FirewallTimeout,
    /// The connection was reset in the middle of a transfer.
    ConnectionReset,
    /// The host name does not resolve.
    DnsFailure,
    /// The server's certificate chain ends at an issuer the client does not trust (an
    /// intercepting proxy's CA, typically).
    TlsUnknownAuthority,
    /// The client spoke TLS and the server answered in plain HTTP.
    HttpResponseToHttpsClient,
    /// The node's registries.conf blocks the registry (`blocked = true`), so the pull is
    /// refused before any network traffic (`registrySources.blockedRegistries`, or a
    /// registry missing from `allowedRegistries`).
    BlockedByRegistriesConf,
    /// The node's signature policy (`/etc/containers/policy.json`) rejects the image: with
    /// `allowedRegistries`, every registry not listed falls to the default `reject`.
    RejectedByPolicy,
    /// The registry serves plain HTTP or an unverifiable certificate and the node does not
    /// list it in `registrySources.insecureRegistries`.
    InsecureRegistryNotConfigured,
    /// The registry's certificate is issued by a CA the node does not trust, and
    /// `additionalTrustedCA` has no entry for the registry.
    UntrustedCa,
    /// A short name with several search registries and short-name mode `enforcing`: the
    /// client cannot prompt without a TTY and refuses to guess.
    ShortNameAmbiguous,
    /// `check image-config` found errors (or, strict, warnings) in the cluster's image
    /// configuration, or the Machine Config Operator could not render it.
    ImageConfigInvalid,
}

impl DiagnosisClass {
    /// Every class, for documentation and tests.
    pub const ALL: &'static [DiagnosisClass] = &[
        Self::Ok,
        Self::CredentialsRejected,
        Self::AuthenticationRequired,
        Self::TokenRejectedByRegistry,
        Self::SubscriptionRequired,
        Self::NotFound,
        Self::AuthFileInvalid,
        Self::ContentInvalid,
        Self::Network,
        Self::UnexpectedResponse,
        Self::SecretNotLinked,
        Self::LinkedToWrongServiceAccount,
        Self::WrongSecretType,
        Self::DelegatedAuthEntryMissing,
        Self::ImagePullerRoleMissing,
        Self::PullSecretInvalid,
        Self::ClusterObjectInvalid,
        Self::ProxyUnreachable,
        Self::ProxyDeniedHost,
        Self::ProxyAuthRequired,
        Self::ProxyTunnelFailed,
        Self::FirewallReject,
        Self::FirewallTimeout,
        Self::ConnectionReset,
        Self::DnsFailure,
        Self::TlsUnknownAuthority,
        Self::HttpResponseToHttpsClient,
        Self::BlockedByRegistriesConf,
        Self::RejectedByPolicy,
        Self::InsecureRegistryNotConfigured,
        Self::UntrustedCa,
        Self::ShortNameAmbiguous,
        Self::ImageConfigInvalid,
    ];

    /// The kebab-case name used in scenarios and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::CredentialsRejected => "credentials-rejected",
            Self::AuthenticationRequired => "authentication-required",
            Self::TokenRejectedByRegistry => "token-rejected-by-registry",
            Self::SubscriptionRequired => "subscription-required",
            Self::NotFound => "not-found",
            Self::AuthFileInvalid => "auth-file-invalid",
            Self::ContentInvalid => "content-invalid",
            Self::Network => "network",
            Self::UnexpectedResponse => "unexpected-response",
            Self::SecretNotLinked => "secret-not-linked",
            Self::LinkedToWrongServiceAccount => "linked-to-wrong-service-account",
            Self::WrongSecretType => "wrong-secret-type",
            Self::DelegatedAuthEntryMissing => "delegated-auth-entry-missing",
            Self::ImagePullerRoleMissing => "image-puller-role-missing",
            Self::PullSecretInvalid => "pull-secret-invalid",
            Self::ClusterObjectInvalid => "cluster-object-invalid",
            Self::ProxyUnreachable => "proxy-unreachable",
            Self::ProxyDeniedHost => "proxy-denied-host",
            Self::ProxyAuthRequired => "proxy-auth-required",
            Self::ProxyTunnelFailed => "proxy-tunnel-failed",
            Self::FirewallReject => "firewall-reject",
            Self::FirewallTimeout => "firewall-timeout",
            Self::ConnectionReset => "connection-reset",
            Self::DnsFailure => "dns-failure",
            Self::TlsUnknownAuthority => "tls-unknown-authority",
            Self::HttpResponseToHttpsClient => "http-response-to-https-client",
            Self::BlockedByRegistriesConf => "blocked-by-registries-conf",
            Self::RejectedByPolicy => "rejected-by-policy",
            Self::InsecureRegistryNotConfigured => "insecure-registry-not-configured",
            Self::UntrustedCa => "untrusted-ca",
            Self::ShortNameAmbiguous => "short-name-ambiguous",
            Self::ImageConfigInvalid => "image-config-invalid",
        }
    }

    /// One paragraph: what to do about it.
    pub fn remediation(self) -> &'static str {
        match self {
            Self::Ok => "Nothing to do.",
            Self::CredentialsRejected => {
                "The SSO rejected the username or password (HTTP 401). For a Customer Portal \
                 user, log in to the Customer Portal again to confirm the password. For a \
                 registry service account, check that the username includes its prefix \
                 (`1234567|name`) and that the token is the current one: a regenerated token \
                 invalidates the old one and a deleted account fails entirely. Avoid pasting a \
                 long token into curl's interactive password prompt; pass it with -u \
                 \"$TOKENID:$SECRET\". Confirm by hand with: curl -u \"$TOKENID:$SECRET\" \
                 \"https://sso.redhat.com/auth/realms/rhcc/protocol/redhat-docker-v2/auth?service=docker-registry&client_id=curl&scope=repository:rhel:pull\""
            }
            Self::AuthenticationRequired => {
                "No credentials were presented. registry.redhat.io and \
                 registry.connect.redhat.com need a login: run `podman login registry.redhat.io` \
                 (or `docker login https://registry.redhat.io`) with a Customer Portal user or \
                 a registry service account, or check that the auth file the client reads \
                 (${XDG_RUNTIME_DIR}/containers/auth.json, ~/.docker/config.json, \
                 REGISTRY_AUTH_FILE) has an entry for the registry."
            }
            Self::TokenRejectedByRegistry => {
                "The registry refused the bearer token: it may have expired (tokens live \
                 `expires_in` seconds, 300 by default), been issued for another repository \
                 scope or another service (audience), or been signed by a key the registry does \
                 not trust. Request a fresh token for the exact scope \
                 `repository:<name>:pull` and service named in the registry's \
                 WWW-Authenticate challenge."
            }
            Self::SubscriptionRequired => {
                "The SSO accepted the credentials but granted no access to this repository \
                 (the token's `access` is empty for it): the account is not entitled to the \
                 content. Check the subscriptions of the account's organisation, or use an \
                 account (or service account) of an organisation that has them."
            }
            Self::NotFound => {
                "The registry does not have this repository, tag or digest. Check the image \
                 name. Some images exist only on registry.redhat.io (subscription content) and \
                 not on registry.access.redhat.com: pull them from registry.redhat.io after \
                 logging in."
            }
            Self::AuthFileInvalid => {
                "An auth file could not be used: its `auth` field must be \
                 base64(\"username:password\") and the file valid JSON. Log in again with \
                 `podman login` (or `docker login`) to rewrite it, or fix the named entry."
            }
            Self::ContentInvalid => {
                "The registry (or something between it and the client) served content that \
                 does not match its digest or size. Retry; if it persists, suspect a proxy \
                 that rewrites responses."
            }
            Self::Network => {
                "Neither 200 nor 401: this points at the network, not the credentials \
                 (firewall, proxy, DNS, TLS or connectivity). Both registry.redhat.io and \
                 sso.redhat.com must be reachable (allow-listed on proxy and firewall). With a \
                 proxy, confirm with curl --proxy <host>:<port> -v and look for `HTTP/1.1 200 \
                 Connection established`."
            }
            Self::UnexpectedResponse => {
                "The server answered with a status this harness cannot explain; read the \
                 transcript for the exact exchange."
            }
            Self::SecretNotLinked => {
                "A pull secret with credentials for this registry exists in the namespace, \
                 but the pod's service account does not list it in `imagePullSecrets`, so the \
                 kubelet never presents it (a secret linked without `--for=pull` is only \
                 mountable). Link it for pulls to the service account the pod runs as \
                 (`default` unless the pod names another): `oc secrets link default \
                 <secret> --for=pull`, then recreate the pod (pull secrets are copied into \
                 the pod when it is created)."
            }
            Self::LinkedToWrongServiceAccount => {
                "The pull secret is linked, but to another service account than the one the \
                 pod runs as; `oc secrets link builder <secret>` only serves builds. Link it \
                 to the pod's service account: `oc secrets link default <secret> --for=pull` \
                 (or set `spec.serviceAccountName` to the account that has it), then \
                 recreate the pod."
            }
            Self::WrongSecretType => {
                "The credentials came from a secret of a type this registry or the kubelet \
                 does not accept. registry.connect.redhat.com does not accept the \
                 `kubernetes.io/dockercfg` type (BZ#1476330): run `docker login \
                 registry.connect.redhat.com`, then `oc create secret generic <name> \
                 --from-file=.dockerconfigjson=$HOME/.docker/config.json \
                 --type=kubernetes.io/dockerconfigjson` and `oc secrets link default <name> \
                 --for=pull`. The kubelet reads only secrets of type \
                 kubernetes.io/dockerconfigjson (key .dockerconfigjson) or \
                 kubernetes.io/dockercfg (key .dockercfg)."
            }
            Self::DelegatedAuthEntryMissing => {
                "The registry delegates authentication to a separate auth server (its \
                 WWW-Authenticate realm), and the pull secret has an entry for the registry \
                 but none for the auth server. Create one for each and link both: `oc create \
                 secret docker-registry <name>-auth --docker-server=<auth host> \
                 --docker-username=... --docker-password=... --docker-email=unused`, then \
                 `oc secrets link default <name>-auth --for=pull`."
            }
            Self::ImagePullerRoleMissing => {
                "The internal registry refused a pull of another project's image stream: the \
                 pod's service account has no `system:image-puller` role in the image's \
                 project. Grant it: `oc policy add-role-to-user system:image-puller \
                 system:serviceaccount:<pod project>:<service account> --namespace=<image \
                 project>`, or for every service account of the pod's project `oc policy \
                 add-role-to-group system:image-puller system:serviceaccounts:<pod project> \
                 --namespace=<image project>`."
            }
            Self::PullSecretInvalid => {
                "The pull secret or auth file has problems the kubelet or the registry will \
                 trip over; each finding names its key path. Recreate the secret from a \
                 fresh login: `podman login <registry>` (or `docker login`), then `oc create \
                 secret generic <name> --from-file=.dockerconfigjson=<auth file> \
                 --type=kubernetes.io/dockerconfigjson`, or `oc create secret \
                 docker-registry <name> --docker-server=<registry> --docker-username=... \
                 --docker-password=...`."
            }
            Self::ProxyUnreachable => {
                "The client could not reach its proxy at all: the proxy host or port is \
                 wrong, the proxy is down, or a firewall blocks the way to it. Check the \
                 HTTPS_PROXY/https_proxy value the tool reads, then confirm by hand: curl -v \
                 --proxy <host>:<port> https://registry.redhat.io/v2/ (seed 003) and look for \
                 the connection to the proxy."
            }
            Self::ProxyDeniedHost => {
                "The proxy refused to open a tunnel to this host (403): it is not on the \
                 proxy's allow-list. Both registry.redhat.io and sso.redhat.com must be \
                 allowed (and the registry's CDN host when blobs are redirected). Ask the \
                 proxy administrators to allow the host named in the detail; confirm with \
                 curl -v --proxy <host>:<port> https://<host>/ and look for `CONNECT <host>:443` \
                 answered by `HTTP/1.1 200 Connection established`."
            }
            Self::ProxyAuthRequired => {
                "The proxy requires authentication (407 Proxy Authentication Required) and \
                 got none or wrong credentials. Put them in the proxy URL \
                 (HTTPS_PROXY=http://user:password@proxy:port) for the tool, or \
                 curl --proxy-user user:password; for CRI-O/podman on a cluster node, set them \
                 in the proxy configuration of the node."
            }
            Self::ProxyTunnelFailed => {
                "The proxy accepted the request but could not open the tunnel to the host \
                 (5xx, or it closed or never answered the CONNECT): the proxy cannot reach the \
                 host itself (its DNS, its own firewall or upstream proxy). Check the proxy's \
                 logs for the CONNECT; confirm with curl -v --proxy <host>:<port> \
                 https://registry.redhat.io/v2/."
            }
            Self::FirewallReject => {
                "The direct connection was actively refused: a firewall rejects the traffic \
                 (or the address is wrong). Both registry.redhat.io and sso.redhat.com must be \
                 reachable on port 443, or a proxy must be configured. Confirm with curl -v \
                 https://sso.redhat.com/ (seed 003: failing to reach sso.redhat.com without a \
                 proxy points at a firewall)."
            }
            Self::FirewallTimeout => {
                "The direct connection got no answer before the timeout: a firewall silently \
                 drops the traffic (a blackhole). Allow registry.redhat.io and sso.redhat.com \
                 on port 443, or configure the proxy the network requires. Confirm with \
                 curl -v --connect-timeout 10 https://sso.redhat.com/."
            }
            Self::ConnectionReset => {
                "The connection was reset in the middle of the exchange: a firewall, IPS or \
                 proxy cut it (often on large transfers such as image layers). Check \
                 connection-tracking and content-inspection rules between the client and the \
                 registry and its CDN."
            }
            Self::DnsFailure => {
                "The host name does not resolve on this host. Check /etc/resolv.conf and the \
                 DNS servers (dig sso.redhat.com, dig registry.redhat.io); in a restricted \
                 network, names of external hosts may resolve only on the proxy, so configure \
                 HTTPS_PROXY."
            }
            Self::TlsUnknownAuthority => {
                "The server's certificate was issued by a CA this client does not trust. When \
                 the issuer is a corporate proxy's CA, the proxy intercepts TLS: add that CA \
                 to the host's trust store (update-ca-trust, or /etc/containers/certs.d/<host>/ \
                 for podman/skopeo; additionalTrustedCA on OpenShift), or have the proxy \
                 exempt registry.redhat.io and sso.redhat.com from interception. Confirm with \
                 curl -v https://registry.redhat.io/v2/ and read the issuer it prints."
            }
            Self::HttpResponseToHttpsClient => {
                "The client spoke HTTPS and the server answered in plain HTTP: the registry \
                 is an insecure (HTTP-only) registry, or something on the path answers in \
                 plain text. Use http:// for it and mark it insecure ([[registry]] insecure = \
                 true in registries.conf, --tls-verify=false, or insecureRegistries on \
                 OpenShift); confirm with curl -v http://<host>/v2/."
            }
            Self::BlockedByRegistriesConf => {
                "The node refuses the registry before connecting to it: /etc/containers/\
                 registries.conf has `blocked = true` for its prefix. On OpenShift the file is \
                 rendered from image.config.openshift.io/cluster: remove the registry from \
                 `spec.registrySources.blockedRegistries` (`oc edit image.config.openshift.io/\
                 cluster`); the Machine Config Operator then drains each node, restarts CRI-O \
                 and uncordons it. Never block registry.redhat.io or quay.io: payload pods \
                 need them."
            }
            Self::RejectedByPolicy => {
                "The node's signature policy rejects the image: /etc/containers/policy.json has \
                 `\"default\": [{\"type\": \"reject\"}]` and no entry accepts this registry or \
                 repository. On OpenShift, `spec.registrySources.allowedRegistries` lists the \
                 only registries nodes may pull from: add the registry (or the repository) to \
                 it, remembering registry.redhat.io, quay.io, the internal registry \
                 (image-registry.openshift-image-registry.svc:5000) and, on a disconnected \
                 cluster, the mirror registry. Changing the allowed list updates policy.json \
                 without draining nodes."
            }
            Self::InsecureRegistryNotConfigured => {
                "The registry has no valid TLS (plain HTTP, or a certificate that cannot be \
                 verified) and the node does not treat it as insecure. Either give it a \
                 certificate the node trusts (additionalTrustedCA), or add it to \
                 `spec.registrySources.insecureRegistries` of image.config.openshift.io/cluster \
                 (and to `allowedRegistries` when that list is set); the node then gets \
                 `[[registry]] location = \"<host>\" insecure = true` in registries.conf."
            }
            Self::UntrustedCa => {
                "The registry's certificate is signed by a CA the node does not trust. Give the \
                 node the CA: `oc create configmap registry-config \
                 --from-file=<host>=ca.crt -n openshift-config` (write a port as `..`: \
                 `registry.example.com..5000`), then `oc patch image.config.openshift.io/cluster \
                 --patch '{\"spec\":{\"additionalTrustedCA\":{\"name\":\"registry-config\"}}}' \
                 --type=merge`. Each node then gets /etc/docker/certs.d/<host[:port]>/ca.crt. \
                 For podman or skopeo elsewhere, put the CA in /etc/containers/certs.d/<host>/."
            }
            Self::ShortNameAmbiguous => {
                "A short name (no registry host) can come from several search registries, and \
                 the short-name mode is `enforcing`: without a TTY to ask, the client refuses \
                 to guess (`short-name resolution enforced but cannot prompt without a TTY`). \
                 Use the fully qualified name (registry.redhat.io/ubi8/ubi-minimal), define an \
                 alias in registries.conf.d, or narrow `containerRuntimeSearchRegistries` to \
                 one registry. CRI-O itself tries the search registries in order, which sends \
                 the pull secret to each of them."
            }
            Self::ImageConfigInvalid => {
                "The cluster image configuration has problems; each finding names its field \
                 path. Fix image.config.openshift.io/cluster with `oc edit \
                 image.config.openshift.io/cluster` (set `allowedRegistries` or \
                 `blockedRegistries`, not both; list registry.redhat.io, quay.io, the internal \
                 registry and any mirror in `allowedRegistries`; list each insecure registry \
                 there too), and the CA ConfigMap in openshift-config (keys `host` or \
                 `host..port`, values PEM certificates). Check again with `regharness check \
                 image-config`."
            }
            Self::ClusterObjectInvalid => {
                "The cluster refused the request: a named service account, secret or \
                 build configuration does not exist, or an object name is invalid. Check the \
                 names with `oc get serviceaccounts,secrets,buildconfigs -n <namespace>`."
            }
        }
    }
}

impl std::fmt::Display for DiagnosisClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A classified step result: the class plus what exactly was seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnosis {
    /// The class.
    pub class: DiagnosisClass,
    /// What was seen, in one sentence (no secrets).
    pub detail: String,
}

impl Diagnosis {
    /// A diagnosis of `class` with `detail`.
    pub fn new(class: DiagnosisClass, detail: impl Into<String>) -> Self {
        Self {
            class,
            detail: detail.into(),
        }
    }

    /// The successful diagnosis.
    pub fn ok() -> Self {
        Self::new(DiagnosisClass::Ok, "ok")
    }

    /// Seed 003's rule for a response of the token endpoint.
    ///
    /// ```
    /// use regharness::diagnosis::{Diagnosis, DiagnosisClass};
    /// assert_eq!(Diagnosis::token_endpoint(200, true).class, DiagnosisClass::Ok);
    /// assert_eq!(Diagnosis::token_endpoint(401, true).class, DiagnosisClass::CredentialsRejected);
    /// assert_eq!(Diagnosis::token_endpoint(401, false).class, DiagnosisClass::AuthenticationRequired);
    /// assert_eq!(Diagnosis::token_endpoint(502, true).class, DiagnosisClass::Network);
    /// ```
    pub fn token_endpoint(status: u16, credentials_sent: bool) -> Self {
        match status {
            200 => Self::ok(),
            401 if credentials_sent => Self::new(
                DiagnosisClass::CredentialsRejected,
                "the token endpoint answered 401 Unauthorized to the credentials sent",
            ),
            401 => Self::new(
                DiagnosisClass::AuthenticationRequired,
                "the token endpoint answered 401 Unauthorized and no credentials were sent",
            ),
            other => Self::new(
                DiagnosisClass::Network,
                format!("the token endpoint answered HTTP {other}: neither 200 nor 401"),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case(200, true, DiagnosisClass::Ok)]
    #[case(401, true, DiagnosisClass::CredentialsRejected)]
    #[case(401, false, DiagnosisClass::AuthenticationRequired)]
    #[case(403, true, DiagnosisClass::Network)]
    #[case(407, true, DiagnosisClass::Network)]
    #[case(500, false, DiagnosisClass::Network)]
    #[case(502, true, DiagnosisClass::Network)]
    fn seed_003_rule_splits_token_answers(
        #[case] status: u16,
        #[case] credentials_sent: bool,
        #[case] class: DiagnosisClass,
    ) {
        assert_eq!(
            Diagnosis::token_endpoint(status, credentials_sent).class,
            class
        );
    }

    #[test]
    fn names_round_trip_through_serde() {
        for class in DiagnosisClass::ALL {
            let json = serde_json::to_string(class).unwrap();
            assert_eq!(json, format!("\"{}\"", class.as_str()));
            let back: DiagnosisClass = serde_json::from_str(&json).unwrap();
            assert_eq!(back, *class);
            assert!(!class.remediation().is_empty());
        }
    }
}
