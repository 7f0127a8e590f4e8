//! regharness: an end-to-end conformance harness for container-registry authentication.
//!
//! A [`scenario`] describes a small world (SSO, registries) and steps (login, token, ping,
//! pull); the [`runner`] starts the [`world`], drives each step with the builtin
//! [`client`], classifies failures ([`diagnosis`]) and records a redacted
//! [`transcript`] that tests snapshot.

pub mod bench;
pub mod catalogue;
pub mod client;
pub mod cluster;
pub mod diagnosis;
pub mod flow;
pub mod node_config;
pub mod probe;
pub mod redact;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod serve;
pub mod transcript;
pub mod world;
