//! The distribution error envelope: `{"errors":[{"code":..,"message":..,"detail":..}]}`.
//!
//! Codes, messages and HTTP statuses are those CNCF distribution registers in
//! `registry/api/errcode/register.go`; the body is written the way its
//! `errcode.ServeJSON` writes it (Go's `json.Encoder`: compact, HTML characters escaped,
//! a trailing newline).

use bytes::Bytes;
use hyper::StatusCode;
use serde_json::{json, Map, Value};

/// The distribution error codes this mock answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorCode {
    /// `UNSUPPORTED`, 405.
    Unsupported,
    /// `UNAUTHORIZED`, 401.
    Unauthorized,
    /// `DENIED`, 403.
    Denied,
    /// `DIGEST_INVALID`, 400.
    DigestInvalid,
    /// `NAME_INVALID`, 400.
    NameInvalid,
    /// `NAME_UNKNOWN`, 404.
    NameUnknown,
    /// `MANIFEST_UNKNOWN`, 404.
    ManifestUnknown,
    /// `BLOB_UNKNOWN`, 404.
    BlobUnknown,
    /// `BLOB_UPLOAD_UNKNOWN`, 404.
    BlobUploadUnknown,
    /// `PAGINATION_NUMBER_INVALID`, 400.
    PaginationNumberInvalid,
}

impl ErrorCode {
    /// The `code` value.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Unsupported => "UNSUPPORTED",
            Self::Unauthorized => "UNAUTHORIZED",
            Self::Denied => "DENIED",
            Self::DigestInvalid => "DIGEST_INVALID",
            Self::NameInvalid => "NAME_INVALID",
            Self::NameUnknown => "NAME_UNKNOWN",
            Self::ManifestUnknown => "MANIFEST_UNKNOWN",
            Self::BlobUnknown => "BLOB_UNKNOWN",
            Self::BlobUploadUnknown => "BLOB_UPLOAD_UNKNOWN",
            Self::PaginationNumberInvalid => "PAGINATION_NUMBER_INVALID",
        }
    }

    /// The default `message`, exactly as distribution registers it.
    pub(crate) fn message(self) -> &'static str {
        match self {
            Self::Unsupported => "The operation is unsupported.",
            Self::Unauthorized => "authentication required",
            Self::Denied => "requested access to the resource is denied",
            Self::DigestInvalid => "provided digest did not match uploaded content",
            Self::NameInvalid => "invalid repository name",
            Self::NameUnknown => "repository name not known to registry",
            Self::ManifestUnknown => "manifest unknown",
            Self::BlobUnknown => "blob unknown to registry",
            Self::BlobUploadUnknown => "blob upload unknown to registry",
            Self::PaginationNumberInvalid => "invalid number of results requested",
        }
    }

    /// The HTTP status distribution pairs with the code.
    pub(crate) fn status(self) -> StatusCode {
        match self {
            Self::Unsupported => StatusCode::METHOD_NOT_ALLOWED,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Denied => StatusCode::FORBIDDEN,
            Self::DigestInvalid | Self::NameInvalid | Self::PaginationNumberInvalid => {
                StatusCode::BAD_REQUEST
            }
            Self::NameUnknown
            | Self::ManifestUnknown
            | Self::BlobUnknown
            | Self::BlobUploadUnknown => StatusCode::NOT_FOUND,
        }
    }
}

/// One entry of the `errors` array.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RegistryErrorEntry {
    pub(crate) code: ErrorCode,
    /// `None` uses the code's default message.
    pub(crate) message: Option<String>,
    /// `None` omits `detail` (Go's `omitempty` on a nil interface); `Some(Value::Null)`
    /// writes `"detail":null`, as distribution does for a nil slice.
    pub(crate) detail: Option<Value>,
}

impl RegistryErrorEntry {
    /// An entry with the default message and no detail.
    pub(crate) fn new(code: ErrorCode) -> Self {
        Self {
            code,
            message: None,
            detail: None,
        }
    }

    /// Sets the detail.
    pub(crate) fn detail(mut self, detail: Value) -> Self {
        self.detail = Some(detail);
        self
    }

    /// Replaces the message.
    pub(crate) fn message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }

    /// The HTTP status of a response carrying this entry first.
    pub(crate) fn status(&self) -> StatusCode {
        self.code.status()
    }

    /// The full response body: the envelope holding just this entry.
    pub(crate) fn body(&self) -> Bytes {
        envelope(std::slice::from_ref(self))
    }
}

/// Serialises the envelope like distribution's `errcode.ServeJSON`.
pub(crate) fn envelope(entries: &[RegistryErrorEntry]) -> Bytes {
    let errors: Vec<Value> = entries
        .iter()
        .map(|e| {
            let mut obj = Map::new();
            obj.insert("code".into(), json!(e.code.as_str()));
            obj.insert(
                "message".into(),
                json!(e.message.as_deref().unwrap_or(e.code.message())),
            );
            if let Some(detail) = &e.detail {
                obj.insert("detail".into(), detail.clone());
            }
            Value::Object(obj)
        })
        .collect();
    go_json(&json!({ "errors": errors }))
}

/// Serialises `value` the way Go's `json.NewEncoder(w).Encode(v)` does: compact, with
/// `<`, `>`, `&`, U+2028 and U+2029 escaped, and a trailing newline.
pub(crate) fn go_json(value: &Value) -> Bytes {
    let compact = value.to_string();
    let mut out = String::with_capacity(compact.len() + 1);
    for c in compact.chars() {
        match c {
            // These characters can only occur inside JSON strings, so escaping them
            // in place keeps the document valid.
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out.push('\n');
    Bytes::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_matches_distribution_shape() {
        let body = RegistryErrorEntry::new(ErrorCode::BlobUnknown)
            .detail(json!("sha256:abc"))
            .body();
        assert_eq!(
            &body[..],
            b"{\"errors\":[{\"code\":\"BLOB_UNKNOWN\",\"message\":\"blob unknown to registry\",\"detail\":\"sha256:abc\"}]}\n"
        );
        let body = RegistryErrorEntry::new(ErrorCode::ManifestUnknown).body();
        assert_eq!(
            &body[..],
            b"{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"manifest unknown\"}]}\n"
        );
        let body = RegistryErrorEntry::new(ErrorCode::Unauthorized)
            .detail(Value::Null)
            .body();
        assert_eq!(
            &body[..],
            b"{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"authentication required\",\"detail\":null}]}\n"
        );
    }

    #[test]
    fn html_characters_are_escaped_like_go() {
        let body = go_json(&json!({"m": "<a&b>"}));
        assert_eq!(&body[..], b"{\"m\":\"\\u003ca\\u0026b\\u003e\"}\n");
        let round: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(round["m"], "<a&b>");
    }

    #[test]
    fn statuses_follow_register_go() {
        assert_eq!(ErrorCode::Unsupported.status(), 405);
        assert_eq!(ErrorCode::Unauthorized.status(), 401);
        assert_eq!(ErrorCode::Denied.status(), 403);
        assert_eq!(ErrorCode::NameUnknown.status(), 404);
        assert_eq!(ErrorCode::DigestInvalid.status(), 400);
    }
}
