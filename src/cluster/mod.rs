//! The Kubernetes / OpenShift side of pull secrets (SPEC.md §4): the objects `oc`
//! creates, how the cluster validates and links them, the kubelet's credential keyring,
//! and the checks `regharness check pull-secret` runs.

pub mod check;
pub mod docker_config;
pub mod keyring;
pub mod objects;
pub mod printer;
