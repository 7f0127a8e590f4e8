//! `regharness-mocks`: in-process mocks of the services a container-registry login,
//! token and pull involve, faithful enough for real clients (skopeo, podman, curl) and
//! for a real CNCF distribution registry to trust the tokens.
//!
//! - [`TokenService`]: Red Hat SSO's docker-v2 token endpoint
//!   (`/auth/realms/{realm}/protocol/redhat-docker-v2/auth`), RS256 JWTs, accounts.
//! - [`MockRegistry`]: the pull side of the OCI distribution API, anonymous, bearer, or
//!   OpenShift's integrated registry (tokens checked by a [`PullAuthorizer`]).
//! - [`CertificateAuthority`] and [`TlsFront`]: per-world CA and a TLS terminator per
//!   virtual host (`registry.redhat.io` on 127.0.0.1:PORT).
//! - [`Clock`]: a shared clock that tests move forward to expire tokens.
//!
//! Every mock binds 127.0.0.1 on a random port, so many worlds run side by side.

pub mod child;
pub mod clock;
pub mod distribution;
pub mod firewall;
pub mod front;
pub mod proxy;
pub mod registry;
pub mod scope;
pub mod signing;
pub mod squid;
pub mod sso;
pub mod tls;
pub mod token;

pub use clock::Clock;
pub use firewall::{Firewall, RouteError, Verdict};
pub use front::TlsFront;
pub use proxy::{
    MockProxy, MockProxyBuilder, ProxyError, ProxyEvent, RunningProxy, StaticUpstream,
    TunnelFailure, Upstream,
};
pub use registry::{AuthMode, ImageSpec, MockRegistry, PullAuthorizer, RunningRegistry};
pub use scope::{ResourceActions, ScopeParseError};
pub use signing::SigningKey;
pub use sso::{Account, TokenService};
pub use tls::CertificateAuthority;
pub use token::{TokenClaims, TokenError, TokenVerifier, VerificationKey};
