//! Cluster image configuration (SPEC.md §6, seed 004): the `image.config.openshift.io/cluster`
//! resource, ImageContentSourcePolicies and the additional-trusted-CA ConfigMap: read and
//! checked (`input`, `validate`), rendered into the files the Machine Config Operator writes
//! on every node (`render`), and applied to pulls the way containers/image reads those files
//! (`enforce`).

pub mod enforce;
pub mod input;
pub mod render;
pub mod validate;
