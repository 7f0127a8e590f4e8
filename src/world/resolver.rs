//! The world's name service: virtual host names to loopback addresses.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Maps virtual host names (`registry.redhat.io`) to the loopback address of their TLS
/// front. Names outside the world fail like an unknown host: a scenario never reaches
/// the real network.
#[derive(Debug, Clone, Default)]
pub struct HostMap {
    hosts: Arc<HashMap<String, SocketAddr>>,
}

impl HostMap {
    /// A map of the given names.
    pub fn new(hosts: HashMap<String, SocketAddr>) -> Self {
        Self {
            hosts: Arc::new(hosts),
        }
    }

    /// The address of `host`, if it is part of the world.
    pub fn get(&self, host: &str) -> Option<SocketAddr> {
        self.hosts.get(&host.to_ascii_lowercase()).copied()
    }

    /// All names, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.hosts.keys().cloned().collect();
        names.sort();
        names
    }
}

/// Error of a name outside the world.
#[derive(Debug, thiserror::Error)]
#[error("dns error: no such host {0:?} in this world")]
pub struct UnknownHost(pub String);

impl Resolve for HostMap {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_string();
        let found = self.get(&host);
        Box::pin(async move {
            match found {
                Some(addr) => Ok(Box::new(std::iter::once(addr)) as Addrs),
                None => Err(Box::new(UnknownHost(host)) as _),
            }
        })
    }
}
