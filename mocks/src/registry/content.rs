//! Real, deterministic image content: gzip'd tar layers, image configs, manifests and
//! indexes, generated once when a registry starts.
//!
//! Every byte derives from the [`ImageSpec`] (repository, tag, platform, layer index),
//! so the same spec always yields the same digests.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io::Write;

use bytes::Bytes;
use flate2::{Compression, GzBuilder};
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};

use super::names::{valid_tag, validate_name};
use super::RegistryError;

/// Docker schema 2 image manifest.
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker image config.
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
/// Docker gzip'd layer.
pub const DOCKER_LAYER: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
/// OCI image manifest.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image config.
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
/// OCI gzip'd layer.
pub const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
/// OCI image index.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

const DEFAULT_LAYERS: usize = 1;
const DEFAULT_LAYER_SIZE: usize = 16 * 1024;
/// The timestamp every generated artefact carries.
const EPOCH: &str = "1970-01-01T00:00:00Z";

/// An image a [`MockRegistry`](super::MockRegistry) serves: a repository, a tag and
/// the kind of manifest behind it.
///
/// ```
/// use regharness_mocks::ImageSpec;
/// let pcp = ImageSpec::docker("rhel8/pcp", "latest");
/// let ubi = ImageSpec::oci("ubi8/ubi", "8.9").platform("linux/arm64/v8");
/// let minimal = ImageSpec::multi_arch("ubi8/ubi-minimal", "latest", &["amd64", "arm64"]);
/// let rhel = ImageSpec::docker("rhel", "latest").layers(2).layer_size(64 * 1024);
/// # let _ = (pcp, ubi, minimal, rhel);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageSpec {
    repository: String,
    tag: String,
    kind: ImageKind,
    platform: String,
    layers: usize,
    layer_size: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum ImageKind {
    Docker,
    Oci,
    MultiArch(Vec<String>),
}

impl ImageSpec {
    fn new(repository: impl Into<String>, tag: impl Into<String>, kind: ImageKind) -> Self {
        Self {
            repository: repository.into(),
            tag: tag.into(),
            kind,
            platform: "linux/amd64".into(),
            layers: DEFAULT_LAYERS,
            layer_size: DEFAULT_LAYER_SIZE,
        }
    }

    /// A Docker schema 2 image (`application/vnd.docker.distribution.manifest.v2+json`)
    /// for linux/amd64.
    pub fn docker(repository: impl Into<String>, tag: impl Into<String>) -> Self {
        Self::new(repository, tag, ImageKind::Docker)
    }

    /// An OCI image (`application/vnd.oci.image.manifest.v1+json`) for linux/amd64.
    pub fn oci(repository: impl Into<String>, tag: impl Into<String>) -> Self {
        Self::new(repository, tag, ImageKind::Oci)
    }

    /// An OCI index (`application/vnd.oci.image.index.v1+json`) with one OCI image per
    /// platform. A platform is `ARCH` (OS linux) or `OS/ARCH[/VARIANT]`:
    /// `&["amd64", "arm64", "ppc64le", "s390x"]`.
    pub fn multi_arch(
        repository: impl Into<String>,
        tag: impl Into<String>,
        platforms: &[&str],
    ) -> Self {
        let platforms = platforms.iter().map(|p| p.to_string()).collect();
        Self::new(repository, tag, ImageKind::MultiArch(platforms))
    }

    /// The platform of a single-platform image (`ARCH` or `OS/ARCH[/VARIANT]`;
    /// default `linux/amd64`). Ignored by [`ImageSpec::multi_arch`].
    pub fn platform(mut self, platform: impl Into<String>) -> Self {
        self.platform = platform.into();
        self
    }

    /// Number of layers of each image (default 1).
    pub fn layers(mut self, layers: usize) -> Self {
        self.layers = layers;
        self
    }

    /// Size in bytes of the pseudo-random file inside each layer, before compression
    /// (default 16 KiB). The compressed layer is slightly larger, since the data does
    /// not compress.
    pub fn layer_size(mut self, bytes: usize) -> Self {
        self.layer_size = bytes;
        self
    }

    /// The repository, e.g. `rhel8/pcp`.
    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// The tag, e.g. `latest`.
    pub fn tag(&self) -> &str {
        &self.tag
    }
}

/// `os/architecture[/variant]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Platform {
    pub(crate) os: String,
    pub(crate) architecture: String,
    pub(crate) variant: Option<String>,
}

