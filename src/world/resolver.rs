//! The world's name service: virtual host names to loopback addresses.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

/// Maps virtual host names (`registry.redhat.io`) to the loopback address of their TLS
/// front, for the world's name service (see `network::WorldNames`). Names outside the
/// world do not resolve: a scenario never reaches the real network.
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
