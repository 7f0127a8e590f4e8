//! Cluster image configuration (SPEC.md §6, seed 004): the `image.config.openshift.io/cluster`
//! resource, ImageContentSourcePolicies and the additional-trusted-CA ConfigMap, read and
//! checked. (Rendering the node files and enforcing them on pulls come next.)

pub mod input;
pub mod validate;