impl Platform {
    fn parse(s: &str) -> Result<Self, RegistryError> {
        let err = || RegistryError::InvalidPlatform {
            platform: s.to_string(),
        };
        let parts: Vec<&str> = s.split('/').collect();
        let (os, architecture, variant) = match parts.as_slice() {
            [arch] => ("linux", *arch, None),
            [os, arch] => (*os, *arch, None),
            [os, arch, variant] => (*os, *arch, Some(*variant)),
            _ => return Err(err()),
        };
        let word = |w: &str| {
            !w.is_empty()
                && w.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        };
        if !word(os) || !word(architecture) || !variant.is_none_or(word) {
            return Err(err());
        }
        Ok(Self {
            os: os.into(),
            architecture: architecture.into(),
            variant: variant.map(str::to_string),
        })
    }

    fn json(&self) -> Value {
        let mut v = json!({ "architecture": self.architecture, "os": self.os });
        if let Some(variant) = &self.variant {
            v["variant"] = json!(variant);
        }
        v
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

/// A manifest as stored: its bytes are served verbatim.
#[derive(Debug, Clone)]
pub(crate) struct StoredManifest {
    pub(crate) media_type: &'static str,
    pub(crate) bytes: Bytes,
}

/// One repository's content.
#[derive(Debug, Default)]
pub(crate) struct Repository {
    /// Tag → manifest digest, in lexical order (as distribution lists them).
    pub(crate) tags: BTreeMap<String, String>,
    /// Digest → manifest (image manifests and indexes).
    pub(crate) manifests: HashMap<String, StoredManifest>,
    /// Digest → blob (layers, configs, and manifests, which are blobs too).
    pub(crate) blobs: HashMap<String, Bytes>,
    /// Per tag: the platform manifests of an index.
    pub(crate) platforms: HashMap<String, Vec<(Platform, String)>>,
}

/// Everything a registry serves, by repository name.
#[derive(Debug, Default)]
pub(crate) struct Store {
    pub(crate) repositories: BTreeMap<String, Repository>,
}

impl Store {
    /// Generates the content of every spec.
    pub(crate) fn build(specs: &[ImageSpec]) -> Result<Self, RegistryError> {
        let mut store = Store::default();
        for spec in specs {
            validate_name(&spec.repository).map_err(|reason| RegistryError::InvalidRepository {
                name: spec.repository.clone(),
                reason: reason.to_string(),
            })?;
            if !valid_tag(&spec.tag) {
                return Err(RegistryError::InvalidTag {
                    tag: spec.tag.clone(),
                });
            }
            let repo = store
                .repositories
                .entry(spec.repository.clone())
                .or_default();
            if repo.tags.contains_key(&spec.tag) {
                return Err(RegistryError::DuplicateTag {
                    repository: spec.repository.clone(),
                    tag: spec.tag.clone(),
                });
            }
            let digest = match &spec.kind {
                ImageKind::Docker | ImageKind::Oci => {
                    let platform = Platform::parse(&spec.platform)?;
                    repo.add_image(spec, &platform)
                }
                ImageKind::MultiArch(platforms) => {
                    if platforms.is_empty() {
                        return Err(RegistryError::NoPlatforms {
                            repository: spec.repository.clone(),
                            tag: spec.tag.clone(),
                        });
                    }
                    let mut children = Vec::with_capacity(platforms.len());
                    for p in platforms {
                        let platform = Platform::parse(p)?;
                        if children.iter().any(|(q, _, _)| q == &platform) {
                            return Err(RegistryError::InvalidPlatform {
                                platform: format!("{p} (listed twice)"),
                            });
                        }
                        let digest = repo.add_image(spec, &platform);
                        let size = repo.manifests[&digest].bytes.len();
                        children.push((platform, digest, size));
                    }
                    let manifests: Vec<Value> = children
                        .iter()
                        .map(|(platform, digest, size)| {
                            json!({
                                "mediaType": OCI_MANIFEST,
                                "size": size,
                                "digest": digest,
                                "platform": platform.json(),
                            })
                        })
                        .collect();
                    let index = json!({
                        "schemaVersion": 2,
                        "mediaType": OCI_INDEX,
                        "manifests": manifests,
                    });
                    let digest = repo.put_manifest(OCI_INDEX, pretty(&index));
                    repo.platforms.insert(
                        spec.tag.clone(),
                        children.into_iter().map(|(p, d, _)| (p, d)).collect(),
                    );
                    digest
                }
            };
            repo.tags.insert(spec.tag.clone(), digest);
        }
        Ok(store)
    }
}

impl Repository {
    /// Generates one single-platform image (layers, config, manifest); returns the
    /// manifest digest.
    fn add_image(&mut self, spec: &ImageSpec, platform: &Platform) -> String {
        let oci = !matches!(spec.kind, ImageKind::Docker);
        let (manifest_type, config_type, layer_type) = if oci {
            (OCI_MANIFEST, OCI_CONFIG, OCI_LAYER)
        } else {
            (DOCKER_MANIFEST, DOCKER_CONFIG, DOCKER_LAYER)
        };
        let mut layers = Vec::with_capacity(spec.layers);
        let mut diff_ids = Vec::with_capacity(spec.layers);
        let mut history = Vec::with_capacity(spec.layers);
        for index in 0..spec.layers {
            let tar = layer_tar(spec, platform, index);
            diff_ids.push(sha256_digest(&tar));
            let gz = gzip(&tar);
            layers.push(json!({
                "mediaType": layer_type,
                "size": gz.len(),
                "digest": self.put_blob(gz),
            }));
            history.push(json!({
                "created": EPOCH,
                "created_by": format!(
                    "regharness-mocks: layer {index} of {}:{} ({platform})",
                    spec.repository, spec.tag
                ),
            }));
        }
        let mut config = json!({
            "created": EPOCH,
            "architecture": platform.architecture,
            "os": platform.os,
        });
        if let Some(variant) = &platform.variant {
            config["variant"] = json!(variant);
        }
        config["config"] = json!({
            "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
            "Cmd": ["/bin/sh"],
            "Labels": {
                "io.regharness.repository": spec.repository,
                "io.regharness.tag": spec.tag,
            },
        });
        config["rootfs"] = json!({ "type": "layers", "diff_ids": diff_ids });
        config["history"] = json!(history);
        let config = Bytes::from(serde_json::to_vec(&config).expect("JSON values serialise"));
        let config_size = config.len();
        let config_digest = self.put_blob(config);
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": manifest_type,
            "config": {
                "mediaType": config_type,
                "size": config_size,
                "digest": config_digest,
            },
            "layers": layers,
        });
        self.put_manifest(manifest_type, pretty(&manifest))
    }

