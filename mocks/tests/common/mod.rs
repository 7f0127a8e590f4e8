//! What the registry tests share: a plain HTTP client and a response they can inspect.

#![allow(dead_code)] // each test crate uses its own subset

use std::time::Duration;

use regharness_mocks::RunningRegistry;
use reqwest::header::HeaderMap;
use reqwest::{Client, Method, StatusCode};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// `sha256:<hex>` of `data`.
pub fn sha256(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(data)))
}

/// A client that uses no proxy and follows no redirect.
pub fn client() -> Client {
    Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// A response: status, headers and body.
pub struct Got {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Got {
    /// A header that must be present.
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("missing header {name}: {:?}", self.headers))
            .to_str()
            .unwrap()
    }

    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }
}

/// Sends `method path` with `headers` to the registry and checks that the answer
/// carries distribution's `Docker-Distribution-API-Version: registry/2.0`.
pub async fn send(
    reg: &RunningRegistry,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
) -> Got {
    let mut req = client().request(method, format!("{}{path}", reg.uri()));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp.bytes().await.unwrap().to_vec();
    assert_eq!(
        headers
            .get("docker-distribution-api-version")
            .map(|v| v.to_str().unwrap()),
        Some("registry/2.0"),
        "{path}"
    );
    Got {
        status,
        headers,
        body,
    }
}
