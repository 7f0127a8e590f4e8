//! Per-registry CA certificates (`certs.d`), looked up as containers/image v5.23 does
//! (`docker.dockerCertDir` + `tlsclientconfig.SetupCertificates`):
//!
//! - the directory is named after the registry as the image names it, `host[:port]`
//!   (`docker.io` for Docker Hub, not `registry-1.docker.io`);
//! - of `/etc/containers/certs.d/<host>` and `/etc/docker/certs.d/<host>` only the FIRST
//!   that exists is used (an empty directory under `/etc/containers` hides the Docker one);
//! - every `*.crt` file in it is a CA added to the system roots, in file-name order.
//!
//! Not modelled: the per-user `~/.config/containers/certs.d` (looked up first by c/image),
//! client certificates (`*.cert` + `*.key`) and the error for a `.cert` without its `.key`.

use std::collections::BTreeMap;
use std::path::Path;

/// The node directories searched, in c/image's order.
pub const CERT_DIRS: [&str; 2] = ["etc/containers/certs.d", "etc/docker/certs.d"];

/// CA certificates by `host[:port]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CertStore {
    by_host: BTreeMap<String, Vec<String>>,
}

impl CertStore {
    /// From `(host[:port], PEM)` pairs; several pairs for one host add up.
    pub fn from_pairs(certs: &[(&str, &str)]) -> Self {
        let mut by_host: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (host, pem) in certs {
            by_host
                .entry(host.to_string())
                .or_default()
                .push(pem.to_string());
        }
        Self { by_host }
    }

    /// Reads `root/etc/containers/certs.d/*/*.crt` and `root/etc/docker/certs.d/*/*.crt`
    /// with c/image's precedence. Missing directories are fine; unreadable ones are errors
    /// `(path, error)`.
    pub fn load(root: &Path) -> Result<Self, (String, std::io::Error)> {
        let mut by_host: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for dir in CERT_DIRS {
            let base = root.join(dir);
            for host_dir in sorted_entries(&base)? {
                if !host_dir.is_dir() {
                    continue;
                }
                let Some(host) = host_dir.file_name().and_then(|n| n.to_str()) else {
                    continue;
                };
                if by_host.contains_key(host) {
                    continue; // an earlier directory exists for this host: it wins
                }
                let mut pems = Vec::new();
                for file in sorted_entries(&host_dir)? {
                    if file.extension().is_some_and(|e| e == "crt") && file.is_file() {
                        let pem = std::fs::read_to_string(&file)
                            .map_err(|e| (file.display().to_string(), e))?;
                        pems.push(pem);
                    }
                }
                by_host.insert(host.to_string(), pems);
            }
        }
        Ok(Self { by_host })
    }

    /// The PEM CAs for `host[:port]` (empty: system roots only).
    pub fn ca_for(&self, host_port: &str) -> Vec<&str> {
        self.by_host
            .get(host_port)
            .map(|v| v.iter().map(String::as_str).collect())
            .unwrap_or_default()
    }
}

/// The entries of `dir` sorted by name (none when it does not exist).
fn sorted_entries(dir: &Path) -> Result<Vec<std::path::PathBuf>, (String, std::io::Error)> {
    let read = match std::fs::read_dir(dir) {
        Ok(r) => r,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err((dir.display().to_string(), e)),
    };
    let mut paths = read
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| (dir.display().to_string(), e))?;
    paths.sort();
    Ok(paths)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, path: &str, text: &str) {
        let p = root.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    #[test]
    fn pairs_add_up_per_host() {
        let s = CertStore::from_pairs(&[("r.io:5000", "A"), ("r.io:5000", "B"), ("q.io", "C")]);
        assert_eq!(s.ca_for("r.io:5000"), ["A", "B"]);
        assert!(s.ca_for("r.io").is_empty());
    }

    #[test]
    fn containers_dir_shadows_docker_dir() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        write(r, "etc/containers/certs.d/a.io/2.crt", "A2");
        write(r, "etc/containers/certs.d/a.io/1.crt", "A1");
        write(r, "etc/containers/certs.d/a.io/client.cert", "not a CA");
        write(r, "etc/docker/certs.d/a.io/ca.crt", "hidden");
        write(r, "etc/docker/certs.d/b.io:5000/ca.crt", "B");
        std::fs::create_dir_all(r.join("etc/containers/certs.d/c.io")).unwrap();
        write(r, "etc/docker/certs.d/c.io/ca.crt", "hidden too");
        let s = CertStore::load(r).unwrap();
        assert_eq!(s.ca_for("a.io"), ["A1", "A2"]);
        assert_eq!(s.ca_for("b.io:5000"), ["B"]);
        assert!(s.ca_for("c.io").is_empty());
        assert!(CertStore::load(&r.join("nothing-here"))
            .unwrap()
            .ca_for("a.io")
            .is_empty());
    }
}