    fn put_blob(&mut self, bytes: Bytes) -> String {
        let digest = sha256_digest(&bytes);
        self.blobs.insert(digest.clone(), bytes);
        digest
    }

    fn put_manifest(&mut self, media_type: &'static str, bytes: Bytes) -> String {
        let digest = self.put_blob(bytes.clone());
        self.manifests
            .insert(digest.clone(), StoredManifest { media_type, bytes });
        digest
    }
}

/// One repository's generated content, in the order a client pushes it: every blob
/// (layers and configs), then the manifests (platform manifests before the index that
/// lists them), then the tags.
#[derive(Debug, Clone)]
pub struct ExportedRepository {
    /// The repository name (`rhel8/pcp`).
    pub name: String,
    /// `(digest, bytes)` of every layer and config.
    pub blobs: Vec<(String, Bytes)>,
    /// `(digest, media type, bytes)` of every manifest and index, children first.
    pub manifests: Vec<(String, &'static str, Bytes)>,
    /// `(tag, manifest digest)`.
    pub tags: Vec<(String, String)>,
}

/// The content a [`MockRegistry`](super::MockRegistry) built from `specs` would serve,
/// byte for byte, for pushing it into another registry.
pub fn export(specs: &[ImageSpec]) -> Result<Vec<ExportedRepository>, RegistryError> {
    let store = Store::build(specs)?;
    Ok(store
        .repositories
        .into_iter()
        .map(|(name, repo)| {
            let mut blobs: Vec<(String, Bytes)> = repo
                .blobs
                .iter()
                .filter(|(digest, _)| !repo.manifests.contains_key(*digest))
                .map(|(d, b)| (d.clone(), b.clone()))
                .collect();
            blobs.sort_by(|a, b| a.0.cmp(&b.0));
            let tagged: Vec<&String> = repo.tags.values().collect();
            let mut manifests: Vec<(String, &'static str, Bytes)> = repo
                .manifests
                .iter()
                .map(|(d, m)| (d.clone(), m.media_type, m.bytes.clone()))
                .collect();
            // Untagged (platform) manifests first: an index may only name pushed ones.
            manifests.sort_by_key(|(d, _, _)| (tagged.contains(&d), d.clone()));
            let tags = repo.tags.into_iter().collect();
            ExportedRepository {
                name,
                blobs,
                manifests,
                tags,
            }
        })
        .collect())
}

fn pretty(value: &Value) -> Bytes {
    Bytes::from(serde_json::to_vec_pretty(value).expect("JSON values serialise"))
}

/// `sha256:<hex>` of `data`.
pub(crate) fn sha256_digest(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(data)))
}

