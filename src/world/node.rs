//! The cluster node a scenario's pulls run on (SPEC.md §6): the files the Machine Config
//! Operator renders from the cluster's image configuration, and the rules containers/image
//! reads back from those files. Pulls obey the files, not the resource: what the node
//! would do is what the rendered text says.

use std::collections::BTreeMap;

use crate::client::transport::HostTls;
use crate::node_config::enforce::NodeRules;
use crate::node_config::input::{ConfigMap, ImageConfig, ImageContentSourcePolicy};
use crate::node_config::render::{self, NodeFiles};
use crate::scenario::model::ClusterSpec;

/// The node of a cluster that has an image configuration.
pub struct NodeState {
    /// `image.config.openshift.io/cluster`.
    pub image_config: ImageConfig,
    /// ImageContentSourcePolicy objects.
    pub icsps: Vec<ImageContentSourcePolicy>,
    /// The additional-trusted-CA ConfigMap, `${CA:HOST}` replaced by the PEM.
    pub ca_configmap: Option<ConfigMap>,
    /// The rendered files and the rules read from them, or why there are none.
    pub rendered: Result<RenderedNode, String>,
}

/// Files on the node and what containers/image makes of them.
pub struct RenderedNode {
    /// `etc/containers/policy.json`, `registries.conf`, drop-ins, `etc/docker/certs.d`.
    pub files: NodeFiles,
    /// The rules containers/image reads from `files`.
    pub rules: NodeRules,
}

impl NodeState {
    /// The node of `cluster`, when it has an image configuration. `own_cas` maps a
    /// registry host to the PEM of its own CA (for `${CA:HOST}`).
    pub fn from_cluster(cluster: &ClusterSpec, own_cas: &BTreeMap<String, String>) -> Option<Self> {
        let image_config = cluster.image_config.as_ref()?.value.clone();
        let icsps: Vec<ImageContentSourcePolicy> =
            cluster.icsps.iter().map(|i| i.value.clone()).collect();
        let ca_configmap = cluster.ca_configmap.as_ref().map(|c| {
            let mut c = c.value.clone();
            for value in c.data.values_mut() {
                *value = substitute_ca_placeholders(value, own_cas);
            }
            c
        });
        let options = render::RenderOptions {
            release_image: cluster.release_image.clone(),
        };
        let rendered = render::render_with(&image_config, &icsps, ca_configmap.as_ref(), &options)
            .map(|rendering| rendering.files)
            .map_err(|e| format!("the Machine Config Operator cannot render the node files: {e}"))
            .and_then(|mut files| {
                for extra in &cluster.node_files {
                    let path = extra.value.path.trim_start_matches('/');
                    files.insert(path, &extra.value.content);
                }
                let rules = rules_of(&files)
                    .map_err(|e| format!("containers/image cannot read the rendered files: {e}"))?;
                Ok(RenderedNode { files, rules })
            });
        Some(Self {
            image_config,
            icsps,
            ca_configmap,
            rendered,
        })
    }
}

impl RenderedNode {
    /// TLS settings per `host:port` for the node's client: the CA files of
    /// `etc/docker/certs.d/HOST[:PORT]/`, and `insecure` for the endpoints given.
    pub fn host_tls(&self, insecure_endpoints: &[String]) -> BTreeMap<String, HostTls> {
        let mut out: BTreeMap<String, HostTls> = BTreeMap::new();
        for (host, pem) in self.files.ca_certificates() {
            out.entry(with_default_port(&host))
                .or_default()
                .extra_roots_pem
                .push(pem);
        }
        for endpoint in insecure_endpoints {
            out.entry(with_default_port(endpoint)).or_default().insecure = true;
        }
        out
    }
}

/// The rules containers/image reads from rendered files.
pub fn rules_of(files: &NodeFiles) -> Result<NodeRules, crate::node_config::enforce::RulesError> {
    const DROP_IN_DIR: &str = "etc/containers/registries.conf.d/";
    let drop_ins: Vec<(&str, &str)> = files
        .iter()
        .filter_map(|(path, content)| {
            let name = path.strip_prefix(DROP_IN_DIR)?;
            (name.ends_with(".conf") && !name.contains('/')).then_some((name, content))
        })
        .collect();
    let certs = files.ca_certificates();
    let cert_refs: Vec<(&str, &str)> = certs
        .iter()
        .map(|(h, p)| (h.as_str(), p.as_str()))
        .collect();
    NodeRules::parse(
        files.get(render::REGISTRIES_CONF),
        &drop_ins,
        files.get(render::POLICY_JSON),
        &cert_refs,
    )
}

/// `host` → `host:443`; `host:port` unchanged (a certs.d folder without a port is for
/// the default HTTPS port).
fn with_default_port(host: &str) -> String {
    let host = host.to_ascii_lowercase();
    if host
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
    {
        host
    } else {
        format!("{host}:443")
    }
}

/// The hosts named by `${CA:HOST}` placeholders in `value`.
///
/// ```
/// use regharness::world::ca_placeholders;
/// assert_eq!(ca_placeholders("${CA:reg.example.com}\n${CA:b.io}"), vec!["reg.example.com", "b.io"]);
/// assert!(ca_placeholders("-----BEGIN CERTIFICATE-----").is_empty());
/// ```
pub fn ca_placeholders(value: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = value;
    while let Some(start) = rest.find("${CA:") {
        let after = &rest[start + 5..];
        match after.find('}') {
            Some(end) => {
                out.push(&after[..end]);
                rest = &after[end + 1..];
            }
            None => break,
        }
    }
    out
}

fn substitute_ca_placeholders(value: &str, own_cas: &BTreeMap<String, String>) -> String {
    let mut out = value.to_string();
    for host in ca_placeholders(value) {
        if let Some(pem) = own_cas.get(&host.to_ascii_lowercase()) {
            out = out.replace(&format!("${{CA:{host}}}"), pem.trim_end());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_replaced_by_the_registry_ca() {
        let mut cas = BTreeMap::new();
        cas.insert("reg.example.com".to_string(), "PEM\n".to_string());
        assert_eq!(
            substitute_ca_placeholders("${CA:Reg.example.com}\n", &cas),
            "PEM\n"
        );
        assert_eq!(
            substitute_ca_placeholders("${CA:other}", &cas),
            "${CA:other}"
        );
    }

    #[test]
    fn certs_d_folders_without_port_mean_443() {
        assert_eq!(with_default_port("Reg.io"), "reg.io:443");
        assert_eq!(with_default_port("reg.io:5000"), "reg.io:5000");
    }
}