/// The uncompressed tar of one layer: a few small text files and one pseudo-random
/// file of `layer_size` bytes, all owned by root with fixed modes and mtime 0.
fn layer_tar(spec: &ImageSpec, platform: &Platform, index: usize) -> Vec<u8> {
    let seed = format!(
        "regharness-mocks\0{}\0{}\0{platform}\0{index}",
        spec.repository, spec.tag
    );
    let mut entries: Vec<(String, Vec<u8>)> = Vec::new();
    if index == 0 {
        entries.push(("etc/".into(), Vec::new()));
        entries.push((
            "etc/os-release".into(),
            format!(
                "NAME=\"regharness mock image\"\nID=regharness\nVERSION_ID=\"{}\"\nPRETTY_NAME=\"{}:{}\"\n",
                spec.tag, spec.repository, spec.tag
            )
            .into_bytes(),
        ));
    }
    entries.push(("regharness/".into(), Vec::new()));
    entries.push((
        format!("regharness/layer-{index}.txt"),
        format!(
            "repository: {}\ntag: {}\nplatform: {platform}\nlayer: {index}\n",
            spec.repository, spec.tag
        )
        .into_bytes(),
    ));
    entries.push((
        format!("regharness/layer-{index}.bin"),
        pseudo_random(seed.as_bytes(), spec.layer_size),
    ));

    let mut builder = tar::Builder::new(Vec::new());
    for (path, data) in entries {
        let mut header = tar::Header::new_ustar();
        if path.ends_with('/') {
            header.set_entry_type(tar::EntryType::Directory);
            header.set_mode(0o755);
        } else {
            header.set_entry_type(tar::EntryType::Regular);
            header.set_mode(0o644);
        }
        header.set_size(data.len() as u64);
        header.set_mtime(0);
        header.set_uid(0);
        header.set_gid(0);
        // Writing to a Vec cannot fail, and the names are short ASCII.
        header
            .set_username("root")
            .and_then(|()| header.set_groupname("root"))
            .expect("short ASCII owner names fit a ustar header");
        builder
            .append_data(&mut header, &path, data.as_slice())
            .expect("appending to an in-memory tar cannot fail");
    }
    builder
        .into_inner()
        .expect("finishing an in-memory tar cannot fail")
}

/// gzip with a zeroed header timestamp, so equal input gives equal output.
fn gzip(data: &[u8]) -> Bytes {
    let mut encoder = GzBuilder::new().mtime(0).write(
        Vec::with_capacity(data.len() / 2 + 64),
        Compression::default(),
    );
    encoder
        .write_all(data)
        .expect("compressing into memory cannot fail");
    Bytes::from(
        encoder
            .finish()
            .expect("compressing into memory cannot fail"),
    )
}

/// SHA-256 in counter mode: `len` bytes that look random and depend only on `seed`.
fn pseudo_random(seed: &[u8], len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 32);
    let mut counter: u64 = 0;
    while out.len() < len {
        let mut h = Sha256::new();
        h.update(seed);
        h.update(counter.to_be_bytes());
        out.extend_from_slice(&h.finalize());
        counter += 1;
    }
    out.truncate(len);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn gunzip(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(data)
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn docker_image_is_consistent() {
        let store = Store::build(&[ImageSpec::docker("rhel8/pcp", "latest").layers(2)]).unwrap();
        let repo = &store.repositories["rhel8/pcp"];
        let digest = &repo.tags["latest"];
        let manifest = &repo.manifests[digest];
        assert_eq!(manifest.media_type, DOCKER_MANIFEST);
        assert_eq!(&sha256_digest(&manifest.bytes), digest);
        let m: Value = serde_json::from_slice(&manifest.bytes).unwrap();
        assert_eq!(m["mediaType"], DOCKER_MANIFEST);
        assert_eq!(m["config"]["mediaType"], DOCKER_CONFIG);
        let config = &repo.blobs[m["config"]["digest"].as_str().unwrap()];
        assert_eq!(m["config"]["size"], config.len());
        let config: Value = serde_json::from_slice(config).unwrap();
        assert_eq!(config["architecture"], "amd64");
        assert_eq!(config["os"], "linux");
        assert_eq!(config["rootfs"]["type"], "layers");
        let layers = m["layers"].as_array().unwrap();
        assert_eq!(layers.len(), 2);
        for (i, layer) in layers.iter().enumerate() {
            assert_eq!(layer["mediaType"], DOCKER_LAYER);
            let blob = &repo.blobs[layer["digest"].as_str().unwrap()];
            assert_eq!(layer["size"], blob.len());
            assert_eq!(layer["digest"], sha256_digest(blob));
            let tar = gunzip(blob);
            assert_eq!(config["rootfs"]["diff_ids"][i], sha256_digest(&tar));
            let mut archive = tar::Archive::new(tar.as_slice());
            let mut names = Vec::new();
            for entry in archive.entries().unwrap() {
                let entry = entry.unwrap();
                assert_eq!(entry.header().mtime().unwrap(), 0);
                assert_eq!(entry.header().uid().unwrap(), 0);
                names.push(entry.path().unwrap().display().to_string());
            }
            assert!(
                names.contains(&format!("regharness/layer-{i}.bin")),
                "{names:?}"
            );
        }
        // gzip header: magic, deflate, no flags, mtime 0.
        let first = &repo.blobs[layers[0]["digest"].as_str().unwrap()];
        assert_eq!(&first[..8], &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn index_lists_platform_manifests() {
        let store = Store::build(&[ImageSpec::multi_arch(
            "ubi8/ubi-minimal",
            "latest",
            &["amd64", "linux/arm64/v8", "ppc64le", "s390x"],
        )])
        .unwrap();
        let repo = &store.repositories["ubi8/ubi-minimal"];
        let index = &repo.manifests[&repo.tags["latest"]];
        assert_eq!(index.media_type, OCI_INDEX);
        let v: Value = serde_json::from_slice(&index.bytes).unwrap();
        let manifests = v["manifests"].as_array().unwrap();
        assert_eq!(manifests.len(), 4);
        assert_eq!(manifests[1]["platform"]["architecture"], "arm64");
        assert_eq!(manifests[1]["platform"]["variant"], "v8");
        for m in manifests {
            let child = &repo.manifests[m["digest"].as_str().unwrap()];
            assert_eq!(child.media_type, OCI_MANIFEST);
            assert_eq!(m["size"], child.bytes.len());
            let c: Value = serde_json::from_slice(&child.bytes).unwrap();
            let config = &repo.blobs[c["config"]["digest"].as_str().unwrap()];
            let config: Value = serde_json::from_slice(config).unwrap();
            assert_eq!(config["architecture"], m["platform"]["architecture"]);
        }
    }

    #[test]
    fn same_spec_same_bytes_and_different_specs_differ() {
        let spec = ImageSpec::oci("ubi8/ubi", "8.9");
        let a = Store::build(std::slice::from_ref(&spec)).unwrap();
        let b = Store::build(std::slice::from_ref(&spec)).unwrap();
        assert_eq!(
            a.repositories["ubi8/ubi"].tags,
            b.repositories["ubi8/ubi"].tags
        );
        let c = Store::build(&[ImageSpec::oci("ubi8/ubi", "8.10")]).unwrap();
        assert_ne!(
            a.repositories["ubi8/ubi"].tags["8.9"],
            c.repositories["ubi8/ubi"].tags["8.10"]
        );
    }

    #[test]
    fn bad_specs_are_rejected() {
        assert!(matches!(
            Store::build(&[ImageSpec::docker("RHEL", "latest")]),
            Err(RegistryError::InvalidRepository { .. })
        ));
        assert!(matches!(
            Store::build(&[ImageSpec::docker("rhel", "-bad")]),
            Err(RegistryError::InvalidTag { .. })
        ));
        assert!(matches!(
            Store::build(&[
                ImageSpec::docker("rhel", "latest"),
                ImageSpec::oci("rhel", "latest")
            ]),
            Err(RegistryError::DuplicateTag { .. })
        ));
        assert!(matches!(
            Store::build(&[ImageSpec::multi_arch("rhel", "latest", &[])]),
            Err(RegistryError::NoPlatforms { .. })
        ));
        assert!(matches!(
            Store::build(&[ImageSpec::multi_arch("rhel", "latest", &["amd64", "amd64"])]),
            Err(RegistryError::InvalidPlatform { .. })
        ));
        assert!(matches!(
            Store::build(&[ImageSpec::docker("rhel", "latest").platform("a/b/c/d")]),
            Err(RegistryError::InvalidPlatform { .. })
        ));
    }
}
